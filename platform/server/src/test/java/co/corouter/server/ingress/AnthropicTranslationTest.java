package co.corouter.server.ingress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.plugin.api.Usage;
import co.corouter.server.common.ApiException;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Failure;
import co.corouter.server.routing.ModelCatalog;
import co.corouter.server.routing.Router;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code /v1/messages} both ways: an Anthropic request as the chat body every provider takes
 * ({@link AnthropicRequests}), and the provider's OpenAI chunks as Anthropic stream events ({@link AnthropicStream}).
 */
class AnthropicTranslationTest {

    private static JsonObject toChat(String anthropic) {
        return AnthropicRequests.toChat(Buffer.buffer(anthropic)).toJsonObject();
    }

    @Test
    void systemTurnsImagesToolsAndSamplingBecomeTheirChatFields() {
        JsonObject chat = toChat("""
                {"model":"anthropic/claude","max_tokens":300,"temperature":0.2,"top_p":0.9,"top_k":40,"stream":true,
                 "system":[{"type":"text","text":"be brief","cache_control":{"type":"ephemeral"}}],
                 "stop_sequences":["END"],"metadata":{"user_id":"u-7"},
                 "tools":[{"name":"weather","description":"the weather","input_schema":{"type":"object",
                   "properties":{"city":{"type":"string"}},"required":["city"]}}],
                 "tool_choice":{"type":"any","disable_parallel_tool_use":true},
                 "messages":[
                   {"role":"user","content":[{"type":"text","text":"look"},
                     {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
                     {"type":"image","source":{"type":"url","url":"https://example.com/a.png"}}]},
                   {"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"sig"},
                     {"type":"text","text":"checking"},
                     {"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Oslo"}}]},
                   {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1",
                     "content":[{"type":"text","text":"-3C"}]},{"type":"text","text":"and tomorrow?"}]}]}
                """);

        assertThat(chat.getString("model")).isEqualTo("anthropic/claude");
        assertThat(chat.getInteger("max_tokens")).isEqualTo(300);
        assertThat(chat.getDouble("temperature")).isEqualTo(0.2);
        assertThat(chat.getDouble("top_p")).isEqualTo(0.9);
        assertThat(chat.getInteger("top_k")).isEqualTo(40);
        assertThat(chat.getBoolean("stream")).isTrue();
        assertThat(chat.getJsonArray("stop")).containsExactly("END");
        assertThat(chat.getString("user")).isEqualTo("u-7");
        assertThat(chat.getString("tool_choice")).isEqualTo("required");
        assertThat(chat.getBoolean("parallel_tool_calls")).isFalse();
        JsonObject function = chat.getJsonArray("tools").getJsonObject(0).getJsonObject("function");
        assertThat(function.getString("name")).isEqualTo("weather");
        assertThat(function.getString("description")).isEqualTo("the weather");
        assertThat(function.getJsonObject("parameters").getJsonArray("required")).containsExactly("city");

        JsonArray messages = chat.getJsonArray("messages");
        assertThat(messages).hasSize(5);
        JsonObject system = messages.getJsonObject(0);
        assertThat(system.getString("role")).isEqualTo("system");
        assertThat(system.getJsonArray("content").getJsonObject(0).getJsonObject("cache_control").getString("type"))
                .as("cache_control passed through").isEqualTo("ephemeral");
        JsonArray userParts = messages.getJsonObject(1).getJsonArray("content");
        assertThat(userParts.getJsonObject(0).getString("text")).isEqualTo("look");
        assertThat(userParts.getJsonObject(1).getJsonObject("image_url").getString("url"))
                .isEqualTo("data:image/png;base64,iVBORw0KGgo=");
        assertThat(userParts.getJsonObject(2).getJsonObject("image_url").getString("url"))
                .isEqualTo("https://example.com/a.png");
        JsonObject assistant = messages.getJsonObject(2);
        assertThat(assistant.getString("role")).isEqualTo("assistant");
        assertThat(assistant.getString("content")).as("thinking dropped, text joined").isEqualTo("checking");
        JsonObject call = assistant.getJsonArray("tool_calls").getJsonObject(0);
        assertThat(call.getString("id")).isEqualTo("toolu_1");
        assertThat(new JsonObject(call.getJsonObject("function").getString("arguments")).getString("city"))
                .isEqualTo("Oslo");
        JsonObject tool = messages.getJsonObject(3);
        assertThat(tool.getString("role")).isEqualTo("tool");
        assertThat(tool.getString("tool_call_id")).isEqualTo("toolu_1");
        assertThat(tool.getString("content")).isEqualTo("-3C");
        assertThat(messages.getJsonObject(4).getJsonArray("content").getJsonObject(0).getString("text"))
                .as("the rest of the user turn after its tool results").isEqualTo("and tomorrow?");
    }

