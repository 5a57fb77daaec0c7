package co.corouter.provider.gemini;

import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.DateTimeException;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps Gemini's failures (spec §5: {@code {"error":{code,message,status,details}}}, sometimes wrapped in a one-element
 * array, sometimes not JSON at all) to {@link ProviderException}s whose kind tells the host whether another endpoint
 * may serve the request. Messages carry the HTTP status and, at most, Google's {@code status}, the {@code
 * ErrorInfo.reason} and the {@code QuotaFailure} quota id, each only when it is a plain identifier: {@code
 * error.message} can quote the request, so it is never copied.
 *
 * <table>
 * <caption>Status to kind</caption>
 * <tr><td>429 RESOURCE_EXHAUSTED</td><td>RATE_LIMITED, waiting {@code RetryInfo.retryDelay}, else
 *     {@code Retry-After}</td></tr>
 * <tr><td>401, 403; 400 with {@code API_KEY_INVALID}</td><td>AUTH: the operator's key, not the client's
 *     request</td></tr>
 * <tr><td>400 FAILED_PRECONDITION</td><td>UNAVAILABLE: the operator's project cannot use the API (region,
 *     billing)</td></tr>
 * <tr><td>400, 404, 413, 422</td><td>BAD_REQUEST</td></tr>
 * <tr><td>503 UNAVAILABLE</td><td>OVERLOADED</td></tr>
 * <tr><td>504 DEADLINE_EXCEEDED, 408</td><td>TIMEOUT</td></tr>
 * <tr><td>anything else (500 INTERNAL, 502, ...)</td><td>UPSTREAM_ERROR with the status</td></tr>
 * </table>
 */
final class GeminiErrors {

