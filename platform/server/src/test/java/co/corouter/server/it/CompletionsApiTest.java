package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.server.common.Money;
import co.corouter.testkit.upstream.Behaviour;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The official OpenAI Java SDK against the legacy {@code /v1/completions}: a {@code prompt} served by a chat upstream,
 * whole and streamed, metered and billed like chat.
 */
class CompletionsApiTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream().build();

    private CorouterNode.Account account;
    private OpenAIClient client;

    @BeforeEach
    void connectTheSdk() {
        account = NODE.newAccount("1.00");
        NODE.upstream().reset().requireApiKey("sk-upstream-test");
        client = OpenAIOkHttpClient.builder().apiKey(account.key()).baseUrl(NODE.baseUrl()).maxRetries(0).build();
    }

    @AfterEach
    void closeTheSdk() {
        client.close();
    }

    @Test
    void aPromptIsAnsweredAsATextCompletionWithUsageAndTheLedgersCost() {
        NODE.upstream().behave(Behaviour.normal().content(" there was a router.").promptTokens(9).completionTokens(5)
                .finishReason("length"));
        Completion completion;
        String generationId;
        try (HttpResponseFor<Completion> response = client.completions().withRawResponse().create(
                CompletionCreateParams.builder().model(CorouterNode.FAKE_MODEL).prompt("Once upon a time").build())) {
            generationId = response.headers().values("X-Generation-Id").get(0);
            completion = response.parse();
        }

        assertThat(completion.id()).isEqualTo(generationId);
        assertThat(completion.model()).isEqualTo(CorouterNode.FAKE_MODEL);
        assertThat(completion._object_().toString()).contains("text_completion");
        CompletionChoice choice = completion.choices().get(0);
        assertThat(choice.text()).isEqualTo(" there was a router.");
        assertThat(choice.finishReason()).isEqualTo(CompletionChoice.FinishReason.LENGTH);
        CompletionUsage usage = completion.usage().orElseThrow();
        assertThat(usage.promptTokens()).isEqualTo(9);
        assertThat(usage.completionTokens()).isEqualTo(5);

        JsonObject upstream = NODE.upstream().lastRequest().body();
        assertThat(upstream.getJsonArray("messages")).containsExactly(
                new JsonObject().put("role", "user").put("content", "Once upon a time"));
        assertThat(upstream.getInteger("max_tokens")).as("OpenAI's default for completions").isEqualTo(16);
        assertThat(upstream.containsKey("prompt")).isFalse();

        NODE.flushUsage();
        long debit = NODE.chargeFor(generationId);
        assertThat(debit).isEqualTo(9 * 2_000L + 5 * 10_000L);
        assertThat(Money.toUsd(debit)).isEqualByComparingTo(cost(usage));
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD - debit);
        NODE.assertLedgerBalances();
    }

    @Test
    void aStreamedCompletionYieldsTextChunksThenTheUsageChunk() {
        NODE.upstream().behave(Behaviour.normal().content("a b c d").chunks(4).promptTokens(4).completionTokens(4));
        List<Completion> chunks;
        String generationId;
        try (HttpResponseFor<StreamResponse<Completion>> response = client.completions().withRawResponse()
                .createStreaming(CompletionCreateParams.builder().model(CorouterNode.FAKE_MODEL).prompt("letters")
                        .maxTokens(50).build());
                StreamResponse<Completion> stream = response.parse()) {
            generationId = response.headers().values("X-Generation-Id").get(0);
            chunks = stream.stream().toList();
        }

        StringBuilder text = new StringBuilder();
        chunks.forEach(chunk -> chunk.choices().forEach(c -> text.append(c.text())));
        assertThat(text.toString()).isEqualTo("a b c d");
        assertThat(chunks).allSatisfy(chunk -> assertThat(chunk.id()).isEqualTo(generationId));
        Completion last = chunks.get(chunks.size() - 1);
        assertThat(last.choices()).isEmpty();
        CompletionUsage usage = last.usage().orElseThrow();
        assertThat(usage.completionTokens()).isEqualTo(4);
        assertThat(NODE.upstream().lastRequest().body().getInteger("max_tokens")).isEqualTo(50);

        NODE.flushUsage();
        assertThat(Money.toUsd(NODE.chargeFor(generationId))).isEqualByComparingTo(cost(usage));
        NODE.assertLedgerBalances();
    }

    @Test
    void whatAChatModelCannotDoIsA400BeforeTheUpstream() {
        assertThatThrownBy(() -> client.completions().create(CompletionCreateParams.builder()
                .model(CorouterNode.FAKE_MODEL).prompt("x").suffix("y").build()))
                .isInstanceOfSatisfying(BadRequestException.class,
                        e -> assertThat(e.getMessage()).contains("'suffix' is not supported"));
        assertThat(NODE.upstream().requestCount()).isZero();
        NODE.flushUsage();
        assertThat(NODE.usageRows(account.id())).isZero();
    }

    private static BigDecimal cost(CompletionUsage usage) {
        JsonValue cost = usage._additionalProperties().get("cost");
        assertThat(cost).as("usage.cost reaches the SDK").isNotNull();
        return new BigDecimal(cost.convert(BigDecimal.class).toPlainString());
    }
}
