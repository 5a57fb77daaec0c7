package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MessagesResponseTest {

    private static final TokenCounter TOKENS = Tokens.counter();
    private static final ChatRequest CHAT = new ChatRequest("gen-1", "claude-upstream",
            new JsonObject().put("messages", new JsonArray()), 100, 5_000, Promise.<Void>promise().future())
            .responseModel("public/claude");

    @Test
    void turnsTextBlocksIntoContentStampedWithTheGenerationIdAndResponseModel() {
        ChatCompletion completion = completion(message(new JsonArray()
                .add(text("Hello, ")).add(text("world.")), "end_turn", usage(12, 5, 0, 0)));

        JsonObject body = completion.parsed();
        assertThat(body.getString("id")).isEqualTo("gen-1");
        assertThat(body.getString("object")).isEqualTo("chat.completion");
        assertThat(body.getString("model")).isEqualTo("public/claude");
        JsonObject choice = body.getJsonArray("choices").getJsonObject(0);
        assertThat(choice.getJsonObject("message")).isEqualTo(new JsonObject().put("role", "assistant")
                .put("content", "Hello, world."));
        assertThat(choice.getString("finish_reason")).isEqualTo("stop");
        assertThat(completion.finishReason()).isEqualTo("stop");
        assertThat(completion.usage()).isEqualTo(Usage.of(12, 5));
        assertThat(body.getJsonObject("usage").getMap()).containsEntry("prompt_tokens", 12)
                .containsEntry("completion_tokens", 5).containsEntry("total_tokens", 17);
    }

    @Test
    void turnsToolUseIntoToolCallsWithTheInputAsAJsonStringAndThinkingIntoReasoning() {
        JsonObject input = new JsonObject().put("city", "Paris");
        ChatCompletion completion = completion(message(new JsonArray()
                .add(new JsonObject().put("type", "thinking").put("thinking", "Weather needs a tool.")
                        .put("signature", "sig"))
                .add(new JsonObject().put("type", "redacted_thinking").put("data", "opaque"))
                .add(new JsonObject().put("type", "tool_use").put("id", "toolu_01").put("name", "get_weather")
                        .put("input", input)), "tool_use", usage(20, 30, 0, 0)));

        JsonObject choice = completion.parsed().getJsonArray("choices").getJsonObject(0);
        JsonObject assistant = choice.getJsonObject("message");
        assertThat(assistant.containsKey("content")).isTrue();
        assertThat(assistant.getValue("content")).as("no text, only tool calls").isNull();
        assertThat(assistant.getString("reasoning")).isEqualTo("Weather needs a tool.");
        assertThat(assistant.getJsonArray("tool_calls")).containsExactly(new JsonObject().put("id", "toolu_01")
                .put("type", "function").put("function", new JsonObject().put("name", "get_weather")
                        .put("arguments", input.encode())));
        assertThat(new JsonObject(assistant.getJsonArray("tool_calls").getJsonObject(0).getJsonObject("function")
                .getString("arguments"))).isEqualTo(input);
        assertThat(choice.getString("finish_reason")).isEqualTo("tool_calls");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"end_turn, stop", "stop_sequence, stop", "max_tokens, length", "tool_use, tool_calls",
            "refusal, content_filter", "pause_turn, stop", "model_context_window_exceeded, length",
            "something_new, stop"})
    void mapsEachStopReasonToAFinishReason(String stopReason, String finishReason) {
        ChatCompletion completion = completion(message(new JsonArray().add(text("x")), stopReason,
                usage(1, 1, 0, 0)));

        assertThat(completion.finishReason()).isEqualTo(finishReason);
        assertThat(StopReasons.finishReason(stopReason)).isEqualTo(finishReason);
    }

    @Test
    void countsCacheReadsAndWritesIntoThePromptAndReportsThemApart() {
        ChatCompletion completion = completion(message(new JsonArray().add(text("x")), "end_turn",
                usage(472, 89, 1024, 200)));

        assertThat(completion.usage()).isEqualTo(new Usage(472 + 1024 + 200, 89, 1024, 0, false, 200));
        JsonObject usage = completion.parsed().getJsonObject("usage");
        assertThat(usage.getInteger("prompt_tokens")).isEqualTo(1696);
        assertThat(usage.getJsonObject("prompt_tokens_details").getMap()).containsEntry("cached_tokens", 1024)
                .containsEntry("cache_write_tokens", 200);
    }

    @Test
    void countsTheAnswerWhenTheMessageHasNoUsageAndLeavesThePromptToTheHost() {
        String answer = "The quick brown fox jumps over the lazy dog.";
        JsonObject message = message(new JsonArray().add(text(answer)), "end_turn", null);

        assertThat(completion(message).usage()).isEqualTo(Usage.estimatedCompletion(TOKENS.count(answer)));
    }

    @Test
    void refusesABodyThatIsNotAMessage() {
        assertThatThrownBy(() -> MessagesResponse.completion(200, Buffer.buffer("{\"content\":[{\"type\":\"te"),
                CHAT, TOKENS)).isInstanceOfSatisfying(ProviderException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.BAD_RESPONSE);
                    assertThat(e.upstreamStatus()).isEqualTo(200);
                });
        assertThatThrownBy(() -> MessagesResponse.completion(200, Buffer.buffer("{\"type\":\"message\"}"),
                CHAT, TOKENS)).isInstanceOfSatisfying(ProviderException.class,
                e -> assertThat(e.getMessage()).isEqualTo("upstream sent a message without content"));
    }

    private static ChatCompletion completion(JsonObject message) {
        return MessagesResponse.completion(200, message.toBuffer(), CHAT, TOKENS);
    }

    private static JsonObject message(JsonArray content, String stopReason, JsonObject usage) {
        JsonObject message = new JsonObject().put("id", "msg_01").put("type", "message").put("role", "assistant")
                .put("model", "claude-upstream").put("content", content).put("stop_reason", stopReason)
                .putNull("stop_sequence");
        return usage == null ? message : message.put("usage", usage);
    }

    private static JsonObject text(String text) {
        return new JsonObject().put("type", "text").put("text", text).putNull("citations");
    }

    private static JsonObject usage(int input, int output, int cacheRead, int cacheCreation) {
        return new JsonObject().put("input_tokens", input).put("output_tokens", output)
                .put("cache_read_input_tokens", cacheRead).put("cache_creation_input_tokens", cacheCreation);
    }
}
