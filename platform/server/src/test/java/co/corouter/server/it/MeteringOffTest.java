package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code metering.enabled: false}, the benchmark switch for the money-path comparison: requests are still
 * authenticated and served, and nothing is reserved, charged or recorded.
 */
class MeteringOffTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().set("metering", "enabled", false).build();

    @Test
    void aRequestIsServedWithoutReservationChargeOrUsageRow() {
        CorouterNode.Account account = NODE.newAccount("0.000001");
        long ledgerRows = NODE.sql("SELECT count(*) FROM ledger_entries").iterator().next().getLong(0);

        HttpResponse<String> response = NODE.chat(account.key(), new JsonObject()
                .put("model", CorouterNode.MOCK_MODEL).put("max_tokens", 500)
                .put("messages", new io.vertx.core.json.JsonArray()
                        .add(new JsonObject().put("role", "user").put("content", "hello"))));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        NODE.flushUsage();
        assertThat(NODE.sql("SELECT count(*) FROM generations WHERE account_id = $1", account.id()).iterator().next()
                .getLong(0)).isZero();
        assertThat(NODE.sql("SELECT count(*) FROM ledger_entries").iterator().next().getLong(0)).isEqualTo(ledgerRows);
        assertThat(NODE.balance(account.id())).isEqualTo(1_000);
        assertThat(NODE.chat("sk-cr-v1-notakey0000000000000000000000000000000000", new JsonObject()
                .put("model", CorouterNode.MOCK_MODEL)).statusCode()).as("keys are still checked").isEqualTo(401);
    }
}
