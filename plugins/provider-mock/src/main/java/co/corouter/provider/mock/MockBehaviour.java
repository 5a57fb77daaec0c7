package co.corouter.provider.mock;

/**
 * Failures a test can ask for by naming the upstream model: {@code mock-error} fails before any output,
 * {@code mock-error-midstream} fails a stream after half of its deltas (a whole completion fails like
 * {@code mock-error}). Any other model name answers normally.
 */
enum MockBehaviour {
    ANSWER,
    FAIL_BEFORE_OUTPUT,
    FAIL_MIDSTREAM;

    static final String FAIL_SUFFIX = "-error";
    static final String FAIL_MIDSTREAM_SUFFIX = "-error-midstream";

    static MockBehaviour of(String upstreamModel) {
        if (upstreamModel.endsWith(FAIL_MIDSTREAM_SUFFIX)) {
            return FAIL_MIDSTREAM;
        }
        if (upstreamModel.endsWith(FAIL_SUFFIX)) {
            return FAIL_BEFORE_OUTPUT;
        }
        return ANSWER;
    }
}
