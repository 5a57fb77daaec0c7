package co.corouter.server.routing;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.common.Money;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The request's {@code provider} object (OpenRouter's provider routing, specs/openrouter-api.md §3): which endpoints
 * may serve it and in which order. Prices in {@code max_price} are USD per million tokens, like the catalog's.
 *
 * @param order             provider names to try first, in this order
 * @param only              when non-empty, no other provider may serve
 * @param ignore            providers that must not serve
 * @param allowFallbacks    false: only the providers of {@code order} (or only the first candidate without an order)
 * @param sort              {@code price}, {@code latency} or {@code throughput}; null for the default balancing
 * @param maxPromptNanos    highest acceptable prompt price per million tokens, in nano-dollars ({@code -1}: any)
 * @param maxCompletionNanos highest acceptable completion price per million tokens, in nano-dollars ({@code -1}: any)
 * @param requireParameters only endpoints that support every parameter the request sets
 */
public record ProviderPreferences(List<String> order, List<String> only, List<String> ignore, boolean allowFallbacks,
        String sort, long maxPromptNanos, long maxCompletionNanos, boolean requireParameters) {

    /** No preferences: every endpoint, balanced by price and recent health. */
    public static final ProviderPreferences NONE = new ProviderPreferences(List.of(), List.of(), List.of(), true, null,
            -1, -1, false);

    static final int MAX_NAMES = 32;

    /** Reads the object, failing with a 400 that names the field. Unknown fields are ignored (OpenRouter has more). */
    public static ProviderPreferences parse(JsonObject provider) {
        String sort = null;
        Object sortValue = provider.getValue("sort");
        if (sortValue != null) {
            if (!(sortValue instanceof String text)
                    || !List.of("price", "latency", "throughput").contains(text.toLowerCase(Locale.ROOT))) {
                throw bad("'provider.sort' must be one of price, latency, throughput");
            }
            sort = text.toLowerCase(Locale.ROOT);
        }
        Object fallbacks = provider.getValue("allow_fallbacks");
        if (fallbacks != null && !(fallbacks instanceof Boolean)) {
            throw bad("'provider.allow_fallbacks' must be a boolean");
        }
        Object require = provider.getValue("require_parameters");
        if (require != null && !(require instanceof Boolean)) {
            throw bad("'provider.require_parameters' must be a boolean");
        }
        long maxPrompt = -1;
        long maxCompletion = -1;
        Object maxPrice = provider.getValue("max_price");
        if (maxPrice != null) {
            if (!(maxPrice instanceof JsonObject prices)) {
                throw bad("'provider.max_price' must be an object with prompt and completion prices");
            }
            maxPrompt = price(prices, "prompt");
            maxCompletion = price(prices, "completion");
        }
        return new ProviderPreferences(names(provider, "order"), names(provider, "only"), names(provider, "ignore"),
                !Boolean.FALSE.equals(fallbacks), sort, maxPrompt, maxCompletion, Boolean.TRUE.equals(require));
    }

    /** True when an endpoint's prices are within {@code max_price}. */
    boolean affordable(ModelCatalog.Endpoint endpoint) {
        return (maxPromptNanos < 0 || endpoint.promptNanosPerMillion() <= maxPromptNanos)
                && (maxCompletionNanos < 0 || endpoint.completionNanosPerMillion() <= maxCompletionNanos);
    }

    boolean allowed(String provider) {
        return (only.isEmpty() || only.contains(provider)) && !ignore.contains(provider);
    }

    private static List<String> names(JsonObject provider, String field) {
        Object value = provider.getValue(field);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof JsonArray array) || array.size() > MAX_NAMES) {
            throw bad("'provider." + field + "' must be an array of at most " + MAX_NAMES + " provider names");
        }
        List<String> names = new ArrayList<>(array.size());
        for (Object name : array) {
            if (!(name instanceof String text) || text.isBlank() || text.length() > 100) {
                throw bad("'provider." + field + "' must be an array of provider names");
            }
            names.add(text);
        }
        return List.copyOf(names);
    }

    private static long price(JsonObject prices, String field) {
        Object value = prices.getValue(field);
        if (value == null) {
            return -1;
        }
        if (!(value instanceof Number) && !(value instanceof String)) {
            throw bad("'provider.max_price." + field + "' must be a price in USD per million tokens");
        }
        String rule = "'provider.max_price." + field + "' must be a price in USD per million tokens";
        long nanos;
        try {
            // a JSON number here is a limit to compare with, not money moved: its decimal text is exact enough
            java.math.BigDecimal decimal = new java.math.BigDecimal(value.toString());
            if (value.toString().length() > 40 || decimal.precision() - decimal.scale() > 12) {
                throw bad(rule);
            }
            nanos = Money.parseUsd(decimal.toPlainString(), "'provider.max_price." + field + "'");
        } catch (IllegalArgumentException notAPrice) {
            throw bad(rule);
        }
        if (nanos < 0) {
            throw bad("'provider.max_price." + field + "' must not be negative");
        }
        return nanos;
    }

    private static ApiException bad(String message) {
        return new ApiException(ErrorCodes.BAD_REQUEST, message);
    }
}
