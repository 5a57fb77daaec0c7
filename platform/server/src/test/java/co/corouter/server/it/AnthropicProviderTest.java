package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.server.common.Money;
import co.corouter.testkit.anthropic.AnthropicBehaviour;
import co.corouter.testkit.anthropic.FakeAnthropicUpstream;
import co.corouter.testkit.upstream.Behaviour;
import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.RateLimitException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.Tool;
import com.anthropic.models.messages.ToolResultBlockParam;
import com.anthropic.models.messages.ToolUseBlock;
import com.anthropic.models.messages.ContentBlockParam;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The anthropic provider plugin behind a node, against the fake Anthropic Messages API: OpenAI-shaped chat translated
 * to Messages and back (whole, streamed, tools both ways), the Anthropic SDK on {@code /v1/messages} served natively,
 * cache reads and writes priced at the catalog's cache prices, the error kinds, cut-off streams, and fallback from an
 * Anthropic endpoint to an OpenAI-compatible one.
 */
class AnthropicProviderTest {

    static final String CLAUDE = "anthropic/claude-fake";
    static final String MIXED = "mixed/claude-then-openai";

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream().withFakeAnthropic("claude")
            .model(new JsonObject().put("id", CLAUDE).put("provider", "claude").put("upstream_model", "claude-fake-1")
                    .put("context_length", 200_000).put("max_output_tokens", 4096)
                    .put("pricing", new JsonObject().put("prompt_per_million", "3.00")
                            .put("completion_per_million", "15.00").put("input_cache_read_per_million", "0.30")
                            .put("input_cache_write_per_million", "3.75"))
                    .put("supported_parameters", new JsonArray().add("max_tokens").add("temperature").add("stop")
                            .add("tools").add("tool_choice").add("stream")))
            .model(new JsonObject().put("id", MIXED).put("context_length", 100_000).put("endpoints", new JsonArray()
                    .add(new JsonObject().put("provider", "claude").put("upstream_model", "claude-down")
                            .put("max_output_tokens", 1024).put("pricing", new JsonObject()
                                    .put("prompt_per_million", "3.00").put("completion_per_million", "15.00")))
                    .add(new JsonObject().put("provider", "fake").put("upstream_model", "gpt-fake")
                            .put("max_output_tokens", 1024).put("pricing", new JsonObject()
                                    .put("prompt_per_million", "2.00").put("completion_per_million", "10.00")))))
            .build();

    private CorouterNode.Account account;
    private OpenAIClient openai;
    private AnthropicClient anthropic;

    @BeforeEach
    void connect() {
        account = NODE.newAccount("1.00");
        claude().reset().requireApiKey("sk-upstream-test");
        NODE.upstream().reset().requireApiKey("sk-upstream-test");
        NODE.admin("POST", "/admin/endpoints/reset", null, 200);
        openai = OpenAIOkHttpClient.builder().apiKey(account.key()).baseUrl(NODE.baseUrl()).maxRetries(0).build();
        anthropic = AnthropicOkHttpClient.builder().apiKey(account.key()).baseUrl("http://127.0.0.1:" + NODE.port())
                .maxRetries(0).build();
    }

    @AfterEach
    void close() {
        openai.close();
        anthropic.close();
    }

    private static FakeAnthropicUpstream claude() {
        return NODE.anthropic("claude");
    }

    private static long nanos(long tokens, String usdPerMillion) {
        return Money.cost(tokens, Money.parseUsd(usdPerMillion, "price"), 0, 0);
    }

