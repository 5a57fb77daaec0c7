package co.corouter.provider.openai;

import co.corouter.plugin.api.ChatRequest;
import io.vertx.core.Future;
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
 * The body corouter sends upstream, spliced from the client's bytes ({@code UpstreamBody.of}): model replaced,
 * stream set, token cap applied, OpenRouter-only fields dropped. Unit ns/op; one op = one ~300-byte request body.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class UpstreamBodyBench {

    private ChatRequest request;

    @Setup
    public void setup() {
        Buffer raw = Buffer.buffer("{\"model\":\"corouter/mock-small\",\"max_tokens\":512,\"stream\":false,"
                + "\"temperature\":0.2,\"messages\":[{\"role\":\"system\",\"content\":\"You are a concise assistant. "
                + "Answer in one short paragraph.\"},{\"role\":\"user\",\"content\":\"Say something short about "
                + "benchmarks and why people should measure before they optimise.\"}],\"provider\":{\"sort\":\"price\"}}");
        request = ChatRequest.ofRaw("gen-bench", "mock-small", raw, 256, 120_000, Future.succeededFuture());
        String out = UpstreamBody.of(request, false).toString();
        if (!out.contains("\"max_tokens\":256") || out.contains("provider")) {
            throw new IllegalStateException("the upstream body is not what the benchmark expects");
        }
    }

    @Benchmark
    public Buffer upstreamBody() {
        return UpstreamBody.of(request, false);
    }
}
