package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.server.common.Money;
import co.corouter.testkit.gemini.FakeGeminiUpstream;
import co.corouter.testkit.gemini.GeminiBehaviour;
import co.corouter.testkit.gemini.RecordedGeminiRequest;
import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.HttpResponseFor;
import com.openai.errors.RateLimitException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The gemini provider plugin behind a node, against the fake Gemini API: OpenAI-shaped chat translated to
 * generateContent and back (whole, streamed over SSE, function calls both ways), usageMetadata with cached and thoughts
 * tokens priced at the catalog's prices, safety blocks as {@code content_filter}, the error kinds, a cut-off stream
 * billed for what was delivered, and the Anthropic SDK on {@code /v1/messages} served by Gemini.
 */
class GeminiProviderTest {

    static final String GEMINI = "google/gemini-fake";

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeGemini("gemini")
            .model(new JsonObject().put("id", GEMINI).put("provider", "gemini").put("upstream_model", "gemini-fake-1")
                    .put("context_length", 1_000_000).put("max_output_tokens", 8192)
                    .put("pricing", new JsonObject().put("prompt_per_million", "0.30")
                            .put("completion_per_million", "2.50").put("input_cache_read_per_million", "0.03"))
                    .put("supported_parameters", new JsonArray().add("max_tokens").add("temperature").add("top_p")
                            .add("stop").add("tools").add("tool_choice").add("stream")))
            .build();

    private CorouterNode.Account account;
    private OpenAIClient openai;

    @BeforeEach
    void connect() {
        account = NODE.newAccount("1.00");
        gemini().reset().requireApiKey("sk-upstream-test");
        NODE.admin("POST", "/admin/endpoints/reset", null, 200);
        openai = OpenAIOkHttpClient.builder().apiKey(account.key()).baseUrl(NODE.baseUrl()).maxRetries(0).build();
    }

    @AfterEach
    void close() {
        openai.close();
    }

    private static FakeGeminiUpstream gemini() {
        return NODE.gemini("gemini");
    }

    private static long nanos(long tokens, String usdPerMillion) {
        return Money.cost(tokens, Money.parseUsd(usdPerMillion, "price"), 0, 0);
    }

