package co.corouter.testkit.upstream;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
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

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class FakeOpenAiEmbeddingsTest {

    @RegisterExtension
    static final FakeOpenAiUpstreamExtension UPSTREAM = new FakeOpenAiUpstreamExtension();

    private HttpClient client;

    @BeforeEach
    void createClient(Vertx vertx) {
        client = vertx.createHttpClient();
    }

    @Test
    void answersOneDeterministicUnitVectorPerInputInOpenAisShape(FakeOpenAiUpstream upstream,
                                                                 VertxTestContext testContext) {
        JsonObject request = new JsonObject().put("model", "text-embedding-3-small")
                .put("input", new JsonArray().add("hello world").add("a b c"));

        post(upstream, request).onComplete(testContext.succeeding(response -> testContext.verify(() -> {
            assertThat(response.statusCode()).isEqualTo(200);
            JsonObject answer = response.body;
            assertThat(answer.getString("object")).isEqualTo("list");
            assertThat(answer.getString("model")).isEqualTo("text-embedding-3-small");
            JsonArray data = answer.getJsonArray("data");
            assertThat(data).hasSize(2);
            assertThat(data.getJsonObject(1).getInteger("index")).isEqualTo(1);
            assertThat(data.getJsonObject(1).getString("object")).isEqualTo("embedding");
            float[] second = floats(data.getJsonObject(1).getJsonArray("embedding"));
            assertThat(second).containsExactly(FakeEmbeddings.vector("a b c", FakeEmbeddings.DEFAULT_DIMENSIONS));
            assertThat(norm(second)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
            assertThat(answer.getJsonObject("usage").getMap())
                    .containsEntry("prompt_tokens", 5).containsEntry("total_tokens", 5);
            assertThat(upstream.lastRequest().path()).isEqualTo("/v1/embeddings");
            testContext.completeNow();
        })));
    }

    @Test
    void honoursDimensionsAndBase64Encoding(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        JsonObject request = new JsonObject().put("model", "m").put("input", "hello").put("dimensions", 3)
                .put("encoding_format", "base64");

        post(upstream, request).onComplete(testContext.succeeding(response -> testContext.verify(() -> {
            String encoded = response.body.getJsonArray("data").getJsonObject(0).getString("embedding");
            ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(encoded)).order(ByteOrder.LITTLE_ENDIAN);
            float[] vector = new float[bytes.remaining() / Float.BYTES];
            for (int i = 0; i < vector.length; i++) {
                vector[i] = bytes.getFloat();
            }
            assertThat(vector).containsExactly(FakeEmbeddings.vector("hello", 3));
            testContext.completeNow();
        })));
    }

    @Test
    void rejectsAnEmptyInputWith400(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        post(upstream, new JsonObject().put("model", "m").put("input", ""))
                .onComplete(testContext.succeeding(response -> testContext.verify(() -> {
                    assertThat(response.statusCode()).isEqualTo(400);
                    assertThat(response.body.getJsonObject("error").getString("type"))
                            .isEqualTo("invalid_request_error");
                    testContext.completeNow();
                })));
    }

    @Test
    void playsScriptedErrorsAndOmitsUsageOnRequest(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        upstream.enqueue(Behaviour.error(429), Behaviour.normal().omitUsage());
        JsonObject request = new JsonObject().put("model", "m").put("input", "hello");

        post(upstream, request).compose(first -> post(upstream, request).map(second -> List.of(first, second)))
                .onComplete(testContext.succeeding(answers -> testContext.verify(() -> {
                    assertThat(answers.get(0).statusCode()).isEqualTo(429);
                    assertThat(answers.get(0).retryAfter).isEqualTo("1");
                    assertThat(answers.get(1).statusCode()).isEqualTo(200);
                    assertThat(answers.get(1).body.containsKey("usage")).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void choosesTheBehaviourByModel(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        upstream.behaveFor("broken-embedder", Behaviour.error(503));

        post(upstream, new JsonObject().put("model", "broken-embedder").put("input", "x"))
                .onComplete(testContext.succeeding(response -> testContext.verify(() -> {
                    assertThat(response.statusCode()).isEqualTo(503);
                    testContext.completeNow();
                })));
    }

    private record Answer(int statusCode, JsonObject body, String retryAfter) {
    }

    private Future<Answer> post(FakeOpenAiUpstream upstream, JsonObject body) {
        return client.request(new RequestOptions().setMethod(HttpMethod.POST)
                        .setAbsoluteURI(upstream.baseUrl() + "/embeddings"))
                .compose(request -> request.send(body.toBuffer()))
                .compose((HttpClientResponse response) -> response.body().map(bytes -> new Answer(
                        response.statusCode(), new JsonObject(bytes), response.getHeader("Retry-After"))));
    }

    private static float[] floats(JsonArray values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) values.getValue(i)).floatValue();
        }
        return out;
    }

    private static double norm(float[] vector) {
        double sum = 0;
        for (float v : vector) {
            sum += v * v;
        }
        return Math.sqrt(sum);
    }
}
