package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.time.DateTimeException;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Maps Anthropic's failures (specs/anthropic-messages.md §3.4, §4) to {@link ProviderException}s whose kind tells
 * the host whether another endpoint may serve the request. Messages carry the status, the upstream's
 * {@code error.type} and {@code error.details.error_code} reduced to identifier characters, and its
 * {@code request-id} (for Anthropic's support): upstream messages can quote the prompt, so they are never copied.
 *
 * <table>
 * <caption>Status to kind</caption>
 * <tr><td>429</td><td>RATE_LIMITED, with the wait from {@code retry-after-ms}, {@code retry-after} or the
 * {@code anthropic-ratelimit-*-reset} of the exhausted limit</td></tr>
 * <tr><td>529, 503</td><td>OVERLOADED</td></tr>
 * <tr><td>401, 403, 402</td><td>AUTH: the operator's key or account (402 {@code billing_error}), not the client's
 * request</td></tr>
 * <tr><td>400, 404, 413, 422</td><td>BAD_REQUEST</td></tr>
 * <tr><td>408, 504</td><td>TIMEOUT</td></tr>
 * <tr><td>anything else</td><td>UPSTREAM_ERROR with the status (409, 500, 502, ...)</td></tr>
 * </table>
 *
 * <p>An {@code error} event inside a stream that started with 200 has no status of its own; its {@code error.type}
 * chooses the kind the same way ({@code overloaded_error} is OVERLOADED, {@code rate_limit_error} RATE_LIMITED, ...).
 */
final class UpstreamErrors {

    private static final int MAX_IDENTIFIER = 64;
    private static final Pattern DELTA_SECONDS = Pattern.compile("\\d+(?:\\.\\d+)?");
    private static final List<String> RATE_LIMITS = List.of("requests", "tokens", "input-tokens", "output-tokens");

    private UpstreamErrors() {
    }

    /** A non-2xx answer; {@code headers} are the response's, {@code body} may be null or not JSON. */
    static ProviderException ofStatus(int status, MultiMap headers, Buffer body) {
        String message = "upstream answered HTTP " + status + describe(parse(body), headers);
        return switch (status) {
            case 429 -> ProviderException.rateLimited(status, message,
                    retryAfterMillis(headers, System.currentTimeMillis()));
            case 529, 503 -> new ProviderException(Kind.OVERLOADED, status, message);
            case 401, 402, 403 -> new ProviderException(Kind.AUTH, status, message);
            case 400, 404, 413, 422 -> new ProviderException(Kind.BAD_REQUEST, status, message);
            case 408, 504 -> new ProviderException(Kind.TIMEOUT, status, message);
            default -> new ProviderException(Kind.UPSTREAM_ERROR, status, message);
        };
    }

    /** An {@code event: error} after the stream had started with 200 (its data, parsed). */
    static ProviderException ofStreamEvent(JsonObject event) {
        String message = "upstream sent an error event mid-stream" + describe(event, null);
        String type = event.getValue("error") instanceof JsonObject error && error.getValue("type") instanceof String t
                ? t : "";
        return switch (type) {
            case "overloaded_error" -> new ProviderException(Kind.OVERLOADED, 0, message);
            case "rate_limit_error" -> ProviderException.rateLimited(0, message, -1);
            case "authentication_error", "permission_error", "billing_error" ->
                    new ProviderException(Kind.AUTH, 0, message);
            case "invalid_request_error", "not_found_error", "request_too_large" ->
                    new ProviderException(Kind.BAD_REQUEST, 0, message);
            case "timeout_error" -> new ProviderException(Kind.TIMEOUT, 0, message);
            default -> new ProviderException(Kind.UPSTREAM_ERROR, 0, message);
        };
    }

    /** A failure of the connection itself (refused, reset, TLS): UPSTREAM_ERROR without a status. */
    static ProviderException ofConnection(Throwable cause) {
        if (cause instanceof ProviderException known) {
            return known;
        }
        String reason = cause.getMessage() == null ? "" : ": " + cause.getMessage();
        return new ProviderException(Kind.UPSTREAM_ERROR, 0,
                "upstream connection failed (" + cause.getClass().getSimpleName() + reason + ")", cause);
    }

    /**
     * How long a rate-limited upstream asked us to wait, in ms, or -1 when it did not say: {@code retry-after-ms},
     * else {@code retry-after} (delay seconds or an HTTP-date), else the {@code anthropic-ratelimit-*-reset} time
     * (RFC 3339) of the limits that are exhausted ({@code -remaining: 0}) — of all limits when none says so — the
     * latest, as that is when a request can pass again.
     */
    static long retryAfterMillis(MultiMap headers, long nowMillis) {
        if (headers == null) {
            return -1;
        }
        String millis = headers.get("retry-after-ms");
        if (millis != null && DELTA_SECONDS.matcher(millis.strip()).matches()) {
            return roundUp(Double.parseDouble(millis.strip()));
        }
        long retryAfter = retryAfterHeader(headers.get("retry-after"), nowMillis);
        if (retryAfter >= 0) {
            return retryAfter;
        }
        long exhausted = -1;
        long any = -1;
        for (String limit : RATE_LIMITS) {
            long reset = resetIn(headers.get("anthropic-ratelimit-" + limit + "-reset"), nowMillis);
            any = Math.max(any, reset);
            if ("0".equals(headers.get("anthropic-ratelimit-" + limit + "-remaining"))) {
                exhausted = Math.max(exhausted, reset);
            }
        }
        return exhausted >= 0 ? exhausted : any;
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

    /** Milliseconds until an RFC 3339 timestamp (0 when it has passed), or -1 when absent or not one. */
    private static long resetIn(String value, long nowMillis) {
        if (value == null || value.isBlank()) {
            return -1;
        }
        try {
            return Math.max(0, OffsetDateTime.parse(value.strip()).toInstant().toEpochMilli() - nowMillis);
        } catch (DateTimeException notATimestamp) {
            return -1;
        }
    }

    /** Whole ms, rounded up, but not for a binary fraction's noise: 0.1 s is 100 ms, not 101. */
    private static long roundUp(double millis) {
        return (long) Math.ceil(millis - 1e-6);
    }

    private static JsonObject parse(Buffer body) {
        try {
            return body == null || body.length() == 0 ? null : new JsonObject(body);
        } catch (RuntimeException notJson) {
            return null;
        }
    }

    /** " (type=…, code=…, request-id=…)" from {@code {"error":{type,details:{error_code}}}} and the headers, or "". */
    private static String describe(JsonObject json, MultiMap headers) {
        String type = null;
        String code = null;
        if (json != null && json.getValue("error") instanceof JsonObject error) {
            type = identifier(error.getValue("type"));
            if (error.getValue("details") instanceof JsonObject details) {
                code = identifier(details.getValue("error_code"));
            }
        }
        String requestId = headers == null ? null : identifier(headers.get("request-id"));
        if (requestId == null && json != null) {
            requestId = identifier(json.getValue("request_id"));
        }
        StringBuilder parts = new StringBuilder();
        append(parts, "type", type);
        append(parts, "code", code);
        append(parts, "request-id", requestId);
        return parts.isEmpty() ? "" : " (" + parts + ")";
    }

    private static void append(StringBuilder parts, String name, String value) {
        if (value != null) {
            parts.append(parts.isEmpty() ? "" : ", ").append(name).append('=').append(value);
        }
    }

    private static String identifier(Object value) {
        if (!(value instanceof String) && !(value instanceof Number)) {
            return null;
        }
        String text = String.valueOf(value);
        StringBuilder kept = new StringBuilder(Math.min(text.length(), MAX_IDENTIFIER));
        for (int i = 0; i < text.length() && kept.length() < MAX_IDENTIFIER; i++) {
            char c = text.charAt(i);
            if (c < 128 && (Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.')) {
                kept.append(c);
            }
        }
        return kept.length() == 0 ? null : kept.toString();
    }
}