    @Test
    void openAiChatIsTranslatedToMessagesAndBackWithCacheTokensPricedAtTheCachePrices() {
        claude().behave(AnthropicBehaviour.normal().text("Bonjour!").inputTokens(100).cacheReadTokens(600)
                .cacheCreationTokens(300).outputTokens(40));
        ChatCompletion completion;
        String generationId;
        try (HttpResponseFor<ChatCompletion> response = openai.chat().completions().withRawResponse().create(
                ChatCompletionCreateParams.builder().model(CLAUDE).addSystemMessage("Answer in French.")
                        .addUserMessage("Hello").maxCompletionTokens(300).temperature(0.3).stop("STOP").build())) {
            generationId = response.headers().values("X-Generation-Id").get(0);
            completion = response.parse();
        }

        assertThat(completion.choices().get(0).message().content()).contains("Bonjour!");
        assertThat(completion.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
        var usage = completion.usage().orElseThrow();
        assertThat(usage.promptTokens()).as("uncached + cache reads + cache writes").isEqualTo(1_000);
        assertThat(usage.completionTokens()).isEqualTo(40);
        assertThat(usage.promptTokensDetails().orElseThrow().cachedTokens()).contains(600L);

        JsonObject sent = claude().lastRequest().body();
        assertThat(claude().lastRequest().path()).isEqualTo("/v1/messages");
        assertThat(claude().lastRequest().anthropicVersion()).isNotBlank();
        assertThat(claude().lastRequest().apiKey()).isEqualTo("sk-upstream-test");
        assertThat(sent.getString("model")).isEqualTo("claude-fake-1");
        assertThat(sent.getValue("system").toString()).contains("Answer in French.");
        assertThat(sent.getInteger("max_tokens")).isEqualTo(300);
        assertThat(sent.getDouble("temperature")).isEqualTo(0.3);
        assertThat(sent.getJsonArray("stop_sequences")).containsExactly("STOP");
        assertThat(sent.getJsonArray("messages")).hasSize(1);

        NODE.flushUsage();
        long expected = nanos(100, "3.00") + nanos(600, "0.30") + nanos(300, "3.75") + nanos(40, "15.00");
        assertThat(NODE.chargeFor(generationId)).isEqualTo(expected);
        assertThat(NODE.sql("SELECT prompt_tokens, completion_tokens, cached_tokens, cache_write_tokens, provider, api "
                + "FROM generations WHERE id = $1", generationId).iterator().next().toJson().encode())
                .isEqualTo("{\"prompt_tokens\":1000,\"completion_tokens\":40,\"cached_tokens\":600,"
                        + "\"cache_write_tokens\":300,\"provider\":\"claude\",\"api\":\"chat\"}");
        NODE.assertLedgerBalances();
    }

    @Test
    void openAiToolsGoOutAsAnthropicToolsAndToolUseComesBackAsToolCallsStreamedOrNot() {
        claude().behave(AnthropicBehaviour.normal().text("Checking.").toolUse("toolu_01", "weather",
                "{\"city\":\"Oslo\"}").inputTokens(50).outputTokens(20));
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(CLAUDE)
                .addUserMessage("Weather in Oslo?").addTool(weatherTool()).maxCompletionTokens(200).build();

        ChatCompletion whole = openai.chat().completions().create(params);
        ChatCompletionMessageToolCall call = whole.choices().get(0).message().toolCalls().orElseThrow().get(0);
        assertThat(call.asFunction().id()).isEqualTo("toolu_01");
        assertThat(call.asFunction().function().name()).isEqualTo("weather");
        assertThat(new JsonObject(call.asFunction().function().arguments()).getString("city")).isEqualTo("Oslo");
        assertThat(whole.choices().get(0).finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.TOOL_CALLS);
        JsonObject tool = claude().lastRequest().body().getJsonArray("tools").getJsonObject(0);
        assertThat(tool.getString("name")).isEqualTo("weather");
        assertThat(tool.getJsonObject("input_schema").getJsonArray("required")).containsExactly("city");

        StringBuilder arguments = new StringBuilder();
        String[] finish = new String[1];
        String generationId;
        try (var response = openai.chat().completions().withRawResponse().createStreaming(params.toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build());
                var stream = response.parse()) {
            generationId = response.headers().values("X-Generation-Id").get(0);
            stream.stream().forEach(chunk -> chunk.choices().forEach(c -> {
                c.delta().toolCalls().ifPresent(calls -> calls.forEach(
                        t -> t.function().flatMap(f -> f.arguments()).ifPresent(arguments::append)));
                c.finishReason().ifPresent(f -> finish[0] = f.asString());
            }));
        }
        assertThat(new JsonObject(arguments.toString()).getString("city")).isEqualTo("Oslo");
        assertThat(finish[0]).isEqualTo("tool_calls");

        // the tool's result goes back as a tool_result the real API accepts (the fake checks the pairing)
        claude().behave(AnthropicBehaviour.normal().text("It is -3C in Oslo."));
        ChatCompletion answer = openai.chat().completions().create(ChatCompletionCreateParams.builder().model(CLAUDE)
                .addUserMessage("Weather in Oslo?").addTool(weatherTool()).maxCompletionTokens(200)
                .addMessage(whole.choices().get(0).message())
                .addMessage(com.openai.models.chat.completions.ChatCompletionToolMessageParam.builder()
                        .toolCallId("toolu_01").content("-3C").build())
                .build());
        assertThat(answer.choices().get(0).message().content()).contains("It is -3C in Oslo.");
        JsonArray turns = claude().lastRequest().body().getJsonArray("messages");
        assertThat(turns.getJsonObject(1).getJsonArray("content").stream().map(b -> ((JsonObject) b).getString("type")))
                .contains("tool_use");
        JsonObject result = turns.getJsonObject(2).getJsonArray("content").getJsonObject(0);
        assertThat(result.getString("type")).isEqualTo("tool_result");
        assertThat(result.getString("tool_use_id")).isEqualTo("toolu_01");

        NODE.flushUsage();
        assertThat(NODE.chargeFor(generationId)).isEqualTo(nanos(50, "3.00") + nanos(20, "15.00"));
        NODE.assertLedgerBalances();
    }

    @Test
    void theAnthropicSdkOnMessagesIsServedByTheAnthropicUpstreamWholeStreamedAndWithTools() {
        claude().behave(AnthropicBehaviour.normal().text("Sure.").toolUse("toolu_7", "weather", "{\"city\":\"Rome\"}")
                .inputTokens(80).outputTokens(12).chunks(3).pings());
        MessageCreateParams params = MessageCreateParams.builder().model(CLAUDE).maxTokens(256)
                .system("Use tools.").addUserMessage("Weather in Rome?")
                .addTool(Tool.builder().name("weather").description("current weather")
                        .inputSchema(Tool.InputSchema.builder().properties(JsonValue.from(Map.of("city",
                                Map.of("type", "string")))).required(List.of("city")).build()).build())
                .build();

        Message message = anthropic.messages().create(params);
        assertThat(message.stopReason()).contains(StopReason.TOOL_USE);
        assertThat(message.content().get(0).text().orElseThrow().text()).isEqualTo("Sure.");
        ToolUseBlock toolUse = message.content().get(1).toolUse().orElseThrow();
        assertThat(toolUse.id()).isEqualTo("toolu_7");
        assertThat(toolUse.name()).isEqualTo("weather");
        assertThat(toolUse._input().convert(Map.class)).isEqualTo(Map.of("city", "Rome"));
        assertThat(message.usage().inputTokens()).isEqualTo(80);
        assertThat(message.usage().outputTokens()).isEqualTo(12);

        MessageAccumulator accumulator = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = anthropic.messages().createStreaming(params)) {
            stream.stream().forEach(accumulator::accumulate);
        }
        Message streamed = accumulator.message();
        assertThat(streamed.content()).hasSize(2);
        assertThat(streamed.content().get(0).text().orElseThrow().text()).isEqualTo("Sure.");
        assertThat(streamed.content().get(1).toolUse().orElseThrow()._input().convert(Map.class))
                .isEqualTo(Map.of("city", "Rome"));
        assertThat(streamed.stopReason()).contains(StopReason.TOOL_USE);
        assertThat(streamed.usage().outputTokens()).isEqualTo(12);

        // the SDK's own follow-up turn (assistant tool_use + user tool_result) reaches the upstream as valid Messages
        claude().behave(AnthropicBehaviour.normal().text("Sunny, 24C."));
        Message answer = anthropic.messages().create(params.toBuilder().addMessage(message)
                .addUserMessageOfContentBlockParams(List.of(ContentBlockParam.ofToolResult(ToolResultBlockParam
                        .builder().toolUseId("toolu_7").content("24C, sunny").build()))).build());
        assertThat(answer.content().get(0).text().orElseThrow().text()).isEqualTo("Sunny, 24C.");
        assertThat(claude().requestCount()).isEqualTo(3);
        NODE.flushUsage();
        assertThat(NODE.usageRows(account.id())).isEqualTo(3);
        NODE.assertLedgerBalances();
    }