    @Test
    void openAiChatBecomesGenerateContentAndUsageMetadataIsPricedWithCachedAndThoughtTokens() {
        gemini().behave(GeminiBehaviour.normal().content("Hallo!").promptTokens(1_000).cachedTokens(400)
                .thoughtsTokens(30).candidatesTokens(12));
        ChatCompletion completion;
        String generationId;
        try (HttpResponseFor<ChatCompletion> response = openai.chat().completions().withRawResponse().create(
                ChatCompletionCreateParams.builder().model(GEMINI).addSystemMessage("Answer in German.")
                        .addUserMessage("Hello").addAssistantMessage("Hallo.").addUserMessage("Again")
                        .maxCompletionTokens(500).temperature(0.2).stop("END").build())) {
            generationId = response.headers().values("X-Generation-Id").get(0);
            completion = response.parse();
        }

        assertThat(completion.choices().get(0).message().content()).contains("Hallo!");
        assertThat(completion.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
        assertThat(completion.model()).isEqualTo(GEMINI);
        var usage = completion.usage().orElseThrow();
        assertThat(usage.promptTokens()).isEqualTo(1_000);
        assertThat(usage.completionTokens()).as("visible output + thoughts, as Gemini bills them").isEqualTo(42);
        assertThat(usage.promptTokensDetails().orElseThrow().cachedTokens()).contains(400L);

        RecordedGeminiRequest sent = gemini().lastRequest();
        assertThat(sent.path()).isEqualTo("/v1beta/models/gemini-fake-1:generateContent");
        assertThat(sent.apiKey()).isEqualTo("sk-upstream-test");
        assertThat(sent.queryParam("key")).as("the key goes in a header, never in a URL that gets logged").isNull();
        JsonObject body = sent.body();
        assertThat(body.getJsonObject("systemInstruction").encode()).contains("Answer in German.");
        JsonArray contents = body.getJsonArray("contents");
        assertThat(contents.stream().map(c -> ((JsonObject) c).getString("role"))).containsExactly("user", "model",
                "user");
        assertThat(contents.getJsonObject(1).getJsonArray("parts").getJsonObject(0).getString("text"))
                .isEqualTo("Hallo.");
        JsonObject config = body.getJsonObject("generationConfig");
        assertThat(config.getInteger("maxOutputTokens")).isEqualTo(500);
        assertThat(config.getDouble("temperature")).isEqualTo(0.2);
        assertThat(config.getJsonArray("stopSequences")).containsExactly("END");

        NODE.flushUsage();
        long expected = nanos(600, "0.30") + nanos(400, "0.03") + nanos(42, "2.50");
        assertThat(NODE.chargeFor(generationId)).isEqualTo(expected);
        assertThat(NODE.sql("SELECT prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, provider, api "
                + "FROM generations WHERE id = $1", generationId).iterator().next().toJson().encode())
                .isEqualTo("{\"prompt_tokens\":1000,\"completion_tokens\":42,\"cached_tokens\":400,"
                        + "\"reasoning_tokens\":30,\"provider\":\"gemini\",\"api\":\"chat\"}");
        NODE.assertLedgerBalances();
    }

    @Test
    void aStreamIsForwardedEventByEventOverSseWithUsageAndCost() {
        gemini().behave(GeminiBehaviour.normal().content("one two three four five six").chunks(6).promptTokens(20)
                .candidatesTokens(6));
        StringBuilder text = new StringBuilder();
        int[] contentChunks = new int[1];
        long[] completionTokens = new long[1];
        String generationId;
        try (var response = openai.chat().completions().withRawResponse().createStreaming(
                ChatCompletionCreateParams.builder().model(GEMINI).addUserMessage("count").maxCompletionTokens(100)
                        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build());
                var stream = response.parse()) {
            generationId = response.headers().values("X-Generation-Id").get(0);
            stream.stream().forEach(chunk -> {
                assertThat(chunk.id()).isEqualTo(generationId);
                chunk.choices().forEach(c -> c.delta().content().filter(s -> !s.isEmpty()).ifPresent(s -> {
                    text.append(s);
                    contentChunks[0]++;
                }));
                chunk.usage().ifPresent(u -> completionTokens[0] = u.completionTokens());
            });
        }
        assertThat(text.toString()).isEqualTo("one two three four five six");
        assertThat(contentChunks[0]).as("one chunk per upstream event, not buffered").isEqualTo(6);
        assertThat(completionTokens[0]).isEqualTo(6);
        RecordedGeminiRequest sent = gemini().lastRequest();
        assertThat(sent.path()).isEqualTo("/v1beta/models/gemini-fake-1:streamGenerateContent");
        assertThat(sent.sse()).as("alt=sse").isTrue();

        NODE.flushUsage();
        assertThat(NODE.chargeFor(generationId)).isEqualTo(nanos(20, "0.30") + nanos(6, "2.50"));
        assertThat(NODE.awaitGeneration(generationId).getBoolean("streamed")).isTrue();
        NODE.assertLedgerBalances();
    }

    @Test
    void toolsGoOutAsFunctionDeclarationsAndFunctionCallsComeBackAsToolCallsThenAsFunctionResponses() {
        gemini().behave(GeminiBehaviour.normal().content("").functionCall("weather",
                new JsonObject().put("city", "Oslo")));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(GEMINI)
                .addUserMessage("Weather in Oslo?").addTool(weatherTool()).maxCompletionTokens(200).build();

        ChatCompletion whole = openai.chat().completions().create(params);
        ChatCompletionMessageToolCall call = whole.choices().get(0).message().toolCalls().orElseThrow().get(0);
        assertThat(call.asFunction().function().name()).isEqualTo("weather");
        assertThat(new JsonObject(call.asFunction().function().arguments()).getString("city")).isEqualTo("Oslo");
        assertThat(call.asFunction().id()).isNotBlank();
        assertThat(whole.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        JsonObject declaration = gemini().lastRequest().body().getJsonArray("tools").getJsonObject(0)
                .getJsonArray("functionDeclarations").getJsonObject(0);
        assertThat(declaration.getString("name")).isEqualTo("weather");
        assertThat(declaration.encode()).contains("\"city\"");

        StringBuilder arguments = new StringBuilder();
        String[] finish = new String[1];
        try (var stream = openai.chat().completions().createStreaming(params)) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(c -> {
                c.delta().toolCalls().ifPresent(calls -> calls.forEach(
                        t -> t.function().flatMap(f -> f.arguments()).ifPresent(arguments::append)));
                c.finishReason().ifPresent(f -> finish[0] = f.asString());
            }));
        }
        assertThat(new JsonObject(arguments.toString()).getString("city")).isEqualTo("Oslo");
        assertThat(finish[0]).isEqualTo("tool_calls");

        // the tool result goes back as a functionResponse the real API accepts (the fake checks the pairing)
        gemini().behave(GeminiBehaviour.normal().content("It is -3C in Oslo."));
        ChatCompletion answer = openai.chat().completions().create(params.toBuilder()
                .addMessage(whole.choices().get(0).message())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.asFunction().id())
                        .content("-3C").build())
                .build());
        assertThat(answer.choices().get(0).message().content()).contains("It is -3C in Oslo.");
        JsonArray contents = gemini().lastRequest().body().getJsonArray("contents");
        assertThat(contents.getJsonObject(1).getString("role")).isEqualTo("model");
        assertThat(contents.getJsonObject(1).getJsonArray("parts").getJsonObject(0).getJsonObject("functionCall")
                .getString("name")).isEqualTo("weather");
        JsonObject response = contents.getJsonObject(2).getJsonArray("parts").getJsonObject(0)
                .getJsonObject("functionResponse");
        assertThat(response.getString("name")).isEqualTo("weather");
        assertThat(response.encode()).contains("-3C");
        NODE.flushUsage();
        assertThat(NODE.usageRows(account.id())).isEqualTo(3);
        NODE.assertLedgerBalances();
    }

    @Test
    void safetyBlocksEndWithContentFilterAndABlockedPromptIsBilledOnlyForItsPrompt() {
        gemini().behave(GeminiBehaviour.normal().safetyBlock().promptTokens(8).candidatesTokens(0));
        ChatCompletion blocked = openai.chat().completions().create(ChatCompletionCreateParams.builder().model(GEMINI)
                .addUserMessage("something bad").maxCompletionTokens(50).build());
        assertThat(blocked.choices().get(0).finishReason())
                .isEqualTo(ChatCompletion.Choice.FinishReason.CONTENT_FILTER);

        String[] finish = new String[1];
        try (var stream = openai.chat().completions().createStreaming(ChatCompletionCreateParams.builder()
                .model(GEMINI).addUserMessage("something bad").maxCompletionTokens(50).build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(c -> c.finishReason()
                    .ifPresent(f -> finish[0] = f.asString())));
        }
        assertThat(finish[0]).isEqualTo("content_filter");

        gemini().behave(GeminiBehaviour.normal().blockPrompt("SAFETY").promptTokens(8));
        String generationId;
        try (HttpResponseFor<ChatCompletion> response = openai.chat().completions().withRawResponse().create(
                ChatCompletionCreateParams.builder().model(GEMINI).addUserMessage("something worse")
                        .maxCompletionTokens(50).build())) {
            generationId = response.headers().values("X-Generation-Id").get(0);
            ChatCompletion prompt = response.parse();
            assertThat(prompt.choices().get(0).finishReason())
                    .isEqualTo(ChatCompletion.Choice.FinishReason.CONTENT_FILTER);
            assertThat(prompt.choices().get(0).message().content().orElse("")).isEmpty();
        }
        NODE.flushUsage();
        assertThat(NODE.chargeFor(generationId)).isEqualTo(nanos(8, "0.30"));
        NODE.assertLedgerBalances();
    }

    @Test
    void upstreamErrorsMapToTheirKindsAndCostNothing() {
        gemini().behave(GeminiBehaviour.error(429).retryDelay("2s"));
        assertThatThrownBy(() -> openai.chat().completions().create(ChatCompletionCreateParams.builder().model(GEMINI)
                .addUserMessage("hi").maxCompletionTokens(10).build()))
                .isInstanceOfSatisfying(RateLimitException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(429);
                    assertThat(e.headers().values("retry-after")).containsExactly("2");
                });
        NODE.admin("POST", "/admin/endpoints/reset", null, 200);

        gemini().behave(GeminiBehaviour.error(503));
        var overloaded = NODE.chat(account.key(), chat(GEMINI));
        assertThat(overloaded.statusCode()).isEqualTo(503);
        assertThat(new JsonObject(overloaded.body()).getJsonObject("error").getJsonObject("metadata")
                .getString("provider_name")).isEqualTo("gemini");
        NODE.admin("POST", "/admin/endpoints/reset", null, 200);

        gemini().behave(GeminiBehaviour.error(403));
        var auth = NODE.chat(account.key(), chat(GEMINI));
        assertThat(auth.statusCode()).as("the operator's upstream key is wrong, not the client's").isEqualTo(502);
        assertThat(auth.body()).doesNotContain("sk-upstream-test");

        gemini().behave(GeminiBehaviour.error(400).errorMessage("Please ask about 'secret prompt words'"));
        var bad = NODE.chat(account.key(), chat(GEMINI));
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).as("Gemini's message may quote the request").doesNotContain("secret prompt words");

        NODE.flushUsage();
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD);
        NODE.assertLedgerBalances();
    }

    @Test
    void aStreamCutOffMidwayIsBilledForWhatWasDelivered() {
        gemini().behave(GeminiBehaviour.normal().content("one two three four five six seven eight").chunks(8)
                .promptTokens(40).resetAfter(5));
        var response = NODE.chat(account.key(), new JsonObject(chat(GEMINI)).put("stream", true));
        assertThat(response.statusCode()).isEqualTo(200);
        String generationId = response.headers().firstValue("X-Generation-Id").orElseThrow();
        assertThat(response.body()).contains("\"finish_reason\":\"error\"").endsWith("data: [DONE]\n\n");
        NODE.flushUsage();
        var row = NODE.awaitGeneration(generationId);
        assertThat(row.getInteger("completion_tokens")).isPositive();
        assertThat(row.getInteger("prompt_tokens")).as("the usage Gemini sent before the cut").isEqualTo(40);
        assertThat(row.getInteger("status")).isEqualTo(502);
        assertThat(NODE.chargeFor(generationId)).isGreaterThan(nanos(40, "0.30"));
        NODE.assertLedgerBalances();
    }

    @Test
    void theAnthropicSdkOnMessagesIsServedByGemini() {
        gemini().behave(GeminiBehaviour.normal().content("Ciao.").promptTokens(9).candidatesTokens(2));
        AnthropicClient anthropic = AnthropicOkHttpClient.builder().apiKey(account.key())
                .baseUrl("http://127.0.0.1:" + NODE.port()).maxRetries(0).build();
        try {
            Message message = anthropic.messages().create(MessageCreateParams.builder().model(GEMINI).maxTokens(64)
                    .system("Italian only.").addUserMessage("Hi").build());
            assertThat(message.content().get(0).text().orElseThrow().text()).isEqualTo("Ciao.");
            assertThat(message.usage().inputTokens()).isEqualTo(9);
            assertThat(message.usage().outputTokens()).isEqualTo(2);
            assertThat(gemini().lastRequest().body().getJsonObject("systemInstruction").encode())
                    .contains("Italian only.");
            NODE.flushUsage();
            assertThat(NODE.chargeFor(message.id())).isEqualTo(nanos(9, "0.30") + nanos(2, "2.50"));
            assertThat(NODE.awaitGeneration(message.id()).getString("api")).isEqualTo("messages");
        } finally {
            anthropic.close();
        }
        NODE.assertLedgerBalances();
    }

    private static String chat(String model) {
        return new JsonObject().put("model", model).put("max_tokens", 50)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")))
                .encode();
    }

    private static ChatCompletionFunctionTool weatherTool() {
        return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name("weather")
                .description("current weather").parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", JsonValue.from("object"))
                        .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
                        .putAdditionalProperty("required", JsonValue.from(List.of("city")))
                        .build()).build()).build();
    }
}
