package co.corouter.provider.mock;

import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;

/**
 * Failures a test can ask for by naming the upstream model, so the host's fallback tests can use the mock:
 * <ul>
 * <li>{@code …-error}: fails before any output with {@code UPSTREAM_ERROR} (status 500);</li>
 * <li>{@code …-error-midstream}: fails a stream after half of its deltas (a whole completion fails like
 *     {@code -error});</li>
 * <li>{@code …-rate-limited}: fails before any output with {@code RATE_LIMITED} (status 429), asking to retry after
 *     {@value #RETRY_AFTER_MILLIS} ms;</li>
 * <li>{@code …-overloaded}: fails before any output with {@code OVERLOADED} (status 503);</li>
 * <li>{@code …-hang}: never answers — the call ends only by the request's time limits or its cancellation.</li>
 * </ul>
 * Any other model name answers normally.
 */
enum MockBehaviour {
    ANSWER,
    FAIL_BEFORE_OUTPUT,
    FAIL_MIDSTREAM,
    RATE_LIMITED,
    OVERLOADED,
    HANG;

    static final String FAIL_SUFFIX = "-error";
    static final String FAIL_MIDSTREAM_SUFFIX = "-error-midstream";
    static final String RATE_LIMITED_SUFFIX = "-rate-limited";
    static final String OVERLOADED_SUFFIX = "-overloaded";
    static final String HANG_SUFFIX = "-hang";
    static final long RETRY_AFTER_MILLIS = 1_000;

    static MockBehaviour of(String upstreamModel) {
        if (upstreamModel.endsWith(FAIL_MIDSTREAM_SUFFIX)) {
            return FAIL_MIDSTREAM;
        }
        if (upstreamModel.endsWith(FAIL_SUFFIX)) {
            return FAIL_BEFORE_OUTPUT;
        }
        if (upstreamModel.endsWith(RATE_LIMITED_SUFFIX)) {
            return RATE_LIMITED;
        }
        if (upstreamModel.endsWith(OVERLOADED_SUFFIX)) {
            return OVERLOADED;
        }
        if (upstreamModel.endsWith(HANG_SUFFIX)) {
            return HANG;
        }
        return ANSWER;
    }

    /** True when the call fails at its first step, before any output. */
    boolean failsBeforeOutput() {
        return this == FAIL_BEFORE_OUTPUT || this == RATE_LIMITED || this == OVERLOADED;
    }

    /** The failure this behaviour asks for; a midstream failure and {@code -error} share one. */
    ProviderException failure() {
        return switch (this) {
            case RATE_LIMITED -> ProviderException.rateLimited(429,
                    "mock upstream limited the rate, as its model name asked", RETRY_AFTER_MILLIS);
            case OVERLOADED -> new ProviderException(Kind.OVERLOADED, 503,
                    "mock upstream is overloaded, as its model name asked");
            default -> new ProviderException(Kind.UPSTREAM_ERROR, 500,
                    "mock upstream failed, as its model name asked");
        };
    }
}
