package co.corouter.provider.gemini;

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

class GeminiCompletionTest {

    private static final TokenCounter TOKENS = Tokens.counter();
    private static final ChatRequest CHAT = new ChatRequest("gen-1", "gemini-test", new JsonObject()
            .put("messages", new JsonArray()), 100, 5_000, Promise.<Void>promise().future())
            .responseModel("google/gemini");

    @Test
    void concatenatesTheTextPartsAndReportsGeminisUsage() {
        JsonObject response = response(candidate("STOP", text("Hello, "), text("world.")))
                .put("usageMetadata", new JsonObject().put("promptTokenCount", 42).put("candidatesTokenCount", 12)
                        .put("thoughtsTokenCount", 96).put("cachedContentTokenCount", 40)
                        .put("totalTokenCount", 150));

        ChatCompletion completion = of(response);

        JsonObject body = completion.body();
        assertThat(body.getString("id")).isEqualTo("gen-1");
        assertThat(body.getString("object")).isEqualTo("chat.completion");
        assertThat(body.getString("model")).isEqualTo("google/gemini");
        JsonObject choice = body.getJsonArray("choices").getJsonObject(0);
        assertThat(choice.getJsonObject("message").getMap()).containsEntry("role", "assistant")
                .containsEntry("content", "Hello, world.").doesNotContainKeys("tool_calls", "reasoning");
        assertThat(choice.getString("finish_reason")).isEqualTo("stop");
        assertThat(completion.usage()).isEqualTo(new Usage(42, 108, 40, 96, false));
        assertThat(body.getJsonObject("usage").getMap()).containsEntry("prompt_tokens", 42)
                .containsEntry("completion_tokens", 108).containsEntry("total_tokens", 150);
    }

    @Test
    void thoughtsGoToReasoningNeverToContent() {
        JsonObject thought = text("Let me think.").put("thought", true);
        JsonObject signedText = text("Answer.").put("thoughtSignature", "c2ln");

        JsonObject message = of(response(candidate("STOP", thought, signedText))).body().getJsonArray("choices")
                .getJsonObject(0).getJsonObject("message");

        assertThat(message.getString("content")).isEqualTo("Answer.");
        assertThat(message.getString("reasoning")).isEqualTo("Let me think.");
    }

    @Test
    void functionCallsBecomeToolCallsWithJsonArgumentsAndAToolCallsFinish() {
        JsonObject call = new JsonObject().put("functionCall", new JsonObject().put("name", "get_weather")
                .put("args", new JsonObject().put("city", "Paris"))).put("thoughtSignature", "c2lnbmVk");
        JsonObject second = new JsonObject().put("functionCall", new JsonObject().put("name", "get_time")
                .put("id", "gemini-id-7"));

        JsonObject choice = of(response(candidate("STOP", call, second))).body().getJsonArray("choices")
                .getJsonObject(0);

        assertThat(choice.getString("finish_reason")).isEqualTo("tool_calls");
        JsonObject message = choice.getJsonObject("message");
        assertThat(message.getValue("content")).as("OpenAI's content of a pure tool-call answer").isNull();
        JsonArray calls = message.getJsonArray("tool_calls");
        assertThat(calls).hasSize(2);
        JsonObject first = calls.getJsonObject(0);
        assertThat(first.getString("type")).isEqualTo("function");
        assertThat(first.getString("id")).matches("call_[0-9a-f]{24}__thought__c2lnbmVk");
        assertThat(new JsonObject(first.getJsonObject("function").getString("arguments")))
                .isEqualTo(new JsonObject().put("city", "Paris"));
        assertThat(calls.getJsonObject(1).getString("id")).as("Gemini's own id when it sent one")
                .isEqualTo("gemini-id-7");
        assertThat(calls.getJsonObject(1).getJsonObject("function").getString("arguments")).isEqualTo("{}");
    }

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource({"STOP, stop", "MAX_TOKENS, length", "SAFETY, content_filter", "RECITATION, content_filter",
            "BLOCKLIST, content_filter", "PROHIBITED_CONTENT, content_filter", "SPII, content_filter",
            "IMAGE_SAFETY, content_filter", "LANGUAGE, content_filter", "OTHER, content_filter",
            "MALFORMED_FUNCTION_CALL, stop", "FINISH_REASON_UNSPECIFIED, stop", "SOMETHING_NEW, stop"})
    void mapsEachFinishReason(String gemini, String openAi) {
        assertThat(of(response(candidate(gemini))).body().getJsonArray("choices").getJsonObject(0)
                .getString("finish_reason")).isEqualTo(openAi);
    }

