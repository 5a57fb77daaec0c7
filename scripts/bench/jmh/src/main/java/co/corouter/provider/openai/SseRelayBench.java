package co.corouter.provider.openai;

import co.corouter.bench.Fixtures;
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
import org.openjdk.jmh.infra.Blackhole;

/**
 * The OpenAI provider's stream filter: {@link SseRelay#accept(Buffer)} on one upstream read. One op = one read
 * handled; unit ns/op.
 * <ul>
 *   <li>{@code oneDelta}: a read holding one {@code chat.completion.chunk} content delta (214 bytes: OpenAI's
 *       envelope, including the {@code "usage":null} it sends with {@code include_usage}), the common case:
 *       forwarded without a parse, its {@code id} and {@code model} spliced to corouter's generation id and public
 *       model id. The relay is long-lived, as it is for a stream: after a complete
 *       event it is back at an event boundary, so every read sees the same state.</li>
 *   <li>{@code eightDeltas}: one read holding 8 such events at once (1.7 KB), as when the upstream is ahead of
 *       us.</li>
 *   <li>{@code usageAndDone}: the last read of a stream, the usage-only chunk plus {@code data: [DONE]}: the usage
 *       chunk is parsed, its usage kept and the chunk dropped, and the stream ends. A finished relay ignores
 *       input, so this one creates its relay per op (a relay is two small objects; the op includes that).</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class SseRelayBench {

    /** A content delta as OpenAI streams it with {@code include_usage} on (which corouter always asks for). */
    static final String DELTA = "data: {\"id\":\"chatcmpl-C3xKq9LhT2mVb8RwNf5Yz1aE\",\"object\":\"chat.completion.chunk\","
            + "\"created\":1767225600,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,"
            + "\"delta\":{\"content\":\" thread\"},\"finish_reason\":null}],\"usage\":null}\n\n";
    static final String USAGE = "data: {\"id\":\"chatcmpl-C3xKq9LhT2mVb8RwNf5Yz1aE\",\"object\":\"chat.completion.chunk\","
            + "\"created\":1767225600,\"model\":\"gpt-4o-mini\",\"choices\":[],"
            + "\"usage\":{\"prompt_tokens\":52,\"completion_tokens\":187,\"total_tokens\":239,"
            + "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
            + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
            + "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\n";
    static final String DONE = "data: [DONE]\n\n";

    static final String GENERATION_ID = "gen-1767225600-AbCdEfGhIjKlMnOpQrSt";
    static final String MODEL = "openai/gpt-4o-mini";

    private SseRelay relay;
    private Buffer oneDelta;
    private Buffer eightDeltas;
    private Buffer usageAndDone;

    @Setup
    public void setup() {
        Fixtures.jsonLikeANode(); // the host's codec is the one the plugin's JsonObject parse runs on
        oneDelta = Buffer.buffer(DELTA);
        eightDeltas = Buffer.buffer(DELTA.repeat(8));
        usageAndDone = Buffer.buffer(USAGE + DONE);
        relay = new SseRelay(GENERATION_ID, MODEL);
        // check the inputs take the paths described above
        SseRelay check = new SseRelay(GENERATION_ID, MODEL);
        String rewritten = DELTA.replace("chatcmpl-C3xKq9LhT2mVb8RwNf5Yz1aE", GENERATION_ID)
                .replace("\"gpt-4o-mini\"", "\"" + MODEL + "\"");
        if (!check.accept(oneDelta).toString().equals(rewritten)
                || !check.accept(eightDeltas).toString().equals(rewritten.repeat(8))
                || check.accept(usageAndDone).length() != 0 || !check.done() || check.reportedUsage() == null
                || check.failure() != null) {
            throw new IllegalStateException("the SSE benchmark inputs do not take the intended relay paths");
        }
    }

    @Benchmark
    public Buffer oneDelta() {
        return relay.accept(oneDelta);
    }

    @Benchmark
    public Buffer eightDeltas() {
        return relay.accept(eightDeltas);
    }

    @Benchmark
    public void usageAndDone(Blackhole bh) {
        SseRelay last = new SseRelay(GENERATION_ID, MODEL);
        bh.consume(last.accept(usageAndDone));
        bh.consume(last.reportedUsage());
    }
}
