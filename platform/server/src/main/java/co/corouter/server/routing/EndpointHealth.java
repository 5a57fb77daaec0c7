package co.corouter.server.routing;

import co.corouter.server.config.ServerOptions.RoutingOptions;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's view of one endpoint (a model served by a provider instance), shared by every event loop: its circuit
 * breaker (vertx-circuit-breaker), its bulkhead (calls in flight) and its recent record — calls and failures over a
 * sliding window, latency to the first byte and throughput — which routing uses to order candidates.
 *
 * <p>The breaker opens after {@code breaker_max_failures} failures in a row, or when the window's error rate reaches
 * {@code breaker_error_rate_percent} over at least {@code breaker_min_requests} calls; an open breaker fails fast (the
 * endpoint is skipped without a call) until {@code breaker_reset_ms} have passed, then one probe call decides whether
 * it closes again. Only failures of the endpoint count: a client's bad request or a cancellation does not.
 */
public final class EndpointHealth {

    private static final int BUCKETS = 10;

    private final String model;
    private final String provider;
    private final Vertx vertx;
    /** Replaced (not reset) by the operator's reset: the breaker's API cannot close an open breaker at will. */
    private volatile CircuitBreaker breaker;
    private final RoutingOptions options;
    private final int maxInFlight;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final long bucketNanos;
    // the sliding window, guarded by this
    private final long[] bucketStart = new long[BUCKETS];
    private final int[] calls = new int[BUCKETS];
    private final int[] failures = new int[BUCKETS];
    private double latencyMillis = -1;
    private double tokensPerSecond = -1;
    private String lastFailure;

    EndpointHealth(Vertx vertx, String model, String provider, int maxInFlight, RoutingOptions options) {
        this.model = model;
        this.provider = provider;
        this.options = options;
        this.maxInFlight = maxInFlight;
        this.bucketNanos = options.breakerWindowMillis() * 1_000_000L / BUCKETS;
        this.vertx = vertx;
        this.breaker = newBreaker();
    }

    private CircuitBreaker newBreaker() {
        return CircuitBreaker.create(model + "@" + provider, vertx, new CircuitBreakerOptions()
                .setMaxFailures(options.breakerMaxFailures())
                .setFailuresRollingWindow(options.breakerWindowMillis())
                .setResetTimeout(options.breakerResetMillis())
                .setTimeout(-1)
                .setMaxRetries(0)
                .setNotificationAddress(null));
    }

    public String model() {
        return model;
    }

    public String provider() {
        return provider;
    }

    /** The breaker that guards calls to this endpoint (execute through it). */
    CircuitBreaker breaker() {
        return breaker;
    }

    /** True when the breaker lets a call through now (closed, or half-open and the probe not taken yet). */
    boolean open() {
        return breaker.state() == CircuitBreakerState.OPEN;
    }

    /** Takes a place in the bulkhead; false when the endpoint has as many calls in flight as it may. */
    boolean enter() {
        while (true) {
            int now = inFlight.get();
            if (now >= maxInFlight) {
                return false;
            }
            if (inFlight.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    void leave() {
        inFlight.decrementAndGet();
    }

    /** A call ended: {@code failed} when the endpoint failed it; latency to its first byte (or its end). */
    synchronized void record(boolean failed, long latencyMillis, String failureKind) {
        int bucket = bucket(System.nanoTime());
        calls[bucket]++;
        if (failed) {
            failures[bucket]++;
            lastFailure = failureKind;
        } else if (latencyMillis >= 0) {
            this.latencyMillis = this.latencyMillis < 0 ? latencyMillis : this.latencyMillis * 0.8 + latencyMillis * 0.2;
        }
        if (failed && !open()) {
            long[] window = window();
            if (window[0] >= options.breakerMinRequests() && window[1] >= window[0] * options.breakerErrorRate()) {
                breaker.open();
            }
        }
    }

    /** Forgets the record and closes the breaker (the operator fixed the endpoint). */
    synchronized void reset() {
        CircuitBreaker old = breaker;
        breaker = newBreaker();
        old.close();
        java.util.Arrays.fill(calls, 0);
        java.util.Arrays.fill(failures, 0);
        lastFailure = null;
    }

    /** A stream's output rate, for {@code sort: throughput}. */
    synchronized void throughput(long tokens, long millis) {
        if (tokens > 0 && millis > 0) {
            double rate = tokens * 1000.0 / millis;
            tokensPerSecond = tokensPerSecond < 0 ? rate : tokensPerSecond * 0.8 + rate * 0.2;
        }
    }

    /** Share of the window's calls that succeeded (1.0 without calls). */
    synchronized double uptime() {
        long[] window = window();
        return window[0] == 0 ? 1.0 : (window[0] - window[1]) / (double) window[0];
    }

    /** Calls and failures over the window (holding the monitor). */
    private long[] window() {
        long calls = 0;
        long failed = 0;
        long now = System.nanoTime();
        for (int i = 0; i < BUCKETS; i++) {
            if (now - bucketStart[i] < options.breakerWindowMillis() * 1_000_000L) {
                calls += this.calls[i];
                failed += failures[i];
            }
        }
        return new long[] {calls, failed};
    }

    /** Recent latency to the first byte in ms, or -1 when unknown. */
    synchronized double latencyMillis() {
        return latencyMillis;
    }

    /** Recent output tokens per second, or -1 when unknown. */
    synchronized double tokensPerSecond() {
        return tokensPerSecond;
    }

    /** For {@code /ready}, the operator and {@code /v1/models/.../endpoints}. */
    public synchronized JsonObject status() {
        return new JsonObject()
                .put("model", model)
                .put("provider", provider)
                .put("breaker", breaker.state().name().toLowerCase(java.util.Locale.ROOT))
                .put("in_flight", inFlight.get())
                .put("max_in_flight", maxInFlight)
                .put("uptime", Math.round(uptime() * 1000) / 1000.0)
                .put("latency_ms", latencyMillis < 0 ? null : Math.round(latencyMillis))
                .put("tokens_per_second", tokensPerSecond < 0 ? null : Math.round(tokensPerSecond))
                .put("last_failure", lastFailure);
    }

    private int bucket(long now) {
        int index = (int) ((now / bucketNanos) % BUCKETS);
        if (index < 0) {
            index += BUCKETS;
        }
        if (now - bucketStart[index] >= bucketNanos) {
            bucketStart[index] = now - (now % bucketNanos);
            calls[index] = 0;
            failures[index] = 0;
        }
        return index;
    }
}
