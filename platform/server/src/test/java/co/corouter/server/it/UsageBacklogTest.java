package co.corouter.server.it;

import static co.corouter.server.it.ChatCompletionsTest.assertError;
import static co.corouter.server.it.ChatCompletionsTest.hello;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** When usage records cannot be written as fast as requests finish, the node sheds load instead of piling them up. */
class UsageBacklogTest {

    /** Metering here writes only when told to (batch 10,000, every 60 s): the backlog grows with every request. */
    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder()
            .set("metering", "batch_size", 10_000)
            .set("metering", "flush_interval_ms", 60_000)
            .set("metering", "max_backlog", 1_000)
            .build();

    @Test
    void aFullUsageBacklogRefusesNewRequestsWith503UntilItIsWritten() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        for (int i = 0; i < 1_000; i++) {
            assertThat(NODE.chat(account.key(), hello(false)).statusCode()).isEqualTo(200);
        }
        HttpResponse<String> refused = NODE.chat(account.key(), hello(false));
        assertError(refused, 503);

        NODE.flushUsage();
        assertThat(NODE.chat(account.key(), hello(false)).statusCode()).isEqualTo(200);
        NODE.flushUsage();
        long rows = NODE.sql("SELECT count(*) FROM generations WHERE account_id = $1 AND status = 200", account.id())
                .iterator().next().getLong(0);
        assertThat(rows).isEqualTo(1_001);
        NODE.assertLedgerBalances();
    }
}
