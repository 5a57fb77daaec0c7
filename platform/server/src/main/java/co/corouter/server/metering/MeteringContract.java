package co.corouter.server.metering;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The metering context's contract: records arrive through {@link UsageBacklog#offer} (a hand-off queue, not a message
 * per request); a flush over the event bus; the read side of usage for the API and the operator.
 */
public final class MeteringContract {

    /** Request (empty body): replies once every record received before it is in PostgreSQL. */
    public static final String FLUSH = "metering.flush";

    /**
     * Metadata of one request that reached a provider: never content. {@code model}, {@code provider} and
     * {@code upstreamModel} name what served; {@code cost} is what the ledger is charged, in nano-dollars;
     * {@code providerResponses} is the JSON list of every attempt when more than one was made (a fallback), else null.
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
            int cacheWriteTokens,
            int reasoningTokens,
            boolean usageEstimated,
            boolean cancelled,
            long cost,
            int latencyMillis,
            long createdAtMillis,
            String providerResponses,
            String api) {
    }

    /** Usage rows as JSON objects (column names as keys; {@code cost} in nano-dollars). */
    public interface UsageQueries {

        /** One generation of the account, or null. */
        Future<JsonObject> generation(String generationId, long accountId);

        /** The account's latest generations, newest first. */
        Future<JsonArray> generations(long accountId, int limit);

        /** Spend of one key: {@code total}, and over the current UTC {@code daily}, {@code weekly}, {@code monthly}. */
        Future<JsonObject> keyUsage(long apiKeyId);
    }

    private MeteringContract() {
    }
}
