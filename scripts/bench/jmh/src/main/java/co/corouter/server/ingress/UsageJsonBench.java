package co.corouter.server.ingress;

import co.corouter.bench.Fixtures;
import co.corouter.plugin.api.Usage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
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
 *   <li>{@code usageJson}: {@link ChatCompletionsHandler#usageJson(Usage, long)} alone, building the
 *       {@code JsonObject} (with {@code Money.toUsd} of the charge); one op = one object built.</li>
 *   <li>{@code usageJsonToBuffer}: the same then {@code toBuffer()}, encoded by corouter's streaming codec as the
 *       node encodes it; one op = one usage object built and encoded (~250 bytes).</li>
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
        charged = Fixtures.catalog().find(Fixtures.MODEL).cost(usage.promptTokens(), usage.completionTokens());
        String text = ChatCompletionsHandler.usageJson(usage, charged).toBuffer().toString();
        if (!text.contains("\"cost\":0.012207,")) {
            throw new IllegalStateException("the usage JSON does not carry the cost as a plain decimal: " + text);
        }
    }

    @Benchmark
    public JsonObject usageJson() {
        return ChatCompletionsHandler.usageJson(usage, charged);
    }

    @Benchmark
    public Buffer usageJsonToBuffer() {
        return ChatCompletionsHandler.usageJson(usage, charged).toBuffer();
    }
}