    @Test
    void upstreamErrorsMapToTheirKindsAndCostNothing() {
        claude().behave(AnthropicBehaviour.error(429));
        assertThatThrownBy(() -> anthropic.messages().create(MessageCreateParams.builder().model(CLAUDE).maxTokens(10)
                .addUserMessage("hi").build()))
                .isInstanceOfSatisfying(RateLimitException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(429);
                    assertThat(e.headers().values("retry-after")).containsExactly("1");
                });
        NODE.admin("POST", "/admin/endpoints/reset", null, 200);

        claude().behave(AnthropicBehaviour.error(529));
        var overloaded = NODE.chat(account.key(), chat(CLAUDE));
        assertThat(overloaded.statusCode()).isEqualTo(503);
        assertThat(new JsonObject(overloaded.body()).getJsonObject("error").getJsonObject("metadata")
                .getString("provider_name")).isEqualTo("claude");
        NODE.admin("POST", "/admin/endpoints/reset", null, 200);

        claude().behave(AnthropicBehaviour.error(401));
        var auth = NODE.chat(account.key(), chat(CLAUDE));
        assertThat(auth.statusCode()).as("the operator's upstream key is wrong, not the client's").isEqualTo(502);
        assertThat(auth.body()).doesNotContain("sk-upstream-test");

