package co.corouter.server.metering;

/** The metering context's contract: records arrive through {@link UsageBacklog#offer}; a flush over the event bus. */
public final class MeteringContract {

    /** Request (empty body): replies once every record received before it is in PostgreSQL. */
    public static final String FLUSH = "metering.flush";

    /**
     * Metadata of one request: never content. {@code cost} is what the ledger is charged, in nano-dollars.
     */
    public record UsageRecord(
            String generationId,
            long accountId,
            long apiKeyId,
            String model,
            String provider,
            String upstreamModel,
            boolean streamed,
            int status,
            String errorCode,
            String finishReason,
            int promptTokens,
            int completionTokens,
            int cachedTokens,
            int reasoningTokens,
            boolean usageEstimated,
            boolean cancelled,
            long cost,
            int latencyMillis,
            long createdAtMillis) {
    }

    private MeteringContract() {
    }
}
