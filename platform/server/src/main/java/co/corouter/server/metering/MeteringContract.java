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
     * Publish (JSON, so it crosses a cluster and the SockJS bridge): after a batch commits, for each of its usage rows,
     * to {@code corouter.console.<account_id>}: {@code {"type":"generation","generation":{…},"balance_usd":"…"}} with
     * the generation as {@link GenerationView} shows it (metadata only) and the account's balance after the batch
     * (null when the batch did not charge the account).
     */
    public static final String CONSOLE_FEED_PREFIX = "corouter.console.";
    /** The addresses of {@link #CONSOLE_FEED_PREFIX}, as a regex (the bridge lets browsers register only these). */
    public static final String CONSOLE_FEED_PATTERN = "corouter\\.console\\.[0-9]+";

    public static String consoleFeed(long accountId) {
        return CONSOLE_FEED_PREFIX + accountId;
    }

    /**
     * Metadata of one request that reached a provider: never content. {@code model}, {@code provider} and
     * {@code upstreamModel} name what served; {@code cost} is what the ledger is charged, in nano-dollars;
     * {@code providerResponses} is the JSON list of every attempt when more than one was made (a fallback), else null;
     * {@code limitPeriod} is the start of the key's limit period the cost counts against (null: the key has no limit).
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
            String api,
            java.time.OffsetDateTime limitPeriod) {
    }

    /** Usage rows as JSON objects (column names as keys; {@code cost} in nano-dollars). */
    public interface UsageQueries {

        /** One generation of the account, or null. */
        Future<JsonObject> generation(String generationId, long accountId);

        /** The account's latest generations, newest first. */
        Future<JsonArray> generations(long accountId, int limit);

        /**
         * Spend of one key from the daily rollup: {@code total}, and {@code daily}, {@code weekly} (from Monday) and
         * {@code monthly} for the UTC day {@code today}.
         */
        Future<JsonObject> keyUsage(long apiKeyId, java.time.LocalDate today);
    }

    /** How {@link ConsoleUsage#activity} groups a day's usage. */
    public enum Grouping { MODEL, KEY, NONE }

    /** Filters of the generations list; null fields do not filter. {@code ok}: status below 400, or not. */
    public record GenerationFilter(String model, Long keyId, Boolean ok) {
    }

    /** One UTC day's usage charges of an account (nano-dollars) and its request count. */
    public record DayCost(java.time.LocalDate day, long cost, long requests) {
    }

    /** The console's reads of an account's usage; money in nano-dollars, or USD strings in the JSON. */
    public interface ConsoleUsage {

        /** Per day (and model or key) between {@code from} and {@code to} inclusive: {@code data} and {@code totals}. */
        Future<JsonObject> activity(long accountId, java.time.LocalDate from, java.time.LocalDate to, Grouping group);

        /** Spend today and this month, requests today, and spend per day and model over the 30 days to today. */
        Future<JsonObject> dashboard(long accountId, java.time.LocalDate today);

        /** Per key id: {total cost, total requests}. */
        Future<java.util.Map<Long, long[]>> keyTotals(long accountId);

        /** Days with charges, newest first, on or before {@code upTo} (null: any), at most {@code limit}. */
        Future<java.util.List<DayCost>> dailyCosts(long accountId, java.time.LocalDate upTo, int limit);

        /**
         * A page of generations (as {@link GenerationView} shows them), newest first, strictly before
         * ({@code beforeAt}, {@code beforeId}) when given.
         */
        Future<java.util.List<JsonObject>> generations(long accountId, GenerationFilter filter,
                java.time.OffsetDateTime beforeAt, String beforeId, int limit);

        /** One generation of the account with its {@code provider_responses}, or null. */
        Future<JsonObject> generation(long accountId, String generationId);

        /** Every generation of the account, oldest first, handed to {@code sink} page by page. */
        Future<Void> exportGenerations(long accountId, int pageSize,
                java.util.function.Function<JsonArray, Future<Void>> sink);
    }

    private MeteringContract() {
    }
}