    @Test
    void aCandidateWithoutPartsIsALegitimateEmptyAnswer() {
        JsonObject maxTokens = new JsonObject().put("content", new JsonObject().put("role", "model"))
                .put("finishReason", "MAX_TOKENS").put("index", 0);

        JsonObject choice = of(response(maxTokens)).body().getJsonArray("choices").getJsonObject(0);

        assertThat(choice.getJsonObject("message").getString("content")).isEmpty();
        assertThat(choice.getString("finish_reason")).isEqualTo("length");
    }

    @Test
    void aBlockedPromptIsAnEmptyContentFilterAnswer() {
        JsonObject blocked = new JsonObject().put("promptFeedback", new JsonObject().put("blockReason", "SAFETY"))
                .put("usageMetadata", new JsonObject().put("promptTokenCount", 9).put("totalTokenCount", 9));

        ChatCompletion completion = of(blocked);

        JsonObject choice = completion.body().getJsonArray("choices").getJsonObject(0);
        assertThat(choice.getString("finish_reason")).isEqualTo("content_filter");
        assertThat(choice.getJsonObject("message").getString("content")).isEmpty();
        assertThat(completion.usage()).isEqualTo(Usage.of(9, 0));
    }

    @Test
    void countsTheAnswerWithTheHostsTokenizerWhenGeminiReportsNoUsage() {
        JsonObject call = new JsonObject().put("functionCall", new JsonObject().put("name", "f")
                .put("args", new JsonObject().put("q", "fox")));

        ChatCompletion completion = of(response(candidate("STOP", text("The quick brown fox"), call)));

        assertThat(completion.usage()).isEqualTo(Usage.estimatedCompletion(
                TOKENS.count("The quick brown fox" + "{\"q\":\"fox\"}")));
    }

    @Test
    void refusesAResponseWithNeitherCandidatesNorABlockAndOneThatIsNotJson() {
        assertThatThrownBy(() -> of(new JsonObject().put("modelVersion", "m")))
                .isInstanceOfSatisfying(ProviderException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.BAD_RESPONSE);
                    assertThat(e.upstreamStatus()).isEqualTo(200);
                });
        assertThatThrownBy(() -> GeminiCompletion.of(200, Buffer.buffer("{\"candidates\": [{"), CHAT, TOKENS))
                .isInstanceOfSatisfying(ProviderException.class,
                        e -> assertThat(e.kind()).isEqualTo(Kind.BAD_RESPONSE));
    }

    @Test
    void anErrorObjectIn200IsAnUpstreamFailure() {
        JsonObject error = new JsonObject().put("error", new JsonObject().put("code", 503)
                .put("message", "overloaded").put("status", "UNAVAILABLE"));

        assertThatThrownBy(() -> of(error))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.kind()).isEqualTo(Kind.OVERLOADED));
    }

    @Test
    void usageReadsEveryOptionalFieldAndNeverLetsCachedExceedPrompt() {
        assertThat(GeminiUsage.reported(new JsonObject().put("promptTokenCount", 5))).isEqualTo(Usage.of(5, 0));
        assertThat(GeminiUsage.reported(new JsonObject().put("promptTokenCount", 5).put("toolUsePromptTokenCount", 3)
                .put("candidatesTokenCount", 2))).isEqualTo(Usage.of(8, 2));
        assertThat(GeminiUsage.reported(new JsonObject().put("promptTokenCount", 5)
                .put("cachedContentTokenCount", 9))).isEqualTo(new Usage(5, 0, 5, 0, false));
        assertThat(GeminiUsage.reported(new JsonObject().put("totalTokenCount", 5))).isNull();
        assertThat(GeminiUsage.reported(null)).isNull();
    }

    // ---- helpers ----

    private static ChatCompletion of(JsonObject response) {
        return GeminiCompletion.of(200, response.toBuffer(), CHAT, TOKENS);
    }

    private static JsonObject response(JsonObject candidate) {
        return new JsonObject().put("candidates", new JsonArray().add(candidate)).put("modelVersion", "gemini-test")
                .put("responseId", "r-1");
    }

    private static JsonObject candidate(String finishReason, JsonObject... parts) {
        JsonArray list = new JsonArray();
        for (JsonObject part : parts) {
            list.add(part);
        }
        JsonObject content = new JsonObject().put("role", "model");
        if (!list.isEmpty()) {
            content.put("parts", list);
        }
        return new JsonObject().put("content", content).put("finishReason", finishReason).put("index", 0);
    }

    private static JsonObject text(String text) {
        return new JsonObject().put("text", text);
    }
}
