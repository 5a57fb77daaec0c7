package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Concurrent requests can never overdraw an account, and the upstream is never called for a refused one. */
class ConcurrencyTest {

    /** 100 completion tokens at $10 per million = $0.001 per request, nothing for the prompt. */
    static final String MODEL = "fake/exact";

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder()
            .withFakeUpstream()
            .model(new JsonObject().put("id", MODEL).put("provider", "fake").put("upstream_model", "gpt-exact")
                    .put("context_length", 8192).put("max_output_tokens", 1000)
                    .put("pricing", new JsonObject().put("prompt_per_million", "0")
                            .put("completion_per_million", "10.00")))
            .build();

    @Test
    void thousandConcurrentRequestsAgainstCreditForExactlyHundredLetExactlyHundredThrough() throws Exception {
        CorouterNode.Account account = NODE.newAccount("0.100");
        NODE.upstream().reset();
        String body = new JsonObject().put("model", MODEL).put("max_tokens", 100)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "count")))
                .encode();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            calls.add(client.sendAsync(HttpRequest.newBuilder(URI.create(NODE.baseUrl() + "/chat/completions"))
                    .header("Authorization", "Bearer " + account.key())
                    .header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);

        int ok = 0;
        int refused = 0;
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            HttpResponse<String> response = call.get();
            if (response.statusCode() == 200) {
                ok++;
                assertThat(new JsonObject(response.body()).getJsonObject("usage").getValue("cost").toString())
                        .isEqualTo("0.001");
            } else {
                assertThat(response.statusCode()).as(response.body()).isEqualTo(402);
                refused++;
            }
        }
        assertThat(ok).isEqualTo(100);
        assertThat(refused).isEqualTo(900);
        assertThat(NODE.upstream().requestCount()).isEqualTo(100);

        NODE.flushUsage();
        assertThat(NODE.balance(account.id())).isZero();
        assertThat(NODE.ledgerBalance(account.id())).isZero();
        long charges = NODE.sql("SELECT count(*) FROM ledger_transactions WHERE account_id = $1 AND kind = 'charge'",
                account.id()).iterator().next().getLong(0);
        assertThat(charges).isEqualTo(100);
        long rows = NODE.sql("SELECT count(*) FROM generations WHERE account_id = $1 AND status = 200", account.id())
                .iterator().next().getLong(0);
        assertThat(rows).isEqualTo(100);
        NODE.assertLedgerBalances();
    }
}
