package co.corouter.provider.gemini;

import co.corouter.plugin.api.ChunkEncoder;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import co.corouter.testkit.tck.Tokens;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class GeminiStreamTest {

    private static final TokenCounter TOKENS = Tokens.counter();
    private static final int CAP = 100;

    @Test
    void turnsEachEventIntoChunksAsItArrivesAndFinishesWhenTheBodyEnds() {
        GeminiStream stream = stream();

        List<JsonObject> first = chunks(stream.accept(sse(textEvent("Hello", null, usage(5, 1)))));
        List<JsonObject> second = chunks(stream.accept(sse(textEvent(", world", "STOP", usage(5, 3)))));
        List<JsonObject> last = chunks(stream.end());

        assertThat(first).hasSize(2);
        assertThat(delta(first.get(0)).getMap()).containsEntry("role", "assistant").containsEntry("content", "");
        assertThat(delta(first.get(1)).getString("content")).isEqualTo("Hello");
        assertThat(second).hasSize(1);
        assertThat(delta(second.get(0)).getString("content")).isEqualTo(", world");
        assertThat(finishReasonOf(second.get(0))).as("the finish waits for the end of the body").isNull();
        assertThat(last).hasSize(1);
        assertThat(finishReasonOf(last.get(0))).isEqualTo("stop");
        assertThat(first.get(0).getString("id")).isEqualTo("gen-1");
        assertThat(first.get(0).getString("model")).isEqualTo("public/model");
        assertThat(stream.complete()).isTrue();
        assertThat(stream.failure()).isNull();
        assertThat(stream.usage()).isEqualTo(Usage.of(5, 3));
        assertThat(stream.finishReason()).isEqualTo("stop");
    }

    @ParameterizedTest(name = "fragments of {0} bytes")
    @ValueSource(ints = {1, 2, 3, 5, 7, 13, 64, 10_000})
    void reassemblesEventsSplitAnywhereIntoTheSameAnswer(int size) {
        String body = textEvent("Grüße – 日本", null, usage(4, 2)) + textEvent(" end", "STOP", usage(4, 5));
        for (String newline : new String[] {"\n", "\r\n"}) {
            String framed = body.replace("\n", newline);
            GeminiStream stream = stream();
            List<Buffer> writes = new ArrayList<>();
            byte[] bytes = framed.getBytes(StandardCharsets.UTF_8);
            for (int from = 0; from < bytes.length; from += size) {
                int length = Math.min(size, bytes.length - from);
                writes.add(stream.accept(Buffer.buffer().appendBytes(bytes, from, length)));
            }
            writes.add(stream.end());

            StringBuilder all = new StringBuilder();
            for (Buffer write : writes) {
                assertThat(write.length() == 0 || write.toString().endsWith("\n\n")).as("whole events per write")
                        .isTrue();
                all.append(write);
            }
            assertThat(content(chunks(Buffer.buffer(all.toString())))).isEqualTo("Grüße – 日本 end");
            assertThat(stream.usage()).isEqualTo(Usage.of(4, 5));
        }
    }

    @Test
    void aFunctionCallBecomesAWholeToolCallDeltaAndALaterStopBecomesToolCalls() {
        GeminiStream stream = stream();
        String call = event(candidate(null, new JsonObject().put("functionCall", new JsonObject()
                .put("name", "get_weather").put("args", new JsonObject().put("city", "Paris")))
                .put("thoughtSignature", "c2ln")), null);
        String bareStop = event(candidate("STOP", new JsonObject().put("text", "")), usage(5, 7));

        List<JsonObject> chunks = chunks(stream.accept(sse(call + bareStop)));
        chunks.addAll(chunks(stream.end()));

        assertThat(chunks).hasSize(3);
        JsonObject toolCall = delta(chunks.get(1)).getJsonArray("tool_calls").getJsonObject(0);
        assertThat(toolCall.getInteger("index")).isZero();
        assertThat(toolCall.getString("id")).startsWith("call_").endsWith("__thought__c2ln");
        assertThat(toolCall.getJsonObject("function").getString("name")).isEqualTo("get_weather");
        assertThat(new JsonObject(toolCall.getJsonObject("function").getString("arguments")))
                .isEqualTo(new JsonObject().put("city", "Paris"));
        assertThat(finishReasonOf(chunks.get(2))).isEqualTo("tool_calls");
        assertThat(stream.finishReason()).isEqualTo("tool_calls");
    }

    @Test
    void parallelCallsAreIndexedAcrossTheStream() {
        GeminiStream stream = stream();
        JsonObject a = new JsonObject().put("functionCall", new JsonObject().put("name", "a"));
        JsonObject b = new JsonObject().put("functionCall", new JsonObject().put("name", "b"));

        List<JsonObject> chunks = chunks(stream.accept(sse(event(candidate(null, a, b), null)
                + event(candidate("STOP", b.copy()), null))));

        assertThat(chunks.subList(1, 4)).extracting(c -> delta(c).getJsonArray("tool_calls").getJsonObject(0)
                .getInteger("index")).containsExactly(0, 1, 2);
    }

    @Test
    void thoughtsStreamAsReasoning() {
        GeminiStream stream = stream();

        List<JsonObject> chunks = chunks(stream.accept(sse(event(candidate(null,
                new JsonObject().put("text", "Pondering").put("thought", true)), null))));

        assertThat(delta(chunks.get(1)).getString("reasoning")).isEqualTo("Pondering");
        assertThat(delta(chunks.get(1)).containsKey("content")).isFalse();
    }

    @Test
    void aSafetyStopWithoutPartsIsAContentFilterFinish() {
        GeminiStream stream = stream();

        assertThat(content(chunks(stream.accept(sse(textEvent("Sure, here", null, null)))))).isEqualTo("Sure, here");
        assertThat(stream.accept(sse(event(new JsonObject().put("content", new JsonObject().put("role", "model"))
                .put("finishReason", "SAFETY").put("index", 0), usage(5, 3)))).length()).isZero();
        List<JsonObject> last = chunks(stream.end());

        assertThat(finishReasonOf(last.get(0))).isEqualTo("content_filter");
        assertThat(stream.complete()).isTrue();
    }

    @Test
    void aBlockedPromptIsARoleAndAContentFilterFinish() {
        GeminiStream stream = stream();
        String blocked = new JsonObject().put("promptFeedback", new JsonObject()
                .put("blockReason", "PROHIBITED_CONTENT")).put("usageMetadata", usage(9, 0)).encode();

        assertThat(stream.accept(sse(blocked + "\n\n")).length()).isZero();
        List<JsonObject> chunks = chunks(stream.end());

        assertThat(chunks).hasSize(2);
        assertThat(delta(chunks.get(0)).getString("role")).isEqualTo("assistant");
        assertThat(finishReasonOf(chunks.get(1))).isEqualTo("content_filter");
        assertThat(stream.usage()).isEqualTo(Usage.of(9, 0));
    }

    @Test
    void aModelThatSetsStopOnEveryEventStillGetsOneFinish() {
        GeminiStream stream = stream();

        List<JsonObject> chunks = chunks(stream.accept(sse(textEvent("a", "STOP", null) + textEvent("b", "STOP",
                null))));
        chunks.addAll(chunks(stream.end()));

        assertThat(content(chunks)).isEqualTo("ab");
        assertThat(chunks).filteredOn(c -> finishReasonOf(c) != null).hasSize(1);
    }

    @Test
    void keepsTheLastUsageSeenWhenTheLastEventHasNone() {
        GeminiStream stream = stream();

        stream.accept(sse(textEvent("a", null, usage(6, 2).put("thoughtsTokenCount", 4)) + textEvent("b", "STOP",
                null)));
        stream.end();

        assertThat(stream.usage()).isEqualTo(new Usage(6, 6, 0, 4, false));
    }

    @Test
    void countsTheForwardedOutputWhenGeminiReportsNoUsage() {
        GeminiStream stream = stream();

        stream.accept(sse(textEvent("The quick brown fox", "STOP", null)));
        stream.end();

        assertThat(stream.usage()).isEqualTo(Usage.estimatedCompletion(TOKENS.count("The quick brown fox")));
    }

    @Test
    void anErrorEventFailsTheStreamAfterForwardingTheEventsBeforeIt() {
        GeminiStream stream = stream();
        String error = new JsonObject().put("error", new JsonObject().put("code", 503)
                .put("message", "The model is overloaded, said the fox").put("status", "UNAVAILABLE")).encode();

        List<JsonObject> forwarded = chunks(stream.accept(sse(textEvent("The quick", null, usage(7, 2)) + error
                + "\n\n" + textEvent(" brown", null, null))));

        assertThat(content(forwarded)).isEqualTo("The quick");
        assertThat(stream.failure().kind()).isEqualTo(Kind.OVERLOADED);
        assertThat(stream.failure().upstreamStatus()).isEqualTo(503);
        assertThat(stream.failure().getMessage()).contains("UNAVAILABLE").doesNotContain("fox");
        assertThat(stream.deliveredUsage()).as("the last prompt count seen and the counted output")
                .isEqualTo(new Usage(7, TOKENS.count("The quick"), 0, 0, true));
        assertThat(stream.accept(sse(textEvent("more", null, null))).length()).isZero();
        assertThat(stream.end().length()).isZero();
    }

    @Test
    void aRateLimitErrorMidStreamCarriesItsRetryDelay() {
        GeminiStream stream = stream();
        String raw = new JsonObject().put("error", new JsonObject().put("code", 429).put("status", "RESOURCE_EXHAUSTED")
                .put("details", new JsonArray().add(new JsonObject()
                        .put("@type", "type.googleapis.com/google.rpc.RetryInfo").put("retryDelay", "3.5s"))))
                .encodePrettily();

        stream.accept(Buffer.buffer(raw.substring(0, 20)));
        stream.accept(Buffer.buffer(raw.substring(20)));
        assertThat(stream.failure()).as("its last line has no line end yet").isNull();
        stream.end();

        assertThat(stream.failure().kind()).isEqualTo(Kind.RATE_LIMITED);
        assertThat(stream.failure().retryAfterMillis()).isEqualTo(3_500);
    }

    @Test
    void anEventThatIsNotJsonIsABadResponse() {
        GeminiStream stream = stream();

        stream.accept(sse("data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"tru\n\n"));

        assertThat(stream.failure().kind()).isEqualTo(Kind.BAD_RESPONSE);
    }

    @Test
    void rawJsonLeftUnfinishedWhenTheBodyEndsIsABadResponse() {
        GeminiStream stream = stream();

        stream.accept(sse(textEvent("a", null, null) + "{\n  \"error\": {\n    \"code\": 50"));
        assertThat(stream.failure()).isNull();
        stream.end();

        assertThat(stream.failure().kind()).isEqualTo(Kind.BAD_RESPONSE);
    }

    @Test
    void aBodyThatEndsWithoutAFinishReasonFailed() {
        GeminiStream stream = stream();

        List<JsonObject> forwarded = chunks(stream.accept(sse(textEvent("half an ans", null, null))));
        Buffer last = stream.end();

        assertThat(content(forwarded)).isEqualTo("half an ans");
        assertThat(last.length()).isZero();
        assertThat(stream.complete()).isFalse();
        assertThat(stream.failure().kind()).isEqualTo(Kind.UPSTREAM_ERROR);
        assertThat(stream.deliveredUsage()).as("no prompt count seen: the host counts the prompt")
                .isEqualTo(Usage.estimatedCompletion(TOKENS.count("half an ans")));
    }

    @Test
    void theDeliveredEstimateNeverExceedsTheCap() {
        GeminiStream stream = new GeminiStream(ChunkEncoder.of("gen-1", "public/model", 0), 3, TOKENS);

        stream.accept(sse(textEvent(" hello".repeat(10), null, null)));

        assertThat(stream.deliveredUsage()).isEqualTo(Usage.estimatedCompletion(3));
    }

    @Test
    void anEventWithoutOutputWritesNothingButStartsTheAnswer() {
        GeminiStream stream = stream();

        Buffer out = stream.accept(sse(new JsonObject().put("usageMetadata", usage(5, 0)).encode() + "\n\n"));

        assertThat(out.length()).isZero();
        assertThat(stream.answerStarted()).isTrue();
        assertThat(stream().answerStarted()).isFalse();
    }

    // ---- helpers ----

    private static GeminiStream stream() {
        return new GeminiStream(ChunkEncoder.of("gen-1", "public/model", 0), CAP, TOKENS);
    }

    /** One upstream read of these bytes. */
    private static Buffer sse(String events) {
        return Buffer.buffer(events);
    }

    private static String textEvent(String text, String finishReason, JsonObject usage) {
        return event(candidate(finishReason, new JsonObject().put("text", text)), usage);
    }

    private static String event(JsonObject candidate, JsonObject usage) {
        JsonObject response = new JsonObject().put("candidates", new JsonArray().add(candidate));
        if (usage != null) {
            response.put("usageMetadata", usage);
        }
        return "data: " + response.put("modelVersion", "gemini-test").put("responseId", "r-1").encode() + "\n\n";
    }

    private static JsonObject candidate(String finishReason, JsonObject... parts) {
        JsonArray list = new JsonArray();
        for (JsonObject part : parts) {
            list.add(part);
        }
        JsonObject candidate = new JsonObject().put("content", new JsonObject().put("parts", list)
                .put("role", "model"));
        if (finishReason != null) {
            candidate.put("finishReason", finishReason);
        }
        return candidate.put("index", 0);
    }

    private static JsonObject usage(int prompt, int candidates) {
        JsonObject usage = new JsonObject().put("promptTokenCount", prompt);
        if (candidates > 0) {
            usage.put("candidatesTokenCount", candidates);
        }
        return usage.put("totalTokenCount", prompt + candidates);
    }

    private static List<JsonObject> chunks(Buffer events) {
        List<JsonObject> chunks = new ArrayList<>();
        String text = events.toString();
        if (text.isEmpty()) {
            return chunks;
        }
        assertThat(text).endsWith("\n\n");
        for (String event : text.split("\n\n")) {
            assertThat(event).startsWith("data: ").doesNotContain("\n");
            JsonObject chunk = new JsonObject(event.substring("data: ".length()));
            assertThat(chunk.getString("object")).isEqualTo("chat.completion.chunk");
            chunks.add(chunk);
        }
        return chunks;
    }

    private static JsonObject delta(JsonObject chunk) {
        return chunk.getJsonArray("choices").getJsonObject(0).getJsonObject("delta");
    }

    private static String finishReasonOf(JsonObject chunk) {
        return chunk.getJsonArray("choices").getJsonObject(0).getString("finish_reason");
    }

    private static String content(List<JsonObject> chunks) {
        StringBuilder content = new StringBuilder();
        for (JsonObject chunk : chunks) {
            if (delta(chunk).getValue("content") instanceof String piece) {
                content.append(piece);
            }
        }
        return content.toString();
    }
}
