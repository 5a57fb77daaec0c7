package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.server.common.Money;
import co.corouter.testkit.gemini.GeminiBehaviour;
import co.corouter.testkit.upstream.Behaviour;
import co.corouter.testkit.upstream.FakeEmbeddings;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.errors.BadRequestException;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code POST /v1/embeddings} in OpenAI's shape, served by an OpenAI-compatible upstream and by Gemini's
 * batchEmbedContents: the official OpenAI SDK gets the upstream's vectors (floats or base64), usage with its cost, and
 * behind each answer a usage row of kind {@code embeddings} and a ledger debit at the model's prompt price.
 */
class EmbeddingsApiTest {

    static final String OPENAI_EMBED = "openai/embed-fake";
    static final String GEMINI_EMBED = "google/embed-fake";
    static final Encoding O200K = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.O200K_BASE);

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream().withFakeGemini("gemini")
            .model(new JsonObject().put("id", OPENAI_EMBED).put("type", "embedding").put("provider", "fake")
                    .put("upstream_model", "text-embedding-fake").put("context_length", 8192)
                    .put("pricing", new JsonObject().put("prompt_per_million", "0.13")))
            .model(new JsonObject().put("id", GEMINI_EMBED).put("type", "embedding").put("provider", "gemini")
                    .put("upstream_model", "gemini-embedding-fake").put("context_length", 2048)
                    .put("pricing", new JsonObject().put("prompt_per_million", "0.15")))
            .build();

    private CorouterNode.Account account;
    private OpenAIClient openai;

    @BeforeEach
    void connect() {
        account = NODE.newAccount("1.00");
        NODE.upstream().reset().requireApiKey("sk-upstream-test");
        NODE.gemini("gemini").reset().requireApiKey("sk-upstream-test");
        NODE.admin("POST", "/admin/endpoints/reset", null, 200);
        openai = OpenAIOkHttpClient.builder().apiKey(account.key()).baseUrl(NODE.baseUrl()).maxRetries(0).build();
    }

    @AfterEach
    void close() {
        openai.close();
    }

    private static long nanos(long tokens, String usdPerMillion) {
        return Money.cost(tokens, Money.parseUsd(usdPerMillion, "price"), 0, 0);
    }

    private static List<Float> floats(float[] vector) {
        List<Float> list = new ArrayList<>(vector.length);
        for (float v : vector) {
            list.add(v);
        }
        return list;
    }

    @Test
    void theOpenAiSdkGetsTheUpstreamsVectorsAndUsageWithItsCostAndTheLedgerIsDebited() {
        List<String> inputs = List.of("the first text", "and a second, longer text to embed");
        CreateEmbeddingResponse response;
        String generationId;
        try (HttpResponseFor<CreateEmbeddingResponse> raw = openai.embeddings().withRawResponse().create(
                EmbeddingCreateParams.builder().model(OPENAI_EMBED).inputOfArrayOfStrings(inputs).dimensions(16)
                        .build())) {
            assertThat(raw.statusCode()).isEqualTo(200);
            generationId = raw.headers().values("X-Generation-Id").get(0);
            response = raw.parse();
        }

        assertThat(response.data()).hasSize(2);
        for (int i = 0; i < inputs.size(); i++) {
            assertThat(response.data().get(i).index()).isEqualTo(i);
            assertThat(response.data().get(i).embedding()).as("the upstream's vector, bit for bit")
                    .containsExactlyElementsOf(floats(FakeEmbeddings.vector(inputs.get(i), 16)));
        }
        int tokens = FakeEmbeddings.tokens(inputs.get(0)) + FakeEmbeddings.tokens(inputs.get(1));
        assertThat(response.usage().promptTokens()).isEqualTo(tokens);
        assertThat(response.model()).isEqualTo(OPENAI_EMBED);
        JsonObject sent = NODE.upstream().lastRequest().body();
        assertThat(NODE.upstream().lastRequest().path()).isEqualTo("/v1/embeddings");
        assertThat(sent.getString("model")).isEqualTo("text-embedding-fake");
        assertThat(sent.getJsonArray("input")).containsExactlyElementsOf(inputs);
        assertThat(sent.getInteger("dimensions")).isEqualTo(16);

        NODE.flushUsage();
        long debit = NODE.chargeFor(generationId);
        assertThat(debit).isEqualTo(nanos(tokens, "0.13"));
        BigDecimal reported = new BigDecimal(response.usage()._additionalProperties().get("cost").toString());
        assertThat(reported).isEqualByComparingTo(Money.toUsd(debit));
        assertThat(NODE.sql("SELECT prompt_tokens, completion_tokens, api, provider, streamed FROM generations "
                + "WHERE id = $1", generationId).iterator().next().toJson().encode())
                .isEqualTo("{\"prompt_tokens\":" + tokens + ",\"completion_tokens\":0,\"api\":\"embeddings\","
                        + "\"provider\":\"fake\",\"streamed\":false}");
        assertThat(NODE.awaitGeneration(generationId).getBoolean("usage_estimated")).as("the upstream's own count")
                .isFalse();
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD - debit);
        NODE.assertLedgerBalances();
    }

    @Test
    void floatAndBase64EncodingsCarryTheSameLittleEndianFloats() {
        JsonObject body = new JsonObject().put("model", OPENAI_EMBED).put("input", "hello embeddings");
        JsonObject asFloats = new JsonObject(NODE.send(post(body.copy().put("encoding_format", "float"))).body());
        JsonObject asBase64 = new JsonObject(NODE.send(post(body.copy().put("encoding_format", "base64"))).body());

        JsonArray numbers = asFloats.getJsonArray("data").getJsonObject(0).getJsonArray("embedding");
        ByteBuffer bytes = ByteBuffer.wrap(Base64.getDecoder().decode(asBase64.getJsonArray("data").getJsonObject(0)
                .getString("embedding"))).order(ByteOrder.LITTLE_ENDIAN);
        float[] expected = FakeEmbeddings.vector("hello embeddings", FakeEmbeddings.DEFAULT_DIMENSIONS);
        assertThat(numbers).hasSize(expected.length);
        assertThat(bytes.remaining()).isEqualTo(expected.length * Float.BYTES);
        for (int i = 0; i < expected.length; i++) {
            assertThat(numbers.getNumber(i).floatValue()).isEqualTo(expected[i]);
            assertThat(bytes.getFloat()).isEqualTo(expected[i]);
        }
        assertThat(asFloats.getString("object")).isEqualTo("list");
        assertThat(asFloats.getJsonArray("data").getJsonObject(0).getString("object")).isEqualTo("embedding");
        NODE.flushUsage();
        assertThat(NODE.usageRows(account.id())).isEqualTo(2);
        NODE.assertLedgerBalances();
    }

    @Test
    void geminiEmbedsThroughBatchEmbedContentsAndItsUnreportedUsageIsCountedByCorouter() {
        List<String> inputs = List.of("Gemini, embed me", "and me too, with some more words");
        CreateEmbeddingResponse response;
        String generationId;
        try (HttpResponseFor<CreateEmbeddingResponse> raw = openai.embeddings().withRawResponse().create(
                EmbeddingCreateParams.builder().model(GEMINI_EMBED).inputOfArrayOfStrings(inputs).dimensions(12)
                        .build())) {
            generationId = raw.headers().values("X-Generation-Id").get(0);
            response = raw.parse();
        }

        for (int i = 0; i < inputs.size(); i++) {
            assertThat(response.data().get(i).embedding())
                    .containsExactlyElementsOf(floats(FakeEmbeddings.vector(inputs.get(i), 12)));
        }
        var sent = NODE.gemini("gemini").lastRequest();
        assertThat(sent.path()).isEqualTo("/v1beta/models/gemini-embedding-fake:batchEmbedContents");
        JsonArray requests = sent.body().getJsonArray("requests");
        assertThat(requests).hasSize(2);
        assertThat(requests.getJsonObject(0).getString("model")).isEqualTo("models/gemini-embedding-fake");
        assertThat(requests.getJsonObject(1).getInteger("outputDimensionality")).isEqualTo(12);

        int tokens = O200K.countTokens(inputs.get(0)) + O200K.countTokens(inputs.get(1));
        assertThat(response.usage().promptTokens()).as("Gemini reports none: corouter counts").isEqualTo(tokens);
        NODE.flushUsage();
        assertThat(NODE.chargeFor(generationId)).isEqualTo(nanos(tokens, "0.15"));
        var row = NODE.awaitGeneration(generationId);
        assertThat(row.getString("api")).isEqualTo("embeddings");
        assertThat(row.getBoolean("usage_estimated")).as("counted by corouter, so flagged").isTrue();
        NODE.assertLedgerBalances();
    }

    @Test
    void badRequestsWrongModelKindsAnEmptyWalletAndUpstreamFailuresCostNothing() {
        assertThatThrownBy(() -> openai.embeddings().create(EmbeddingCreateParams.builder()
                .model(CorouterNode.FAKE_MODEL).input("x").build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> assertThat(e.getMessage())
                        .contains("not an embedding model"));
        var chatToEmbedding = NODE.chat(account.key(), new JsonObject().put("model", OPENAI_EMBED)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi"))));
        assertThat(chatToEmbedding.statusCode()).isEqualTo(400);
        assertThat(chatToEmbedding.body()).contains("/v1/embeddings");
        for (JsonObject bad : List.of(new JsonObject().put("model", OPENAI_EMBED),
                new JsonObject().put("model", OPENAI_EMBED).put("input", new JsonArray()),
                new JsonObject().put("model", OPENAI_EMBED).put("input", new JsonArray().add(1).add(2)),
                new JsonObject().put("model", OPENAI_EMBED).put("input", "x").put("encoding_format", "int8"),
                new JsonObject().put("model", OPENAI_EMBED).put("input", "x").put("dimensions", 0))) {
            var response = NODE.send(post(bad));
            assertThat(response.statusCode()).as(bad.encode()).isEqualTo(400);
            assertThat(new JsonObject(response.body()).getJsonObject("error").getString("message")).isNotBlank();
        }

        NODE.upstream().behave(Behaviour.error(500));
        var failed = NODE.send(post(new JsonObject().put("model", OPENAI_EMBED).put("input", "x")));
        assertThat(failed.statusCode()).isEqualTo(502);
        NODE.gemini("gemini").behave(GeminiBehaviour.error(400));
        var refused = NODE.send(post(new JsonObject().put("model", GEMINI_EMBED).put("input", "x")));
        assertThat(refused.statusCode()).isEqualTo(400);
        NODE.flushUsage();
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD);

        CorouterNode.Account broke = NODE.newAccount("0");
        OpenAIClient poor = OpenAIOkHttpClient.builder().apiKey(broke.key()).baseUrl(NODE.baseUrl()).maxRetries(0)
                .build();
        try {
            int before = NODE.upstream().requestCount();
            assertThatThrownBy(() -> poor.embeddings().create(EmbeddingCreateParams.builder().model(OPENAI_EMBED)
                    .input("no credit").build()))
                    .isInstanceOfSatisfying(com.openai.errors.OpenAIServiceException.class,
                            e -> assertThat(e.statusCode()).isEqualTo(402));
            assertThat(NODE.upstream().requestCount()).as("no credit, no upstream call").isEqualTo(before);
        } finally {
            poor.close();
        }
        NODE.assertLedgerBalances();
    }

    private java.net.http.HttpRequest.Builder post(JsonObject body) {
        return java.net.http.HttpRequest.newBuilder(java.net.URI.create(NODE.baseUrl() + "/embeddings"))
                .header("Authorization", "Bearer " + account.key()).header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body.encode()));
    }
}
