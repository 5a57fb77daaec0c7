package co.corouter.provider.anthropic;

import co.corouter.bench.Fixtures;
import co.corouter.plugin.api.ChunkEncoder;
import io.vertx.core.buffer.Buffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The anthropic provider's stream translation, Anthropic's events to OpenAI chunks:
 * {@link StreamTranslator#accept(Buffer)} on one upstream read, after {@code message_start} and a text block's start.
 * One op = one read handled; unit ns/op. Compare with {@code SseRelayBench.oneDelta}, the OpenAI upstream's relay.
 * <ul>
 *   <li>{@code textDelta}: a read holding one {@code content_block_delta} with a {@code text_delta} (Anthropic's
 *       usual one-event read): the event is parsed and one {@code chat.completion.chunk} written.</li>
 *   <li>{@code toolArgumentsDelta}: an {@code input_json_delta} of a tool block, which becomes a
 *       {@code tool_calls[0].function.arguments} piece.</li>
 *   <li>{@code eightTextDeltas}: eight text deltas in one read, as when the upstream is ahead of us.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class StreamTranslatorBench {

    static final String START = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
            + "\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],"
            + "\"model\":\"claude-sonnet-5-5\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{"
            + "\"input_tokens\":52,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,"
            + "\"output_tokens\":1}}}\n\n";
    static final String TEXT_START = "event: content_block_start\ndata: {\"type\":\"content_block_start\","
            + "\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
    static final String TEXT_DELTA = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
            + "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" thread\"}}\n\n";
    static final String TOOL_START = "event: content_block_start\ndata: {\"type\":\"content_block_start\","
            + "\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\","
            + "\"name\":\"get_weather\",\"input\":{}}}\n\n";
    static final String TOOL_DELTA = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
            + "\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"location\\\": \\\"San Fra\"}}\n\n";

    private StreamTranslator text;
    private StreamTranslator tool;
    private Buffer textDelta;
    private Buffer toolDelta;
    private Buffer eightTextDeltas;

    @Setup
    public void setup() {
        Fixtures.jsonLikeANode();
        ChunkEncoder chunks = ChunkEncoder.of("gen-1767225600-AbCdEfGhIjKlMnOpQrSt", "anthropic/claude-sonnet-5.5",
                1_767_225_600L);
        text = new StreamTranslator(chunks);
        text.accept(Buffer.buffer(START + TEXT_START));
        tool = new StreamTranslator(chunks);
        tool.accept(Buffer.buffer(START + TOOL_START));
        textDelta = Buffer.buffer(TEXT_DELTA);
        toolDelta = Buffer.buffer(TOOL_DELTA);
        eightTextDeltas = Buffer.buffer(TEXT_DELTA.repeat(8));
        // check the inputs take the paths described above
        String one = text.accept(textDelta).toString();
        String arguments = tool.accept(toolDelta).toString();
        if (!one.contains("\"content\":\" thread\"") || !arguments.contains("\"arguments\":")
                || text.failure() != null || tool.failure() != null
                || text.accept(eightTextDeltas).toString().split("\n\n").length != 8) {
            throw new IllegalStateException("the Anthropic benchmark inputs do not take the intended paths: " + one
                    + " / " + arguments);
        }
    }

    @Benchmark
    public Buffer textDelta() {
        return text.accept(textDelta);
    }

    @Benchmark
    public Buffer toolArgumentsDelta() {
        return tool.accept(toolDelta);
    }

    @Benchmark
    public Buffer eightTextDeltas() {
        return text.accept(eightTextDeltas);
    }
}
