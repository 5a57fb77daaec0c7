package co.corouter.server.routing;

import co.corouter.bench.Fixtures;
import co.corouter.server.common.Money;
import java.math.BigDecimal;
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
 * Pricing a completed request. Unit ns/op.
 * <ul>
 *   <li>{@code cost}: {@link ModelCatalog.Endpoint#cost(long, long)}, the exact cost of a usage in nano-USD
 *       (1,234 prompt + 567 completion tokens at $3 / $15 per million); one op = one usage priced.</li>
 *   <li>{@code toUsd}: {@link Money#toUsd(long)} of that charge, the {@code BigDecimal} that goes into the usage
 *       JSON's {@code cost}; one op = one amount converted.</li>
 *   <li>{@code toUsdPlainString}: the same plus {@code toPlainString()}, the text the JSON writer emits with
 *       {@code WRITE_BIGDECIMAL_AS_PLAIN}; one op = one amount formatted.</li>
 * </ul>
 * Token counts and the charge are non-final fields, so nothing is constant-folded.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class CostBench {

    private ModelCatalog.Endpoint model;
    private long promptTokens = 1_234;
    private long completionTokens = 567;
    private long charge;

    @Setup
    public void setup() {
        model = Fixtures.catalog().find(Fixtures.MODEL).endpoints().get(0);
        charge = model.cost(promptTokens, completionTokens);
        if (charge != 12_207_000L) { // 1234 * 3000 + 567 * 15000 nano-USD
            throw new IllegalStateException("unexpected cost " + charge);
        }
    }

    @Benchmark
    public long cost() {
        return model.cost(promptTokens, completionTokens);
    }

    @Benchmark
    public BigDecimal toUsd() {
        return Money.toUsd(charge);
    }

    @Benchmark
    public String toUsdPlainString() {
        return Money.toUsd(charge).toPlainString();
    }
}
