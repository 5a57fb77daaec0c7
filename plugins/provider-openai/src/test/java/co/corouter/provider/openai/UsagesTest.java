package co.corouter.provider.openai;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import co.corouter.testkit.tck.Tokens;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class UsagesTest {

    private static final TokenCounter TOKENS = Tokens.counter();

    @Test
    void readsTheReportedUsageWithItsCachedAndReasoningParts() {
        JsonObject usage = new JsonObject().put("prompt_tokens", 9).put("completion_tokens", 4)
                .put("prompt_tokens_details", new JsonObject().put("cached_tokens", 20))
                .put("completion_tokens_details", new JsonObject().put("reasoning_tokens", 3));

        assertThat(Usages.reported(usage)).as("cached tokens are capped by the prompt")
                .isEqualTo(new Usage(9, 4, 9, 3, false));
        assertThat(Usages.reported(new JsonObject().put("prompt_tokens", "9"))).isNull();
        assertThat(Usages.reported(null)).isNull();
    }

    @Test
    void theOutputTextIsEveryChoicesContentAndToolCallArguments() {
        JsonArray choices = new JsonArray()
                .add(choice(new JsonObject().put("role", "assistant").put("content", "Hello").put("refusal", "no")))
                .add(choice(new JsonObject().put("role", "assistant").put("content", new JsonArray()
                        .add(new JsonObject().put("type", "text").put("text", " world"))
                        .add(new JsonObject().put("type", "image_url")))))
                .add(choice(new JsonObject().put("role", "assistant").putNull("content")
                        .put("tool_calls", new JsonArray().add(toolCall("{\"city\":\"Paris\"}")))))
                .add("not a choice");

        assertThat(Usages.outputText(choices)).isEqualTo("Hello world{\"city\":\"Paris\"}");
    }

    @Test
    void aWholeCompletionWithoutUsageCountsItsToolCallArguments() {
        String arguments = "{\"city\":\"Paris\",\"unit\":\"celsius\"}";
        JsonObject body = new JsonObject().put("object", "chat.completion").put("choices", new JsonArray()
                .add(choice(new JsonObject().put("role", "assistant").putNull("content")
                        .put("tool_calls", new JsonArray().add(toolCall(arguments))))
                        .put("finish_reason", "tool_calls")));

        ChatCompletion completion = OpenAiEndpoint.completion(200, body.toBuffer(), TOKENS);

        assertThat(completion.usage()).isEqualTo(Usage.estimatedCompletion(TOKENS.count(arguments)));
        assertThat(completion.usage().completionTokens()).isPositive();
        assertThat(completion.finishReason()).isEqualTo("tool_calls");
    }

    @Test
    void aWholeCompletionWithUsageIsNeverCounted() {
        TokenCounter mustNotCount = text -> {
            throw new AssertionError("counted although the upstream reported usage");
        };
        Buffer body = Buffer.buffer("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},"
                + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}");

        assertThat(OpenAiEndpoint.completion(200, body, mustNotCount).usage()).isEqualTo(Usage.of(5, 1));
    }

    private static JsonObject choice(JsonObject message) {
        return new JsonObject().put("index", 0).put("message", message);
    }

    private static JsonObject toolCall(String arguments) {
        return new JsonObject().put("id", "call_1").put("type", "function")
                .put("function", new JsonObject().put("name", "weather").put("arguments", arguments));
    }
}
