package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ChunkEncoder;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import co.corouter.testkit.tck.Tokens;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StreamTranslatorTest {

    private static final TokenCounter TOKENS = Tokens.counter();
    private static final ChunkEncoder CHUNKS = ChunkEncoder.of("gen-1", "public/claude", 1_700_000_000L);

    private static final String START = event("message_start", "{\"type\":\"message_start\",\"message\":{"
            + "\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-upstream\","
            + "\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":472,"
            + "\"cache_creation_input_tokens\":200,\"cache_read_input_tokens\":1024,\"output_tokens\":1}}}");
    private static final String TEXT_START = event("content_block_start",
            "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}");
    private static final String PING = event("ping", "{\"type\":\"ping\"}");
    private static final String TEXT_STOP = blockStop(0);
    private static final String STOP = event("message_stop", "{\"type\":\"message_stop\"}");

    @Test
    void writesEachEventsChunkAsTheEventArrivesStampedWithTheRequestsIdAndModel() {
        StreamTranslator translator = new StreamTranslator(CHUNKS);

        assertThat(translator.accept(Buffer.buffer(START)).toString()).isEqualTo(CHUNKS.role().toString());
        assertThat(translator.started()).isTrue();
        assertThat(translator.accept(Buffer.buffer(TEXT_START)).length()).isZero();
        assertThat(translator.accept(Buffer.buffer(PING)).length()).isZero();
        assertThat(translator.accept(Buffer.buffer(text(0, "Hello"))).toString())
                .isEqualTo(CHUNKS.content("Hello").toString());
        assertThat(translator.accept(Buffer.buffer(text(0, ", \"world\""))).toString())
                .isEqualTo(CHUNKS.content(", \"world\"").toString());
        assertThat(translator.accept(Buffer.buffer(TEXT_STOP)).length()).isZero();
        assertThat(translator.accept(Buffer.buffer(messageDelta("end_turn", 89))).length()).isZero();
        assertThat(translator.done()).isFalse();
        assertThat(translator.accept(Buffer.buffer(STOP)).toString()).isEqualTo(CHUNKS.finish("stop").toString());

        assertThat(translator.done()).isTrue();
        assertThat(translator.failure()).isNull();
        assertThat(translator.finishReason()).isEqualTo("stop");
        assertThat(translator.usage(TOKENS, 100)).as("the cache reads and writes are part of the prompt")
                .isEqualTo(new Usage(472 + 1024 + 200, 89, 1024, 0, false, 200));
        assertThat(translator.accept(Buffer.buffer(text(0, "late"))).length()).as("nothing after the stop").isZero();
    }

    @Test
    void writesEverythingOneReadCompletesAsOneBuffer() {
        StreamTranslator translator = new StreamTranslator(CHUNKS);

        Buffer out = translator.accept(Buffer.buffer(textStream("a", "b")));

        assertThat(out.toString()).isEqualTo(CHUNKS.role().appendBuffer(CHUNKS.content("a"))
                .appendBuffer(CHUNKS.content("b")).appendBuffer(CHUNKS.finish("stop")).toString());
        assertThat(chunks(out)).allSatisfy(chunk -> {
            assertThat(chunk.getString("id")).isEqualTo("gen-1");
            assertThat(chunk.getString("model")).isEqualTo("public/claude");
            assertThat(chunk.getString("object")).isEqualTo("chat.completion.chunk");
        });
    }

    @ParameterizedTest(name = "{0}-byte reads")
    @ValueSource(ints = {1, 2, 7, 64})
    void translatesAFragmentedStreamToTheSameChunksWritingOnlyWholeEvents(int size) {
        String stream = textStream("Grüße ", "😀 ", "done").replace("\n", "\r\n");
        byte[] bytes = stream.getBytes(StandardCharsets.UTF_8);
        StreamTranslator translator = new StreamTranslator(CHUNKS);
        List<Buffer> writes = new ArrayList<>();

        for (int i = 0; i < bytes.length; i += size) {
            Buffer out = translator.accept(Buffer.buffer().appendBytes(bytes, i, Math.min(size, bytes.length - i)));
            if (out.length() > 0) {
                writes.add(out);
            }
        }

        assertThat(writes).allSatisfy(write -> assertThat(write.toString()).endsWith("\n\n"));
        Buffer all = Buffer.buffer();
        writes.forEach(all::appendBuffer);
        assertThat(all.toString()).isEqualTo(new StreamTranslator(CHUNKS).accept(Buffer.buffer(stream)).toString());
        assertThat(translator.done()).isTrue();
    }

    @Test
    void turnsToolUseBlocksIntoToolCallsNumberedByToolNotByContentIndex() {
        StreamTranslator translator = new StreamTranslator(CHUNKS);
        String stream = START + TEXT_START + text(0, "Checking.") + TEXT_STOP
                + toolStart(1, "toolu_01", "get_weather") + toolInput(1, "") + toolInput(1, "{\"city\":")
                + toolInput(1, " \"Paris\"}") + blockStop(1)
                + toolStart(2, "toolu_02", "get_time") + toolInput(2, "{}") + blockStop(2)
                + messageDelta("tool_use", 40) + STOP;

        Buffer out = translator.accept(Buffer.buffer(stream));

        assertThat(out.toString()).isEqualTo(CHUNKS.role()
                .appendBuffer(CHUNKS.content("Checking."))
                .appendBuffer(CHUNKS.toolCall(0, "toolu_01", "get_weather", ""))
                .appendBuffer(CHUNKS.toolCall(0, null, null, "{\"city\":"))
                .appendBuffer(CHUNKS.toolCall(0, null, null, " \"Paris\"}"))
                .appendBuffer(CHUNKS.toolCall(1, "toolu_02", "get_time", ""))
                .appendBuffer(CHUNKS.toolCall(1, null, null, "{}"))
                .appendBuffer(CHUNKS.finish("tool_calls")).toString());
        assertThat(translator.finishReason()).isEqualTo("tool_calls");
    }

    @Test
    void turnsThinkingIntoReasoningAndDropsSignatures() {
        StreamTranslator translator = new StreamTranslator(CHUNKS);
        String stream = START + event("content_block_start", "{\"type\":\"content_block_start\",\"index\":0,"
                + "\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}")
                + delta(0, "{\"type\":\"thinking_delta\",\"thinking\":\"Let me think.\"}")
                + delta(0, "{\"type\":\"signature_delta\",\"signature\":\"EqQB\"}")
                + delta(0, "{\"type\":\"citations_delta\",\"citation\":{}}") + blockStop(0)
                + event("content_block_start", "{\"type\":\"content_block_start\",\"index\":1,"
                + "\"content_block\":{\"type\":\"redacted_thinking\",\"data\":\"opaque\"}}") + blockStop(1);

        Buffer out = translator.accept(Buffer.buffer(stream));

        assertThat(out.toString()).isEqualTo(CHUNKS.role().appendBuffer(CHUNKS.reasoning("Let me think."))
                .toString());
    }

    @Test
    void aMessageDeltaFromANewerApiVersionReplacesTheInputCountsAndCarriesThinkingTokens() {
        StreamTranslator translator = new StreamTranslator(CHUNKS);
        translator.accept(Buffer.buffer(START + event("message_delta", "{\"type\":\"message_delta\",\"delta\":"
                + "{\"stop_reason\":\"max_tokens\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":64,"
                + "\"input_tokens\":500,\"cache_read_input_tokens\":null,\"cache_creation_input_tokens\":0,"
                + "\"output_tokens_details\":{\"thinking_tokens\":20}}}") + STOP));

        assertThat(translator.usage(TOKENS, 64)).isEqualTo(new Usage(500 + 1024, 64, 1024, 20, false, 0));
        assertThat(translator.finishReason()).isEqualTo("length");
    }

    @Test
    void aStreamCutOffBeforeMessageDeltaCountsTheForwardedOutputOnTopOfTheReportedInput() {
        StreamTranslator translator = new StreamTranslator(CHUNKS);
        translator.accept(Buffer.buffer(START + TEXT_START + text(0, " hello") + text(0, " hello")
                + text(0, " hello") + toolStart(1, "toolu_01", "f") + toolInput(1, "{}")));

        assertThat(translator.usage(TOKENS, 100)).isEqualTo(new Usage(1696, TOKENS.count(" hello hello hello{}"),
                1024, 0, true, 200));
        assertThat(translator.usage(TOKENS, 2).completionTokens()).as("never past the cap the upstream obeyed")
                .isEqualTo(2);
    }

    @Test
    void aStreamWithoutUsageLeavesThePromptToTheHost() {
        StreamTranslator translator = new StreamTranslator(CHUNKS);
        translator.accept(Buffer.buffer(event("message_start", "{\"type\":\"message_start\",\"message\":"
                + "{\"id\":\"msg_01\",\"content\":[]}}") + TEXT_START + text(0, " hello") + event("message_delta",
                "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}") + STOP));

        assertThat(translator.done()).isTrue();
        assertThat(translator.usage(TOKENS, 100)).isEqualTo(Usage.estimatedCompletion(1));
    }

    @Test
    void anErrorEventFailsWithItsKindAfterTheChunksBeforeItInTheSameRead() {
        StreamTranslator translator = new StreamTranslator(CHUNKS);

        Buffer out = translator.accept(Buffer.buffer(START + TEXT_START + text(0, "Hi") + event("error",
                "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"my secret prompt\"}}")
                + text(0, "never")));

        assertThat(out.toString()).isEqualTo(CHUNKS.role().appendBuffer(CHUNKS.content("Hi")).toString());
        assertThat(translator.failure().kind()).isEqualTo(Kind.OVERLOADED);
        assertThat(translator.failure().getMessage()).doesNotContain("secret");
        assertThat(translator.accept(Buffer.buffer(STOP)).length()).isZero();
        assertThat(translator.done()).isFalse();
    }

    @Test
    void anEventThatIsNotJsonIsABadResponse() {
        StreamTranslator translator = new StreamTranslator(CHUNKS);

        Buffer out = translator.accept(Buffer.buffer(START + "event: content_block_delta\ndata: {\"type\":\"tru\n\n"));

        assertThat(out.toString()).isEqualTo(CHUNKS.role().toString());
        assertThat(translator.failure().kind()).isEqualTo(Kind.BAD_RESPONSE);
        assertThat(translator.failure().getMessage()).isEqualTo("upstream sent a stream event that is not JSON");
    }

    @Test
    void eventsOutOfOrderAreABadResponse() {
        StreamTranslator early = new StreamTranslator(CHUNKS);
        assertThat(early.accept(Buffer.buffer(PING)).length()).as("a ping may come first").isZero();
        assertThat(early.started()).isFalse();
        early.accept(Buffer.buffer(TEXT_START));
        assertThat(early.failure().getMessage()).isEqualTo("upstream sent content_block_start before message_start");

        StreamTranslator twice = new StreamTranslator(CHUNKS);
        twice.accept(Buffer.buffer(START + START));
        assertThat(twice.failure().getMessage()).isEqualTo("upstream sent a second message_start");

        StreamTranslator notATool = new StreamTranslator(CHUNKS);
        notATool.accept(Buffer.buffer(START + TEXT_START + toolInput(0, "{}")));
        assertThat(notATool.failure().kind()).isEqualTo(Kind.BAD_RESPONSE);
        assertThat(notATool.failure().getMessage()).contains("not a tool_use");
    }

    @Test
    void ignoresEventTypesItDoesNotKnow() {
        StreamTranslator translator = new StreamTranslator(CHUNKS);

        Buffer out = translator.accept(Buffer.buffer(START + event("session_status", "{\"type\":\"session_status\"}")
                + TEXT_STOP));

        assertThat(out.toString()).isEqualTo(CHUNKS.role().toString());
        assertThat(translator.failure()).isNull();
    }

    @Test
    void takesALastEventThatLacksItsBlankLineWhenTheUpstreamEnds() {
        StreamTranslator translator = new StreamTranslator(CHUNKS);
        translator.accept(Buffer.buffer(textStream("x").replace(STOP, "")
                + "event: message_stop\ndata: {\"type\":\"message_stop\"}"));
        assertThat(translator.done()).isFalse();

        assertThat(translator.end().toString()).isEqualTo(CHUNKS.finish("stop").toString());
        assertThat(translator.done()).isTrue();
    }

    // ---- helpers ----

    private static String textStream(String... pieces) {
        StringBuilder stream = new StringBuilder(START).append(TEXT_START).append(PING);
        for (String piece : pieces) {
            stream.append(text(0, piece));
        }
        return stream.append(TEXT_STOP).append(messageDelta("end_turn", pieces.length)).append(STOP).toString();
    }

    private static String event(String name, String data) {
        return "event: " + name + "\ndata: " + data + "\n\n";
    }

    private static String delta(int index, String delta) {
        return event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":" + index + ",\"delta\":"
                + delta + "}");
    }

    private static String text(int index, String text) {
        return delta(index, new JsonObject().put("type", "text_delta").put("text", text).encode());
    }

    private static String toolStart(int index, String id, String name) {
        return event("content_block_start", new JsonObject().put("type", "content_block_start").put("index", index)
                .put("content_block", new JsonObject().put("type", "tool_use").put("id", id).put("name", name)
                        .put("input", new JsonObject())).encode());
    }

    private static String toolInput(int index, String piece) {
        return delta(index, new JsonObject().put("type", "input_json_delta").put("partial_json", piece).encode());
    }

    private static String blockStop(int index) {
        return event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":" + index + "}");
    }

    private static String messageDelta(String stopReason, int outputTokens) {
        return event("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"" + stopReason
                + "\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":" + outputTokens + "}}");
    }

    private static List<JsonObject> chunks(Buffer out) {
        List<JsonObject> chunks = new ArrayList<>();
        for (String event : out.toString().split("\n\n")) {
            chunks.add(new JsonObject(event.substring("data: ".length())));
        }
        return chunks;
    }
}
