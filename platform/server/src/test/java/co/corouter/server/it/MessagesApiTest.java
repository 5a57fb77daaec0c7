package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.server.common.Money;
import co.corouter.testkit.upstream.Behaviour;
import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.http.HttpResponseFor;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.AnthropicServiceException;
import com.anthropic.errors.BadRequestException;
import com.anthropic.errors.PaymentRequiredException;
import com.anthropic.errors.SseException;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.Usage;
import com.anthropic.models.messages.ContentBlockParam;
import com.anthropic.models.messages.Tool;
import com.anthropic.models.messages.ToolChoice;
import com.anthropic.models.messages.ToolChoiceAuto;
import com.anthropic.models.messages.ToolResultBlockParam;
import com.anthropic.models.messages.ToolUseBlock;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The official Anthropic Java SDK pointed at a node's {@code /v1/messages}, served by an OpenAI-compatible upstream
 * (translated both ways): whole messages, streams the SDK accumulates, errors as the SDK's exception types, token
 * counting — with usage rows and ledger charges behind each answer.
 */
class MessagesApiTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream().build();

    private CorouterNode.Account account;
    private AnthropicClient client;

    @BeforeEach
    void connectTheSdk() {
        account = NODE.newAccount("1.00");
        NODE.upstream().reset().requireApiKey("sk-upstream-test");
        NODE.admin("POST", "/admin/endpoints/reset", null, 200);
        // the host root, no /v1: the SDK appends /v1/messages itself
        client = AnthropicOkHttpClient.builder().apiKey(account.key()).baseUrl("http://127.0.0.1:" + NODE.port())
                .maxRetries(0).build();
    }

    @AfterEach
    void closeTheSdk() {
        client.close();
    }

    private static MessageCreateParams.Builder hello(String model) {
        return MessageCreateParams.builder().model(model).maxTokens(200).system("Be brief.")
                .addUserMessage("Hello from the Anthropic SDK");
    }

    @Test
    void aWholeMessageFromAnOpenAiUpstreamParsesWithTextUsageAndTheLedgersCost() {
        NODE.upstream().behave(Behaviour.normal().content("Hi there, from the fake.").promptTokens(21)
                .completionTokens(7));
        Message message;
        String generationId;
        try (HttpResponseFor<Message> response = client.messages().withRawResponse()
                .create(hello(CorouterNode.FAKE_MODEL).build())) {
            assertThat(response.statusCode()).isEqualTo(200);
            generationId = response.headers().values("X-Generation-Id").get(0);
            assertThat(response.headers().values("request-id")).containsExactly(generationId);
            message = response.parse();
        }

        assertThat(message.id()).isEqualTo(generationId);
        assertThat(message.model().asString()).isEqualTo(CorouterNode.FAKE_MODEL);
        assertThat(message.content()).hasSize(1);
        assertThat(message.content().get(0).text().orElseThrow().text()).isEqualTo("Hi there, from the fake.");
        assertThat(message.stopReason()).contains(StopReason.END_TURN);
        assertThat(message.usage().inputTokens()).isEqualTo(21);
        assertThat(message.usage().outputTokens()).isEqualTo(7);

        JsonObject upstream = NODE.upstream().lastRequest().body();
        assertThat(upstream.getString("model")).isEqualTo("gpt-fake");
        assertThat(upstream.getInteger("max_tokens")).isEqualTo(200);
        assertThat(upstream.getJsonArray("messages")).containsExactly(
                new JsonObject().put("role", "system").put("content", "Be brief."),
                new JsonObject().put("role", "user").put("content", "Hello from the Anthropic SDK"));

        NODE.flushUsage();
        long debit = NODE.chargeFor(generationId);
        assertThat(Money.toUsd(debit)).isEqualByComparingTo(cost(message.usage()));
        assertThat(debit).isEqualTo(21 * 2_000L + 7 * 10_000L);
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD - debit);
        assertThat(NODE.sql("SELECT prompt_tokens, completion_tokens, streamed, status, api FROM generations "
                + "WHERE id = $1", generationId).iterator().next().toJson().encode())
                .isEqualTo("{\"prompt_tokens\":21,\"completion_tokens\":7,\"streamed\":false,\"status\":200,"
                        + "\"api\":\"messages\"}");
        // /v1/generation shows the same generation and cost
        JsonObject generation = new JsonObject(NODE.get("/v1/generation?id=" + generationId, account.key()).body())
                .getJsonObject("data");
        assertThat(new BigDecimal(generation.getValue("total_cost").toString())).isEqualByComparingTo(Money.toUsd(debit));
        assertThat(generation.getString("api_type")).isEqualTo("messages");
        NODE.assertLedgerBalances();
    }

    @Test
    void anthropicToolsReachAnOpenAiUpstreamAsFunctionsAndItsToolCallsComeBackAsToolUseWholeAndStreamed() {
        NODE.upstream().behave(Behaviour.normal().content("Let me look.").chunks(2)
                .toolCall("call_9", "weather", "{\"city\":\"Lima\"}").promptTokens(40).completionTokens(9));
        MessageCreateParams params = MessageCreateParams.builder().model(CorouterNode.FAKE_MODEL).maxTokens(200)
                .addUserMessage("Weather in Lima?")
                .addTool(Tool.builder().name("weather").description("current weather")
                        .inputSchema(Tool.InputSchema.builder().properties(JsonValue.from(Map.of("city",
                                Map.of("type", "string")))).required(List.of("city")).build()).build())
                .toolChoice(ToolChoice.ofAuto(ToolChoiceAuto.builder().build()))
                .build();

        Message whole = client.messages().create(params);
        JsonObject sent = NODE.upstream().lastRequest().body();
        JsonObject function = sent.getJsonArray("tools").getJsonObject(0);
        assertThat(function.getString("type")).isEqualTo("function");
        assertThat(function.getJsonObject("function").getString("name")).isEqualTo("weather");
        assertThat(function.getJsonObject("function").getJsonObject("parameters").getJsonArray("required"))
                .containsExactly("city");
        assertThat(sent.getValue("tool_choice")).isEqualTo("auto");
        assertThat(whole.stopReason()).contains(StopReason.TOOL_USE);
        assertThat(whole.content().get(0).text().orElseThrow().text()).isEqualTo("Let me look.");
        ToolUseBlock use = whole.content().get(1).toolUse().orElseThrow();
        assertThat(use.id()).isEqualTo("call_9");
        assertThat(use.name()).isEqualTo("weather");
        assertThat(use._input().convert(Map.class)).isEqualTo(Map.of("city", "Lima"));

        MessageAccumulator accumulator = MessageAccumulator.create();
        try (StreamResponse<RawMessageStreamEvent> stream = client.messages().createStreaming(params)) {
            stream.stream().forEach(accumulator::accumulate);
        }
        Message streamed = accumulator.message();
        assertThat(streamed.stopReason()).contains(StopReason.TOOL_USE);
        assertThat(streamed.content()).hasSize(2);
        assertThat(streamed.content().get(1).toolUse().orElseThrow().id()).isEqualTo("call_9");
        assertThat(streamed.content().get(1).toolUse().orElseThrow()._input().convert(Map.class))
                .isEqualTo(Map.of("city", "Lima"));

        // the SDK's tool_result turn reaches the OpenAI upstream as an assistant tool_calls + tool message pair
        NODE.upstream().behave(Behaviour.normal().content("Lima: 19C."));
        Message answer = client.messages().create(params.toBuilder().addMessage(whole)
                .addUserMessageOfContentBlockParams(List.of(ContentBlockParam.ofToolResult(ToolResultBlockParam
                        .builder().toolUseId("call_9").content("19C").build()))).build());
        assertThat(answer.content().get(0).text().orElseThrow().text()).isEqualTo("Lima: 19C.");
        var turns = NODE.upstream().lastRequest().body().getJsonArray("messages");
        JsonObject assistant = turns.getJsonObject(1);
        assertThat(assistant.getString("role")).isEqualTo("assistant");
        assertThat(assistant.getJsonArray("tool_calls").getJsonObject(0).getString("id")).isEqualTo("call_9");
        JsonObject tool = turns.getJsonObject(2);
        assertThat(tool.getString("role")).isEqualTo("tool");
        assertThat(tool.getString("tool_call_id")).isEqualTo("call_9");
        assertThat(tool.getValue("content").toString()).contains("19C");
        NODE.flushUsage();
        assertThat(NODE.usageRows(account.id())).isEqualTo(3);
        NODE.assertLedgerBalances();
    }

    @Test
    void aStreamTheSdkAccumulatesIsTheWholeAnswerWithItsUsageAndCost() {
        NODE.upstream().behave(Behaviour.normal().content("one two three four five six").chunks(6)
                .promptTokens(30).completionTokens(6));
        MessageAccumulator accumulator = MessageAccumulator.create();
        List<RawMessageStreamEvent> events;
        String generationId;
        try (HttpResponseFor<StreamResponse<RawMessageStreamEvent>> response = client.messages().withRawResponse()
                .createStreaming(hello(CorouterNode.FAKE_MODEL).build());
                StreamResponse<RawMessageStreamEvent> stream = response.parse()) {
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().values("Content-Type").get(0)).startsWith("text/event-stream");
            generationId = response.headers().values("request-id").get(0);
            events = stream.stream().peek(accumulator::accumulate).toList();
        }

        assertThat(events.get(0).isMessageStart()).isTrue();
        assertThat(events.get(events.size() - 1).isMessageStop()).isTrue();
        assertThat(events.stream().filter(RawMessageStreamEvent::isContentBlockDelta).count())
                .as("one delta per upstream chunk, forwarded as they came").isGreaterThan(1);
        Message message = accumulator.message();
        assertThat(message.id()).isEqualTo(generationId);
        assertThat(message.content()).hasSize(1);
        assertThat(message.content().get(0).text().orElseThrow().text()).isEqualTo("one two three four five six");
        assertThat(message.stopReason()).contains(StopReason.END_TURN);
        assertThat(message.usage().outputTokens()).isEqualTo(6);
        assertThat(NODE.upstream().lastRequest().streaming()).isTrue();

        NODE.flushUsage();
        long debit = NODE.chargeFor(generationId);
        assertThat(debit).isEqualTo(30 * 2_000L + 6 * 10_000L);
        JsonValue cost = events.stream().filter(RawMessageStreamEvent::isMessageDelta).findFirst().orElseThrow()
                .asMessageDelta().usage()._additionalProperties().get("cost");
        assertThat(new BigDecimal(cost.convert(BigDecimal.class).toPlainString())).isEqualByComparingTo(Money.toUsd(debit));
        assertThat(NODE.sql("SELECT streamed, status FROM generations WHERE id = $1", generationId)
                .iterator().next().toJson().encode()).isEqualTo("{\"streamed\":true,\"status\":200}");
        NODE.assertLedgerBalances();
    }

    @Test
    void refusalsAreTheSdksExceptionsWithAnthropicErrorTypesAndCostNothing() {
        assertThatThrownBy(() -> client.messages().create(hello("no/such-model").build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(errorType(e)).isEqualTo("invalid_request_error");
                    assertThat(e.requestId()).isPresent();
                });
        CorouterNode.Account broke = NODE.newAccount("0");
        AnthropicClient poor = AnthropicOkHttpClient.builder().apiKey(broke.key())
                .baseUrl("http://127.0.0.1:" + NODE.port()).maxRetries(0).build();
        assertThatThrownBy(() -> poor.messages().create(hello(CorouterNode.FAKE_MODEL).build()))
                .isInstanceOfSatisfying(PaymentRequiredException.class,
                        e -> assertThat(errorType(e)).isEqualTo("billing_error"));
        poor.close();
        AnthropicClient stranger = AnthropicOkHttpClient.builder().apiKey("sk-cr-v1-not-a-key")
                .baseUrl("http://127.0.0.1:" + NODE.port()).maxRetries(0).build();
        assertThatThrownBy(() -> stranger.messages().create(hello(CorouterNode.FAKE_MODEL).build()))
                .isInstanceOfSatisfying(UnauthorizedException.class,
                        e -> assertThat(errorType(e)).isEqualTo("authentication_error"));
        stranger.close();
        assertThat(NODE.upstream().requestCount()).as("nothing refused reached the upstream").isZero();
        NODE.upstream().enqueue(Behaviour.error(503), Behaviour.error(503));
        assertThatThrownBy(() -> client.messages().create(hello(CorouterNode.FAKE_MODEL).build()))
                .isInstanceOfSatisfying(AnthropicServiceException.class, e -> {
                    assertThat(e.statusCode()).isGreaterThanOrEqualTo(500);
                    assertThat(errorType(e)).isIn("overloaded_error", "api_error");
                });
        NODE.flushUsage();
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD);
        assertThat(NODE.balance(broke.id())).isZero();
        NODE.assertLedgerBalances();
    }

    @Test
    void aStreamCutOffUpstreamEndsWithAnErrorEventTheSdkRaisesAndIsBilledForWhatWasDelivered() {
        NODE.upstream().behave(Behaviour.normal().content("alpha beta gamma delta epsilon zeta").chunks(6)
                .resetAfter(3));
        MessageAccumulator accumulator = MessageAccumulator.create();
        String[] generationId = new String[1];
        assertThatThrownBy(() -> {
            try (HttpResponseFor<StreamResponse<RawMessageStreamEvent>> response = client.messages()
                    .withRawResponse().createStreaming(hello(CorouterNode.FAKE_MODEL).build());
                    StreamResponse<RawMessageStreamEvent> stream = response.parse()) {
                generationId[0] = response.headers().values("request-id").get(0);
                stream.stream().forEach(accumulator::accumulate);
            }
        }).isInstanceOf(SseException.class);

        NODE.flushUsage();
        var row = NODE.awaitGeneration(generationId[0]);
        assertThat(row.getBoolean("streamed")).isTrue();
        assertThat(row.getInteger("completion_tokens")).as("the delivered part is counted").isPositive();
        assertThat(NODE.chargeFor(generationId[0])).isPositive();
        NODE.assertLedgerBalances();
    }

    @Test
    void countTokensCountsThePromptForFreeAndRefusesStrangers() {
        MessageCountTokensParams params = MessageCountTokensParams.builder().model(CorouterNode.FAKE_MODEL)
                .system("Be brief.").addUserMessage("How many tokens is this sentence?").build();
        long tokens = client.messages().countTokens(params).inputTokens();
        long longer = client.messages().countTokens(params.toBuilder()
                .addAssistantMessage("Eight, give or take.").addUserMessage("And now?").build()).inputTokens();
        assertThat(tokens).isPositive();
        assertThat(longer).isGreaterThan(tokens);
        NODE.flushUsage();
        assertThat(NODE.usageRows(account.id())).isZero();
        assertThat(NODE.upstream().requestCount()).isZero();

        HttpResponse<String> stranger = NODE.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + NODE.port() + "/v1/messages/count_tokens?beta=true"))
                .header("x-api-key", "sk-cr-v1-nope").header("anthropic-version", "2023-06-01")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"" + CorouterNode.FAKE_MODEL + "\","
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")));
        assertThat(stranger.statusCode()).isEqualTo(401);
        assertThat(new JsonObject(stranger.body()).getJsonObject("error").getString("type"))
                .isEqualTo("authentication_error");
    }

    @Test
    void anXApiKeyAndTheBetaQueryAreAcceptedAndABadBodyIsAnAnthropicError() {
        NODE.upstream().behave(Behaviour.normal().content("ok"));
        HttpResponse<String> ok = post("x-api-key", account.key(), "{\"model\":\"" + CorouterNode.FAKE_MODEL
                + "\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}]}");
        assertThat(ok.statusCode()).isEqualTo(200);
        JsonObject message = new JsonObject(ok.body());
        assertThat(message.getString("type")).isEqualTo("message");
        assertThat(message.getJsonArray("content").getJsonObject(0).getString("text")).isEqualTo("ok");
        assertThat(ok.headers().firstValue("request-id")).contains(message.getString("id"));

        HttpResponse<String> bad = post("x-api-key", account.key(), "{\"model\":\"" + CorouterNode.FAKE_MODEL
                + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(bad.statusCode()).isEqualTo(400);
        JsonObject error = new JsonObject(bad.body());
        assertThat(error.getString("type")).isEqualTo("error");
        assertThat(error.getJsonObject("error").getString("type")).isEqualTo("invalid_request_error");
        assertThat(error.getJsonObject("error").getString("message")).contains("'max_tokens' is required");
        assertThat(error.getString("request_id")).isEqualTo(bad.headers().firstValue("request-id").orElseThrow());
        assertThat(NODE.upstream().requestCount()).isEqualTo(1);
    }

    private static HttpResponse<String> post(String header, String key, String body) {
        return NODE.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + NODE.port() + "/v1/messages?beta=true"))
                .header(header, key).header("anthropic-version", "2023-06-01")
                .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    private static String errorType(AnthropicServiceException e) {
        return e.errorType().map(type -> type.asString()).orElse(null);
    }

    /** corouter's {@code usage.cost} is not in Anthropic's schema: the SDK keeps it as an additional property. */
    private static BigDecimal cost(Usage usage) {
        JsonValue cost = usage._additionalProperties().get("cost");
        assertThat(cost).as("usage.cost reaches the SDK").isNotNull();
        return new BigDecimal(cost.convert(BigDecimal.class).toPlainString());
    }
}
