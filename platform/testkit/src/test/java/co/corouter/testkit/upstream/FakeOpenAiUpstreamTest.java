package co.corouter.testkit.upstream;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class FakeOpenAiUpstreamTest {

    @RegisterExtension
    static final FakeOpenAiUpstreamExtension UPSTREAM = new FakeOpenAiUpstreamExtension();

    private HttpClient client;

    @BeforeEach
    void createClient(Vertx vertx) {
        client = vertx.createHttpClient();
    }

    @Test
    void answersAWholeCompletionInOpenAiShape(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().content("Hi!").promptTokens(3));

        post(upstream, request(false).put("max_tokens", 17)).onComplete(testContext.succeeding(body ->
                testContext.verify(() -> {
                    JsonObject completion = new JsonObject(body);
                    assertThat(completion.getString("object")).isEqualTo("chat.completion");
                    assertThat(completion.getString("model")).isEqualTo("gpt-test");
                    JsonObject choice = completion.getJsonArray("choices").getJsonObject(0);
                    assertThat(choice.getJsonObject("message").getString("content")).isEqualTo("Hi!");
                    assertThat(choice.getString("finish_reason")).isEqualTo("stop");
                    assertThat(completion.getJsonObject("usage").getMap())
                            .containsEntry("prompt_tokens", 3).containsEntry("completion_tokens", 17)
                            .containsEntry("total_tokens", 20);
                    assertThat(upstream.requestCount()).isEqualTo(1);
                    assertThat(upstream.lastRequest().authorization()).isEqualTo("Bearer sk-test");
                    testContext.completeNow();
                })));
    }

    @Test
    void streamsRoleContentFinishUsageAndDone(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().content("abcdef").chunks(3).completionTokens(4));
        JsonObject request = request(true).put("stream_options", new JsonObject().put("include_usage", true));

        post(upstream, request).onComplete(testContext.succeeding(body -> testContext.verify(() -> {
            List<String> events = Arrays.asList(body.toString().split("\n\n"));
            assertThat(events).hasSize(7).last().isEqualTo("data: [DONE]");
            List<JsonObject> chunks = events.subList(0, 6).stream()
                    .map(e -> new JsonObject(e.substring("data: ".length()))).toList();
            assertThat(chunks).allSatisfy(c -> assertThat(c.getString("object")).isEqualTo("chat.completion.chunk"));
            assertThat(chunks.get(0).getJsonArray("choices").getJsonObject(0).getJsonObject("delta")
                    .getString("role")).isEqualTo("assistant");
            assertThat(chunks.subList(1, 4)).extracting(c -> c.getJsonArray("choices").getJsonObject(0)
                    .getJsonObject("delta").getString("content")).containsExactly("ab", "cd", "ef");
            assertThat(chunks.get(4).getJsonArray("choices").getJsonObject(0).getString("finish_reason"))
                    .isEqualTo("stop");
            assertThat(chunks.subList(0, 5)).allSatisfy(c -> assertThat(c.containsKey("usage")).isTrue());
            assertThat(chunks.get(5).getJsonArray("choices")).isEmpty();
            assertThat(chunks.get(5).getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(4);
            testContext.completeNow();
        })));
    }

    @Test
    void playsQueuedBehavioursBeforeTheDefault(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        upstream.enqueue(Behaviour.error(503), Behaviour.error(429));

        status(upstream).compose(first -> status(upstream).map(second -> List.of(first, second)))
                .compose(firstTwo -> status(upstream).map(third -> List.of(firstTwo.get(0), firstTwo.get(1), third)))
                .onComplete(testContext.succeeding(statuses -> testContext.verify(() -> {
                    assertThat(statuses).containsExactly(503, 429, 200);
                    assertThat(upstream.requests()).hasSize(3);
                    testContext.completeNow();
                })));
    }

    @Test
    void rejectsAWrongApiKeyWith401(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        upstream.requireApiKey("sk-other");

        status(upstream).onComplete(testContext.succeeding(status -> testContext.verify(() -> {
            assertThat(status).isEqualTo(401);
            testContext.completeNow();
        })));
    }

    private Future<Buffer> post(FakeOpenAiUpstream upstream, JsonObject body) {
        return send(upstream, body).compose(HttpClientResponse::body);
    }

    private Future<Integer> status(FakeOpenAiUpstream upstream) {
        return send(upstream, request(false))
                .compose(response -> response.body().map(ignored -> response.statusCode()));
    }

    private Future<HttpClientResponse> send(FakeOpenAiUpstream upstream, JsonObject body) {
        return client.request(new RequestOptions().setMethod(HttpMethod.POST)
                        .setAbsoluteURI(upstream.baseUrl() + "/chat/completions")
                        .putHeader("Authorization", "Bearer sk-test"))
                .compose(request -> request.send(body.toBuffer()));
    }

    private static JsonObject request(boolean stream) {
        return new JsonObject().put("model", "gpt-test").put("stream", stream)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
    }
}