        NODE.flushUsage();
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD);
        NODE.assertLedgerBalances();
    }

    @Test
    void aStreamCutOffMidwayIsBilledForWhatWasDelivered() {
        claude().behave(AnthropicBehaviour.normal().text("one two three four five six seven eight").chunks(8)
                .inputTokens(40).resetAfter(5));
        HttpResponse stream = stream(CLAUDE);
        assertThat(stream.body).contains("\"finish_reason\":\"error\"").endsWith("data: [DONE]\n\n");
        NODE.flushUsage();
        var row = NODE.awaitGeneration(stream.generationId);
        assertThat(row.getInteger("completion_tokens")).isPositive();
        assertThat(row.getInteger("status")).isEqualTo(502);
        assertThat(NODE.chargeFor(stream.generationId)).isPositive();
        NODE.assertLedgerBalances();
    }

    @Test
    void aModelWhoseAnthropicEndpointFailsBeforeTheFirstByteIsServedByItsOpenAiEndpoint() {
        claude().behaveFor("claude-down", AnthropicBehaviour.error(529));
        NODE.upstream().behave(Behaviour.normal().content("served by the fallback").promptTokens(10)
                .completionTokens(4));
        // corouter's provider preferences ride along in the Anthropic body: the Anthropic endpoint first
        Message message = anthropic.messages().create(MessageCreateParams.builder().model(MIXED).maxTokens(50)
                .addUserMessage("anyone there?").putAdditionalBodyProperty("provider", JsonValue.from(Map.of("order",
                        List.of("claude", "fake")))).build());
        assertThat(message.content().get(0).text().orElseThrow().text()).isEqualTo("served by the fallback");
        assertThat(message._additionalProperties().get("provider").convert(String.class)).isEqualTo("fake");
        assertThat(claude().requestCount()).isPositive();
        assertThat(NODE.upstream().requestCount()).isEqualTo(1);

        var response = NODE.chat(account.key(), new JsonObject(chat(MIXED)).put("stream", true)
                .put("provider", new JsonObject().put("order", new JsonArray().add("claude").add("fake"))));
        HttpResponse streamed = new HttpResponse(response.headers().firstValue("X-Generation-Id").orElseThrow(),
                response.body());
        assertThat(claude().requestCount()).isEqualTo(2);
        assertThat(streamed.body).contains("\"provider\":\"fake\"").doesNotContain("\"error\"")
                .endsWith("data: [DONE]\n\n");
        NODE.flushUsage();
        assertThat(NODE.chargeFor(message.id())).isEqualTo(nanos(10, "2.00") + nanos(4, "10.00"));
        assertThat(NODE.sql("SELECT provider FROM generations WHERE id = $1", message.id()).iterator().next()
                .getString(0)).isEqualTo("fake");
        NODE.assertLedgerBalances();
    }

    private static String chat(String model) {
        return new JsonObject().put("model", model).put("max_tokens", 50)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")))
                .encode();
    }

    private record HttpResponse(String generationId, String body) {
    }

    private HttpResponse stream(String model) {
        var response = NODE.chat(account.key(), new JsonObject(chat(model)).put("stream", true));
        assertThat(response.statusCode()).isEqualTo(200);
        return new HttpResponse(response.headers().firstValue("X-Generation-Id").orElseThrow(), response.body());
    }

    private static ChatCompletionFunctionTool weatherTool() {
        return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name("weather")
                .description("current weather").parameters(FunctionParameters.builder()
                        .putAdditionalProperty("type", com.openai.core.JsonValue.from("object"))
                        .putAdditionalProperty("properties", com.openai.core.JsonValue.from(Map.of("city",
                                Map.of("type", "string"))))
                        .putAdditionalProperty("required", com.openai.core.JsonValue.from(List.of("city")))
                        .build()).build()).build();
    }
}