    @Test
    void toolChoiceOfANamedToolAndAPlainStringSystem() {
        JsonObject chat = toChat("{\"model\":\"m\",\"max_tokens\":5,\"system\":\"sys\",\"tool_choice\":{\"type\":\"tool\","
                + "\"name\":\"weather\"},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(chat.getJsonObject("tool_choice").getJsonObject("function").getString("name")).isEqualTo("weather");
        assertThat(chat.getJsonArray("messages").getJsonObject(0).getString("content")).isEqualTo("sys");
        assertThat(chat.getJsonArray("messages").getJsonObject(1).getString("content")).isEqualTo("hi");
        assertThat(chat.containsKey("parallel_tool_calls")).isFalse();
    }

    @Test
    void aMidConversationSystemMessageStaysInPlaceAndCountTokensBodiesNeedNoMaxTokens() {
        JsonObject chat = AnthropicRequests.toChat(Buffer.buffer("{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
                + "\"content\":\"a\"},{\"role\":\"system\",\"content\":\"now be terse\"},{\"role\":\"user\","
                + "\"content\":\"b\"}]}"), false).toJsonObject();
        assertThat(chat.getJsonArray("messages")).extracting(m -> ((JsonObject) m).getString("role"))
                .containsExactly("user", "system", "user");
        assertThat(chat.getJsonArray("messages").getJsonObject(1).getString("content")).isEqualTo("now be terse");
        assertThat(chat.containsKey("max_tokens")).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "[1]|the request body must be a JSON object",
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}|'max_tokens' is required",
            "{\"model\":\"m\",\"max_tokens\":\"9\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}|'max_tokens' is required",
            "{\"model\":\"m\",\"max_tokens\":9,\"messages\":[]}|'messages' is required",
            "{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}|'messages[0].role' must be user, assistant or system",
            "{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":7}]}|'messages[0].content' must be a string",
            "{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"n\"}]}]}|tool_use blocks belong to assistant turns",
            "{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"audio\"}]}]}|'messages[0].content[0].type' audio is not supported",
            "{\"model\":\"m\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"file\"}}]}]}|must be base64 or url",
            "{\"model\":\"m\",\"max_tokens\":9,\"tool_choice\":{\"type\":\"some\"},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}|'tool_choice.type' must be",
    })
    void aBadRequestIsA400NamingTheField(String body, String message) {
        assertThatThrownBy(() -> AnthropicRequests.toChat(Buffer.buffer(body)))
                .isInstanceOf(ApiException.class)
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(((ApiException) e).code()).isEqualTo(400));
    }

    private static Exchange served() {
        ModelCatalog catalog = ChatRequestParserTest.CATALOG;
        ModelCatalog.Model model = catalog.find("corouter/m");
        Exchange exchange = new Exchange("gen-test", null, null);
        exchange.providerCalled(new Router.Route(model, model.primary(), null, null));
        return exchange;
    }

    private static Buffer chunk(String delta, String finish) {
        return Buffer.buffer("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
                + delta + ",\"finish_reason\":" + (finish == null ? "null" : "\"" + finish + "\"") + "}]}\n\n");
    }

    /** The events of an Anthropic stream: each {@code event:} name and its data, checked to agree. */
    private static List<JsonObject> events(Buffer stream) {
        List<JsonObject> events = new ArrayList<>();
        for (String block : stream.toString().split("\n\n")) {
            if (block.isBlank()) {
                continue;
            }
            String[] lines = block.split("\n");
            assertThat(lines).hasSize(2);
            assertThat(lines[0]).startsWith("event: ");
            JsonObject data = new JsonObject(lines[1].substring("data: ".length()));
            assertThat(data.getString("type")).isEqualTo(lines[0].substring("event: ".length()));
            events.add(data);
        }
        return events;
    }

    @Test
    void aStreamOfTextThenAToolCallBecomesAnthropicEventsInOrder() {
        Exchange exchange = served();
        AnthropicStream stream = new AnthropicStream(exchange);
        Buffer out = Buffer.buffer();
        out.appendBuffer(stream.translate(chunk("{\"role\":\"assistant\",\"content\":\"\"}", null)));
        out.appendBuffer(stream.translate(chunk("{\"content\":\"Let me \"}", null).appendBuffer(
                chunk("{\"content\":\"check.\"}", null))));
        out.appendBuffer(stream.translate(chunk("{\"tool_calls\":[{\"index\":0,\"id\":\"call_9\",\"type\":\"function\","
                + "\"function\":{\"name\":\"weather\",\"arguments\":\"\"}}]}", null)));
        out.appendBuffer(stream.translate(chunk("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\":\"}}]}", null)));
        out.appendBuffer(stream.translate(chunk("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"Oslo\\\"}\"}}]}", null)));
        out.appendBuffer(stream.translate(chunk("{}", "tool_calls")));
        out.appendBuffer(stream.translate(Buffer.buffer(": keep-alive\n\ndata: [DONE]\n\n")));
        exchange.usage(new Usage(1_000, 40, 600, 0, false, 300));
        exchange.charged(12_345);
        out.appendBuffer(stream.finish());

        List<JsonObject> events = events(out);
        assertThat(events).extracting(e -> e.getString("type")).containsExactly("message_start",
                "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                "message_delta", "message_stop");
        JsonObject message = events.get(0).getJsonObject("message");
        assertThat(message.getString("id")).isEqualTo("gen-test");
        assertThat(message.getString("model")).isEqualTo("corouter/m");
        assertThat(message.getString("role")).isEqualTo("assistant");
        assertThat(events.get(1).getInteger("index")).isZero();
        assertThat(events.get(1).getJsonObject("content_block").getString("type")).isEqualTo("text");
        assertThat(events.get(2).getJsonObject("delta").getString("text")).isEqualTo("Let me ");
        assertThat(events.get(3).getJsonObject("delta").getString("type")).isEqualTo("text_delta");
        JsonObject toolBlock = events.get(5);
        assertThat(toolBlock.getInteger("index")).isEqualTo(1);
        assertThat(toolBlock.getJsonObject("content_block").getString("type")).isEqualTo("tool_use");
        assertThat(toolBlock.getJsonObject("content_block").getString("id")).isEqualTo("call_9");
        assertThat(toolBlock.getJsonObject("content_block").getString("name")).isEqualTo("weather");
        String arguments = events.get(6).getJsonObject("delta").getString("partial_json")
                + events.get(7).getJsonObject("delta").getString("partial_json");
        assertThat(events.get(6).getJsonObject("delta").getString("type")).isEqualTo("input_json_delta");
        assertThat(new JsonObject(arguments).getString("city")).isEqualTo("Oslo");
        assertThat(events.get(8).getInteger("index")).isEqualTo(1);
        JsonObject delta = events.get(9);
        assertThat(delta.getJsonObject("delta").getString("stop_reason")).isEqualTo("tool_use");
        JsonObject usage = delta.getJsonObject("usage");
        assertThat(usage.getInteger("input_tokens")).as("uncached prompt tokens").isEqualTo(100);
        assertThat(usage.getInteger("cache_read_input_tokens")).isEqualTo(600);
        assertThat(usage.getInteger("cache_creation_input_tokens")).isEqualTo(300);
        assertThat(usage.getInteger("output_tokens")).isEqualTo(40);
        assertThat(new BigDecimal(usage.getValue("cost").toString())).isEqualByComparingTo("0.000012345");
    }

    @Test
    void deltaTextWithQuotesControlCharactersAndNonAsciiArrivesExactlyAsSent() {
        String tricky = "say \"hi\"\n\ttab \\ back\u0001 caf\u00e9 \ud83d\ude00 </script>";
        AnthropicStream stream = new AnthropicStream(served());
        Buffer out = stream.translate(Buffer.buffer("data: " + new JsonObject().put("choices", new io.vertx.core.json
                .JsonArray().add(new JsonObject().put("index", 0).put("delta", new JsonObject().put("content", tricky))))
                .encode() + "\n\n"));
        List<JsonObject> events = events(out);
        assertThat(events.get(2).getString("type")).isEqualTo("content_block_delta");
        assertThat(events.get(2).getInteger("index")).isZero();
        assertThat(events.get(2).getJsonObject("delta").getString("type")).isEqualTo("text_delta");
        assertThat(events.get(2).getJsonObject("delta").getString("text")).isEqualTo(tricky);
        assertThat(out.toString()).contains("event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
                + "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":");
    }

    @Test
    void reasoningOpensAThinkingBlockAndAFailureMidStreamEndsWithAnErrorEvent() {
        AnthropicStream stream = new AnthropicStream(served());
        Buffer out = stream.translate(chunk("{\"reasoning\":\"think\"}", null))
                .appendBuffer(stream.translate(chunk("{\"content\":\"answer\"}", null)))
                .appendBuffer(stream.translate(Buffer.buffer("data: {not json\n\n")))
                .appendBuffer(stream.error(Failure.of(502, "the upstream stream broke")));
        List<JsonObject> events = events(out);
        assertThat(events).extracting(e -> e.getString("type")).containsExactly("message_start",
                "content_block_start", "content_block_delta", "content_block_stop", "content_block_start",
                "content_block_delta", "content_block_stop", "error");
        assertThat(events.get(1).getJsonObject("content_block").getString("type")).isEqualTo("thinking");
        assertThat(events.get(2).getJsonObject("delta").getString("thinking")).isEqualTo("think");
        JsonObject error = events.get(7).getJsonObject("error");
        assertThat(error.getString("type")).isEqualTo("api_error");
        assertThat(error.getString("message")).isEqualTo("the upstream stream broke");
    }

    @Test
    void finishReasonsAndStatusesMapToAnthropicNames() {
        assertThat(AnthropicDialect.stopReason("stop")).isEqualTo("end_turn");
        assertThat(AnthropicDialect.stopReason("length")).isEqualTo("max_tokens");
        assertThat(AnthropicDialect.stopReason("tool_calls")).isEqualTo("tool_use");
        assertThat(AnthropicDialect.stopReason("content_filter")).isEqualTo("refusal");
        assertThat(AnthropicDialect.errorType(400)).isEqualTo("invalid_request_error");
        assertThat(AnthropicDialect.errorType(401)).isEqualTo("authentication_error");
        assertThat(AnthropicDialect.errorType(402)).isEqualTo("billing_error");
        assertThat(AnthropicDialect.errorType(404)).isEqualTo("not_found_error");
        assertThat(AnthropicDialect.errorType(413)).isEqualTo("request_too_large");
        assertThat(AnthropicDialect.errorType(429)).isEqualTo("rate_limit_error");
        assertThat(AnthropicDialect.errorType(503)).isEqualTo("overloaded_error");
        assertThat(AnthropicDialect.errorType(504)).isEqualTo("timeout_error");
        assertThat(AnthropicDialect.errorType(502)).isEqualTo("api_error");
    }

    @Test
    void aLegacyPromptBecomesOneUserMessageWithOpenAisDefaultCap() {
        JsonObject chat = CompletionsDialect.INSTANCE.chatBody(Buffer.buffer(
                "{\"model\":\"m\",\"prompt\":[\"Once upon\"],\"temperature\":0.5,\"echo\":false,\"best_of\":1}"))
                .toJsonObject();
        assertThat(chat.containsKey("prompt")).isFalse();
        assertThat(chat.containsKey("echo")).isFalse();
        assertThat(chat.getInteger("max_tokens")).isEqualTo(16);
        assertThat(chat.getDouble("temperature")).isEqualTo(0.5);
        assertThat(chat.getJsonArray("messages")).containsExactly(
                new JsonObject().put("role", "user").put("content", "Once upon"));
        assertThat(CompletionsDialect.INSTANCE.chatBody(Buffer.buffer("{\"model\":\"m\",\"prompt\":\"x\",\"max_tokens\":99}"))
                .toJsonObject().getInteger("max_tokens")).isEqualTo(99);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"model\":\"m\"}|'prompt' is required",
            "{\"model\":\"m\",\"prompt\":[\"a\",\"b\"]}|'prompt' is required",
            "{\"model\":\"m\",\"prompt\":\"a\",\"suffix\":\"z\"}|'suffix' is not supported",
            "{\"model\":\"m\",\"prompt\":\"a\",\"echo\":true}|'echo' is not supported",
            "{\"model\":\"m\",\"prompt\":\"a\",\"best_of\":3}|'best_of' is not supported",
            "{\"model\":\"m\",\"prompt\":\"a\",\"logprobs\":2}|'logprobs' is not supported",
    })
    void whatAChatModelCannotHonourIsRefused(String body, String message) {
        assertThatThrownBy(() -> CompletionsDialect.INSTANCE.chatBody(Buffer.buffer(body)))
                .isInstanceOf(ApiException.class).hasMessageContaining(message);
    }

    @Test
    void legacyStreamChunksCarryTextAndSkipRoleOnlyChunks() {
        Dialect.StreamTranslator translator = CompletionsDialect.INSTANCE.streamTranslator(served());
        String out = translator.translate(chunk("{\"role\":\"assistant\"}", null)
                .appendBuffer(chunk("{\"content\":\"Hello\"}", null))
                .appendBuffer(chunk("{}", "length"))).toString();
        String[] events = out.split("\n\n");
        assertThat(events).hasSize(2);
        JsonObject first = new JsonObject(events[0].substring("data: ".length()));
        assertThat(first.getString("object")).isEqualTo("text_completion");
        assertThat(first.getString("id")).isEqualTo("gen-test");
        assertThat(first.getJsonArray("choices").getJsonObject(0).getString("text")).isEqualTo("Hello");
        assertThat(first.getJsonArray("choices").getJsonObject(0).getValue("finish_reason")).isNull();
        JsonObject last = new JsonObject(events[1].substring("data: ".length()));
        assertThat(last.getJsonArray("choices").getJsonObject(0).getString("finish_reason")).isEqualTo("length");
    }
}
