package co.corouter.provider.openai;

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

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OpenAiEmbeddingsTest {

    private static final TokenCounter TOKENS = Tokens.counter();

    @Test
    void theUpstreamBodyNamesTheUpstreamModelAsksForFloatsAndKeepsTheRest() {
        JsonObject client = new JsonObject().put("model", "public/embedder").put("input", new JsonArray().add("a"))
                .put("dimensions", 256).put("encoding_format", "base64").put("user", "u-1")
                .put("provider", new JsonObject().put("sort", "price"));

        JsonObject sent = new JsonObject(OpenAiEmbeddings.body(request(client, List.of("a"), 256)));

        assertThat(sent.getMap()).containsOnlyKeys("model", "encoding_format", "input", "dimensions", "user");
        assertThat(sent.getString("model")).isEqualTo("text-embedding-3-small");
        assertThat(sent.getString("encoding_format")).as("the host encodes base64 itself").isEqualTo("float");
        assertThat(sent.getJsonArray("input")).containsExactly("a");
        assertThat(sent.getInteger("dimensions")).isEqualTo(256);
        assertThat(sent.getString("user")).isEqualTo("u-1");
    }

    @Test
    void aRequestWithoutTheClientsBytesIsBuiltFromItsInputsAndDimensions() {
        EmbeddingRequest request = new EmbeddingRequest("gen-1", "m\"odel", List.of("x", "y"), 4, null, 5_000,
                Promise.<Void>promise().future());

        JsonObject sent = new JsonObject(OpenAiEmbeddings.body(request));

        assertThat(sent.getString("model")).isEqualTo("m\"odel");
        assertThat(sent.getJsonArray("input")).containsExactly("x", "y");
        assertThat(sent.getInteger("dimensions")).isEqualTo(4);
    }

    @Test
    void readsTheVectorsInIndexOrderAndTheReportedPromptTokens() {
        JsonObject answer = new JsonObject().put("object", "list")
                .put("data", new JsonArray()
                        .add(new JsonObject().put("index", 1).put("embedding", new JsonArray().add(0.5).add(-0.25)))
                        .add(new JsonObject().put("index", 0).put("embedding", new JsonArray().add(1).add(0))))
                .put("usage", new JsonObject().put("prompt_tokens", 7).put("total_tokens", 7));

        Embeddings embeddings = OpenAiEmbeddings.embeddings(200, answer.toBuffer(), request(List.of("a", "b")),
                TOKENS);

        assertThat(embeddings.vectors()).hasSize(2);
        assertThat(embeddings.vectors().get(0)).containsExactly(1f, 0f);
        assertThat(embeddings.vectors().get(1)).containsExactly(0.5f, -0.25f);
        assertThat(embeddings.usage()).isEqualTo(Usage.of(7, 0));
    }

    @Test
    void decodesABase64VectorFromAnUpstreamThatIgnoredTheFloatFormat() {
        ByteBuffer bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.75f).putFloat(-1f);
        JsonObject answer = new JsonObject().put("data", new JsonArray().add(new JsonObject().put("index", 0)
                .put("embedding", Base64.getEncoder().encodeToString(bytes.array()))));

        Embeddings embeddings = OpenAiEmbeddings.embeddings(200, answer.toBuffer(), request(List.of("a")), TOKENS);

        assertThat(embeddings.vectors().get(0)).containsExactly(0.75f, -1f);
    }

    @Test
    void countsTheInputsWhenTheUpstreamReportsNoUsage() {
        JsonObject answer = new JsonObject().put("data", new JsonArray()
                .add(new JsonObject().put("embedding", new JsonArray().add(1)))
                .add(new JsonObject().put("embedding", new JsonArray().add(1))));

        Embeddings embeddings = OpenAiEmbeddings.embeddings(200, answer.toBuffer(),
                request(List.of("hello world", " hello")), TOKENS);

        assertThat(embeddings.usage()).isEqualTo(new Usage(TOKENS.count("hello world") + 1, 0, 0, 0, true));
    }

    @Test
    void refusesAnAnswerWithMoreOrFewerVectorsThanInputs() {
        JsonObject answer = new JsonObject().put("data", new JsonArray()
                .add(new JsonObject().put("embedding", new JsonArray().add(1))));

        assertThatThrownBy(() -> OpenAiEmbeddings.embeddings(200, answer.toBuffer(), request(List.of("a", "b")),
                TOKENS))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.kind()).isEqualTo(Kind.BAD_RESPONSE))
                .hasMessageContaining("1 embeddings for 2 inputs");
    }

    @Test
    void refusesAnAnswerThatIsNotJsonOrHasNoData() {
        assertThatThrownBy(() -> OpenAiEmbeddings.embeddings(200, Buffer.buffer("{\"data\":[{"),
                request(List.of("a")), TOKENS))
                .isInstanceOfSatisfying(ProviderException.class,
                        e -> assertThat(e.kind()).isEqualTo(Kind.BAD_RESPONSE));
        assertThatThrownBy(() -> OpenAiEmbeddings.embeddings(200, Buffer.buffer("{\"object\":\"list\"}"),
                request(List.of("a")), TOKENS))
                .isInstanceOfSatisfying(ProviderException.class,
                        e -> assertThat(e.kind()).isEqualTo(Kind.BAD_RESPONSE));
    }

    private static EmbeddingRequest request(List<String> inputs) {
        JsonObject client = new JsonObject().put("model", "public/embedder").put("input", new JsonArray(inputs));
        return request(client, inputs, 0);
    }

    private static EmbeddingRequest request(JsonObject client, List<String> inputs, int dimensions) {
        return new EmbeddingRequest("gen-1", "text-embedding-3-small", inputs, dimensions, client.toBuffer(), 5_000,
                Promise.<Void>promise().future());
    }
}
