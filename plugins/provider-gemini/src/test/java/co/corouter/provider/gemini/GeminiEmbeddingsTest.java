package co.corouter.provider.gemini;

import co.corouter.plugin.api.EmbeddingRequest;
import co.corouter.plugin.api.Embeddings;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import co.corouter.testkit.tck.Tokens;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GeminiEmbeddingsTest {

    private static final TokenCounter TOKENS = Tokens.counter();

    @Test
    void sendsOneEmbedContentRequestPerInputNamingTheModelAndTheDimensions() {
        JsonObject body = new JsonObject(GeminiEmbeddings.body(request(List.of("alpha", "beta"), 256)));

        assertThat(body.fieldNames()).containsExactly("requests");
        assertThat(body.getJsonArray("requests")).containsExactly(
                new JsonObject().put("model", "models/gemini-embedding-001").put("content", new JsonObject()
                        .put("parts", new JsonArray().add(new JsonObject().put("text", "alpha"))))
                        .put("outputDimensionality", 256),
                new JsonObject().put("model", "models/gemini-embedding-001").put("content", new JsonObject()
                        .put("parts", new JsonArray().add(new JsonObject().put("text", "beta"))))
                        .put("outputDimensionality", 256));
        assertThat(new JsonObject(GeminiEmbeddings.body(request(List.of("a"), 0))).getJsonArray("requests")
                .getJsonObject(0).containsKey("outputDimensionality")).isFalse();
    }

    @Test
    void readsTheVectorsInOrderAndCountsTheInputsAsGeminiReportsNoUsage() {
        JsonObject answer = new JsonObject().put("embeddings", new JsonArray()
                .add(new JsonObject().put("values", new JsonArray().add(0.5).add(-0.25)))
                .add(new JsonObject().put("values", new JsonArray().add(1).add(0))));

        Embeddings embeddings = GeminiEmbeddings.embeddings(200, answer.toBuffer(),
                request(List.of("hello world", "fox"), 0), TOKENS);

        assertThat(embeddings.vectors().get(0)).containsExactly(0.5f, -0.25f);
        assertThat(embeddings.vectors().get(1)).containsExactly(1f, 0f);
        assertThat(embeddings.usage()).isEqualTo(new Usage(TOKENS.count("hello world") + TOKENS.count("fox"), 0, 0,
                0, true));
    }

    @Test
    void takesACountWhenTheAnswerReportsOne() {
        JsonObject answer = new JsonObject().put("embeddings", new JsonArray()
                .add(new JsonObject().put("values", new JsonArray().add(1))
                        .put("statistics", new JsonObject().put("tokenCount", 4)))
                .add(new JsonObject().put("values", new JsonArray().add(1))
                        .put("statistics", new JsonObject().put("tokenCount", 3))));
        JsonObject withUsage = answer.copy().put("usageMetadata", new JsonObject().put("promptTokenCount", 9));

        assertThat(GeminiEmbeddings.embeddings(200, answer.toBuffer(), request(List.of("a", "b"), 0), TOKENS).usage())
                .isEqualTo(Usage.of(7, 0));
        assertThat(GeminiEmbeddings.embeddings(200, withUsage.toBuffer(), request(List.of("a", "b"), 0), TOKENS)
                .usage()).isEqualTo(Usage.of(9, 0));
    }

    @Test
    void refusesAnAnswerThatDoesNotMatchTheInputs() {
        JsonObject one = new JsonObject().put("embeddings", new JsonArray()
                .add(new JsonObject().put("values", new JsonArray().add(1))));
        JsonObject empty = new JsonObject().put("embeddings", new JsonArray()
                .add(new JsonObject().put("values", new JsonArray())));

        assertBadResponse(one.toBuffer(), List.of("a", "b"));
        assertBadResponse(empty.toBuffer(), List.of("a"));
        assertBadResponse(Buffer.buffer("{\"embeddings\": [{"), List.of("a"));
        assertBadResponse(Buffer.buffer("{}"), List.of("a"));
    }

    private static void assertBadResponse(Buffer answer, List<String> inputs) {
        assertThatThrownBy(() -> GeminiEmbeddings.embeddings(200, answer, request(inputs, 0), TOKENS))
                .isInstanceOfSatisfying(ProviderException.class,
                        e -> assertThat(e.kind()).isEqualTo(Kind.BAD_RESPONSE));
    }

    private static EmbeddingRequest request(List<String> inputs, int dimensions) {
        return new EmbeddingRequest("gen-1", "gemini-embedding-001", inputs, dimensions, null, 5_000,
                Promise.<Void>promise().future());
    }
}