    private static final int MAX_IDENTIFIER = 64;
    /** A protobuf Duration in JSON: seconds, up to nine decimals, and {@code s}: {@code "47s"}, {@code "0.5s"}. */
    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)s");
    private static final Pattern DELTA_SECONDS = Pattern.compile("\\d+(?:\\.\\d+)?");

    private GeminiErrors() {
    }

    /** A non-2xx answer; {@code body} may be null or not JSON. */
    static ProviderException ofStatus(int status, MultiMap headers, Buffer body) {
        JsonObject error = errorObject(parse(body));
        String message = "upstream answered HTTP " + status + describe(error);
        long retryAfter = retryDelayMillis(error);
        if (retryAfter < 0 && headers != null) {
            retryAfter = retryAfterHeader(headers.get("Retry-After"), System.currentTimeMillis());
        }
        return of(status, error, message, retryAfter);
    }

    /**
     * An {@code {"error":…}} Gemini sent after its 200 head, as an event or as raw JSON. Its {@code code} stands in for
     * the status the upstream would have answered with.
     */
    static ProviderException ofStreamError(JsonObject event) {
        JsonObject error = errorObject(event);
        int code = error != null && error.getValue("code") instanceof Number n ? n.intValue()
                : statusOf(error == null ? null : error.getValue("status"));
        return of(code, error, "upstream sent an error mid-stream" + describe(error), retryDelayMillis(error));
    }

    static ProviderException ofConnection(Throwable cause) {
        if (cause instanceof ProviderException known) {
            return known;
        }
        String reason = cause.getMessage() == null ? "" : ": " + cause.getMessage();
        return new ProviderException(Kind.UPSTREAM_ERROR, 0,
                "upstream connection failed (" + cause.getClass().getSimpleName() + reason + ")", cause);
    }

    /** True when {@code event} is an error instead of a GenerateContentResponse. */
    static boolean isError(JsonObject event) {
        return event.getValue("error") instanceof JsonObject;
    }

    /** {@code RetryInfo.retryDelay} of an error object in ms, rounded up, or -1 when it names none. */
    static long retryDelayMillis(JsonObject error) {
        if (error == null || !(error.getValue("details") instanceof JsonArray details)) {
            return -1;
        }
        for (Object detail : details) {
            if (detail instanceof JsonObject d && d.getValue("@type") instanceof String type
                    && type.endsWith("google.rpc.RetryInfo") && d.getValue("retryDelay") instanceof String delay) {
                Matcher duration = DURATION.matcher(delay.strip());
                if (duration.matches()) {
                    return roundUp(Double.parseDouble(duration.group(1)) * 1000);
                }
            }
        }
        return -1;
    }

    private static ProviderException of(int status, JsonObject error, String message, long retryAfterMillis) {
        String googleStatus = error == null ? null : identifier(error.getValue("status"));
        return switch (status) {
            case 429 -> ProviderException.rateLimited(status, message, retryAfterMillis);
            case 401, 403 -> new ProviderException(Kind.AUTH, status, message);
            case 400 -> {
                if ("API_KEY_INVALID".equals(reason(error))) {
                    yield new ProviderException(Kind.AUTH, status, message);
                }
                yield "FAILED_PRECONDITION".equals(googleStatus)
                        ? new ProviderException(Kind.UNAVAILABLE, status, message)
                        : new ProviderException(Kind.BAD_REQUEST, status, message);
            }
            case 404, 413, 422 -> new ProviderException(Kind.BAD_REQUEST, status, message);
            case 503 -> new ProviderException(Kind.OVERLOADED, status, message);
            case 504, 408 -> new ProviderException(Kind.TIMEOUT, status, message);
            default -> new ProviderException(Kind.UPSTREAM_ERROR, status, message);
        };
    }

    /** The HTTP status Google pairs with a {@code google.rpc.Code} name, or 0. */
    private static int statusOf(Object status) {
        if (!(status instanceof String name)) {
            return 0;
        }
        return switch (name) {
            case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE" -> 400;
            case "UNAUTHENTICATED" -> 401;
            case "PERMISSION_DENIED" -> 403;
            case "NOT_FOUND" -> 404;
            case "RESOURCE_EXHAUSTED" -> 429;
            case "CANCELLED" -> 499;
            case "UNAVAILABLE" -> 503;
            case "DEADLINE_EXCEEDED" -> 504;
            default -> 500;
        };
    }

    private static Object parse(Buffer body) {
        if (body == null || body.length() == 0) {
            return null;
        }
        try {
            return body.getByte(0) == '[' ? new JsonArray(body) : new JsonObject(body);
        } catch (RuntimeException notJson) {
            return null; // an HTML page from a proxy: only the status is known
        }
    }

    /** The {@code error} object of {@code {"error":…}} or {@code [{"error":…}]}, or null. */
    private static JsonObject errorObject(Object json) {
        if (json instanceof JsonArray array && !array.isEmpty()) {
            json = array.getValue(0);
        }
        return json instanceof JsonObject object && object.getValue("error") instanceof JsonObject error ? error : null;
    }

    /** " (status=…, reason=…, quota=…)" from the identifiers of an error object, or "". */
    private static String describe(JsonObject error) {
        if (error == null) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        append(out, "status", identifier(error.getValue("status")));
        append(out, "reason", reason(error));
        append(out, "quota", quotaId(error));
        return out.length() == 0 ? "" : " (" + out + ")";
    }

    private static void append(StringBuilder out, String name, String value) {
        if (value != null) {
            out.append(out.length() == 0 ? "" : ", ").append(name).append('=').append(value);
        }
    }

    private static String reason(JsonObject error) {
        return detail(error, "google.rpc.ErrorInfo", "reason");
    }

    /** The first violated quota: one named {@code …PerDay…} tells an operator that waiting seconds will not help. */
    private static String quotaId(JsonObject error) {
        if (error == null || !(error.getValue("details") instanceof JsonArray details)) {
            return null;
        }
        for (Object detail : details) {
            if (detail instanceof JsonObject d && d.getValue("@type") instanceof String type
                    && type.endsWith("google.rpc.QuotaFailure") && d.getValue("violations") instanceof JsonArray v
                    && !v.isEmpty() && v.getValue(0) instanceof JsonObject violation) {
                return identifier(violation.getValue("quotaId"));
            }
        }
        return null;
    }

    private static String detail(JsonObject error, String type, String field) {
        if (error == null || !(error.getValue("details") instanceof JsonArray details)) {
            return null;
        }
        for (Object detail : details) {
            if (detail instanceof JsonObject d && d.getValue("@type") instanceof String t && t.endsWith(type)) {
                return identifier(d.getValue(field));
            }
        }
        return null;
    }

    private static long retryAfterHeader(String value, long nowMillis) {
        if (value == null || value.isBlank()) {
            return -1;
        }
        String text = value.strip();
        if (DELTA_SECONDS.matcher(text).matches()) {
            return roundUp(Double.parseDouble(text) * 1000);
        }
        try {
            long at = ZonedDateTime.parse(text, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
            return Math.max(0, at - nowMillis);
        } catch (DateTimeException notADate) {
            return -1;
        }
    }

    /** Whole ms, rounded up, but not for a binary fraction's noise: 0.1 s is 100 ms, not 101. */
    private static long roundUp(double millis) {
        return (long) Math.ceil(millis - 1e-6);
    }

    /** The value when it is one identifier ({@code [A-Za-z0-9_.-]}, at most 64), else null: never free text. */
    private static String identifier(Object value) {
        if (!(value instanceof String) && !(value instanceof Number)) {
            return null;
        }
        String text = String.valueOf(value);
        if (text.isEmpty() || text.length() > MAX_IDENTIFIER) {
            return null;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 128 || !(Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.')) {
                return null;
            }
        }
        return text;
    }
}
