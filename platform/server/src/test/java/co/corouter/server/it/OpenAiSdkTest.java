package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.common.Money;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The official OpenAI Java SDK, pointed at a node, reads its answers, usage and cost like OpenAI's own. */
class OpenAiSdkTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().build();

    private CorouterNode.Account account;
    private OpenAIClient client;

    @BeforeEach
    void connectTheSdk() {
        account = NODE.newAccount("1.00");
        // no retries: a failure must show as a failure, not be papered over by the SDK
        client = OpenAIOkHttpClient.builder().apiKey(account.key()).baseUrl(NODE.baseUrl()).maxRetries(0).build();
    }

    @AfterEach
    void closeTheSdk() {
        client.close();
    }

    private static ChatCompletionCreateParams.Builder hello() {
        return ChatCompletionCreateParams.builder().model(CorouterNode.MOCK_MODEL).addUserMessage("Hello from the SDK");
    }

    @Test
    void aWholeCompletionParsesWithContentUsageAndACostEqualToTheLedgerDebit() {
        ChatCompletion completion;
        String generationId;
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse()
                .create(hello().build())) {
            assertThat(response.statusCode()).isEqualTo(200);
            generationId = single(response.headers().values("X-Generation-Id"));
            completion = response.parse();
        }

        assertThat(completion.id()).isEqualTo(generationId);
        assertThat(completion.model()).isEqualTo(CorouterNode.MOCK_MODEL);
        assertThat(completion.choices()).hasSize(1);
        assertThat(completion.choices().get(0).message().content().orElseThrow()).isNotBlank();
        CompletionUsage usage = completion.usage().orElseThrow();
        assertThat(usage.promptTokens()).isPositive();
        assertThat(usage.completionTokens()).isPositive();
        assertThat(usage.totalTokens()).isEqualTo(usage.promptTokens() + usage.completionTokens());
        BigDecimal cost = cost(usage);
        assertThat(cost).isPositive();

        NODE.flushUsage();
        long debit = NODE.chargeFor(generationId);
        assertThat(Money.toUsd(debit)).isEqualByComparingTo(cost);
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD - debit);
        assertThat(NODE.sql("SELECT prompt_tokens, completion_tokens, streamed FROM generations WHERE id = $1",
                generationId).iterator().next().toJson().encode())
                .isEqualTo("{\"prompt_tokens\":" + usage.promptTokens() + ",\"completion_tokens\":"
                        + usage.completionTokens() + ",\"streamed\":false}");
        NODE.assertLedgerBalances();
    }

    @Test
    void aStreamYieldsChunksWhoseTextIsTheAnswerAndWhoseLastChunkCarriesUsageAndCost() {
        ChatCompletionCreateParams params = hello()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        String generationId;
        List<ChatCompletionChunk> chunks;
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = client.chat().completions()
                .withRawResponse().createStreaming(params);
                StreamResponse<ChatCompletionChunk> stream = response.parse()) {
            assertThat(response.statusCode()).isEqualTo(200);
            generationId = single(response.headers().values("X-Generation-Id"));
            chunks = stream.stream().toList();
        }

        assertThat(chunks).hasSizeGreaterThan(1);
        assertThat(chunks).allSatisfy(chunk -> assertThat(chunk.id()).isEqualTo(generationId));
        StringBuilder text = new StringBuilder();
        chunks.forEach(chunk -> chunk.choices().forEach(c -> c.delta().content().ifPresent(text::append)));
        assertThat(text.toString()).isNotBlank();
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertThat(last.choices()).isEmpty();
        CompletionUsage usage = last.usage().orElseThrow();
        assertThat(usage.totalTokens()).isEqualTo(usage.promptTokens() + usage.completionTokens());
        assertThat(usage.completionTokens()).isPositive();
        assertThat(chunks.subList(0, chunks.size() - 1)).allSatisfy(c -> assertThat(c.usage()).isEmpty());

        // the SDK's whole answer to the same question is the same text: the stream lost nothing
        ChatCompletion whole = client.chat().completions().create(hello().build());
        assertThat(whole.choices().get(0).message().content()).contains(text.toString());

        NODE.flushUsage();
        BigDecimal cost = cost(usage);
        assertThat(cost).isPositive();
        assertThat(Money.toUsd(NODE.chargeFor(generationId))).isEqualByComparingTo(cost);
        assertThat(NODE.sql("SELECT streamed, status FROM generations WHERE id = $1", generationId)
                .iterator().next().toJson().encode()).isEqualTo("{\"streamed\":true,\"status\":200}");
        NODE.assertLedgerBalances();
    }

    /** corouter's {@code usage.cost} is not in OpenAI's schema: the SDK keeps it as an additional property. */
    private static BigDecimal cost(CompletionUsage usage) {
        JsonValue cost = usage._additionalProperties().get("cost");
        assertThat(cost).as("usage.cost reaches the SDK").isNotNull();
        return new BigDecimal(cost.convert(BigDecimal.class).toPlainString());
    }

    private static String single(List<String> values) {
        assertThat(values).hasSize(1);
        return values.get(0);
    }
}
