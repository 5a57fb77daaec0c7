package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.testkit.upstream.Behaviour;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Before moving to the next endpoint, a lost connection, a 5xx or a timeout is retried on the same one. */
class RetryTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream()
            .set("routing", "retries", 2).set("routing", "retry_backoff_ms", 20).build();

    CorouterNode.Account account;

    @BeforeEach
    void freshAccount() {
        account = NODE.newAccount("1.00");
        NODE.upstream().reset().requireApiKey("sk-upstream-test");
        NODE.admin("POST", "/admin/endpoints/reset", null, 200);
    }

    static JsonObject chat() {
        return new JsonObject().put("model", CorouterNode.FAKE_MODEL).put("max_tokens", 50)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hi")));
    }

    @Test
    void aTransientFailureIsRetriedWithBackOffAndTheRetryServes() {
        NODE.upstream().enqueue(Behaviour.error(500), Behaviour.normal().resetAfter(0));
        HttpResponse<String> response = NODE.chat(account.key(), chat());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(NODE.upstream().requestCount()).isEqualTo(3);
        NODE.flushUsage();
        JsonArray attempts = new JsonObject(NODE.get("/v1/generation?id=" + response.headers()
                .firstValue("X-Generation-Id").orElseThrow(), account.key()).body()).getJsonObject("data")
                .getJsonArray("provider_responses");
        assertThat(attempts).extracting(a -> ((JsonObject) a).getInteger("status")).containsExactly(502, 502, 200);
    }

    @Test
    void retriesStopAtTheirLimitAndTheLastFailureIsTheAnswer() {
        NODE.upstream().behave(Behaviour.error(500));
        HttpResponse<String> response = NODE.chat(account.key(), chat());
        ChatCompletionsTest.assertError(response, 502);
        assertThat(NODE.upstream().requestCount()).as("one call and two retries").isEqualTo(3);
    }

    @Test
    void aRateLimitOrAClientErrorIsNotRetriedOnTheSameEndpoint() {
        NODE.upstream().enqueue(Behaviour.error(429));
        ChatCompletionsTest.assertError(NODE.chat(account.key(), chat()), 429);
        NODE.upstream().enqueue(Behaviour.error(400));
        ChatCompletionsTest.assertError(NODE.chat(account.key(), chat()), 400);
        assertThat(NODE.upstream().requestCount()).isEqualTo(2);
    }
}
