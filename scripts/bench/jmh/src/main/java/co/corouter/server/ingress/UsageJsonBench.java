package co.corouter.server.ingress;

import co.corouter.bench.Fixtures;
import co.corouter.plugin.api.Usage;
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
 * The {@code usage} object corouter writes back to the client (in a completion's body and in the last stream
 * chunk). Unit ns/op.
 * <ul>
 *   <li>{@code appendUsage}: what the hot path does instead — the same bytes written straight into a buffer.</li>
 *   <li>{@code spliceCompletion}: a whole ~600-byte upstream completion answered to the client:
 *       {@link CompletionSplicer#splice} with corouter's id/model/provider/usage ahead of the upstream's members.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class UsageJsonBench {

    private Usage usage;
    private long charged;

    @Setup
    public void setup() {
        Fixtures.jsonLikeANode();
        usage = new Usage(1_234, 567, 1_024, 128, false);
        charged = Fixtures.catalog().find(Fixtures.MODEL).endpoints().get(0).cost(usage.promptTokens(), usage.completionTokens());
        String text = OpenAiChatDialect.appendUsage(Buffer.buffer(), usage, charged).toString();
        if (!text.contains("\"cost\":0.012207,")) {
            throw new IllegalStateException("the usage JSON does not carry the cost as a plain decimal: " + text);
        }
    }

    private static final Buffer UPSTREAM = Buffer.buffer("{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\","
            + "\"created\":1795760406,\"model\":\"gpt-bench\",\"system_fingerprint\":\"fp_fake\",\"choices\":[{\"index\":0,"
            + "\"message\":{\"role\":\"assistant\",\"content\":\"The quick brown fox jumps over the lazy dog while the "
            + "benchmark keeps on counting every token.\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":20,\"total_tokens\":32,\"prompt_tokens_details\":"
            + "{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}");

    @Benchmark
    public Buffer appendUsage() {
        return OpenAiChatDialect.appendUsage(Buffer.buffer(256), usage, charged);
    }

    @Benchmark
    public Buffer spliceCompletion() {
        Buffer head = Buffer.buffer(384).appendString("\"id\":\"gen-0mwyldpr4zdGrAFyNj1tg27qA\",\"model\":\"corouter/mock-small\","
                + "\"provider\":\"mock\",\"usage\":");
        OpenAiChatDialect.appendUsage(head, usage, charged);
        return CompletionSplicer.splice(UPSTREAM, head, "id", "model", "provider", "usage");
    }
}
