package co.corouter.provider.openai;

import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.time.DateTimeException;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps upstream failures to {@link ProviderException}s whose kind tells the host whether another endpoint may
 * serve the request. Messages carry the status and, at most, the upstream's error {@code type} and {@code code}
 * reduced to identifier characters: upstream messages can quote the prompt, so they are never copied.
 *
 * <table>
 * <caption>Status to kind</caption>
 * <tr><td>429</td><td>RATE_LIMITED, with the wait from {@code Retry-After} or {@code x-ratelimit-reset-*}</td></tr>
 * <tr><td>401, 403</td><td>AUTH: the operator's key, not the client's request</td></tr>
 * <tr><td>503, 529</td><td>OVERLOADED</td></tr>
 * <tr><td>408</td><td>TIMEOUT</td></tr>
 * <tr><td>400, 404, 422</td><td>BAD_REQUEST</td></tr>
 * <tr><td>anything else</td><td>UPSTREAM_ERROR with the status</td></tr>
 * </table>
 */
final class UpstreamErrors {

    private static final int MAX_IDENTIFIER = 64;
    /** A Go duration as OpenAI writes its rate-limit resets: {@code 1s}, {@code 6m0s}, {@code 20ms}, {@code 1.5s}. */
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|us|µs|ns|h|m|s)");
    private static final Pattern DELTA_SECONDS = Pattern.compile("\\d+(?:\\.\\d+)?");

    private UpstreamErrors() {
    }

    /** A non-2xx answer; {@code headers} are the response's (for the rate-limit wait), {@code body} may be null. */
    static ProviderException ofStatus(int status, MultiMap headers, Buffer body) {
        String message = "upstream answered HTTP " + status + describe(parse(body));
        return switch (status) {
            case 429 -> ProviderException.rateLimited(status, message,
                    retryAfterMillis(headers, System.currentTimeMillis()));
            case 401, 403 -> new ProviderException(Kind.AUTH, status, message);
            case 503, 529 -> new ProviderException(Kind.OVERLOADED, status, message);
            case 408 -> new ProviderException(Kind.TIMEOUT, status, message);
            case 400, 404, 422 -> new ProviderException(Kind.BAD_REQUEST, status, message);
            default -> new ProviderException(Kind.UPSTREAM_ERROR, status, message);
        };
    }

    /** An {@code error} object inside a stream that had started with 200. */
    static ProviderException ofStreamEvent(JsonObject event) {
        return new ProviderException(Kind.UPSTREAM_ERROR, 0, "upstream sent an error event mid-stream"
                + describe(event));
    }

    static ProviderException ofConnection(Throwable cause) {
        if (cause instanceof ProviderException known) {
            return known;
        }
        String reason = cause.getMessage() == null ? "" : ": " + cause.getMessage();
        return new ProviderException(Kind.UPSTREAM_ERROR, 0,
                "upstream connection failed (" + cause.getClass().getSimpleName() + reason + ")", cause);
    }

    /**
     * How long a rate-limited upstream asked us to wait, in ms, or -1 when it did not say: {@code Retry-After} (delay
     * seconds or an HTTP-date), else OpenAI's {@code x-ratelimit-reset-requests}/{@code -tokens} — of the limit that
     * is exhausted ({@code x-ratelimit-remaining-*: 0}) when the upstream says which, else the longer.
     */
    static long retryAfterMillis(MultiMap headers, long nowMillis) {
        if (headers == null) {
            return -1;
        }
        long retryAfter = retryAfterHeader(headers.get("Retry-After"), nowMillis);
        if (retryAfter >= 0) {
            return retryAfter;
        }
        long requests = duration(headers.get("x-ratelimit-reset-requests"));
        long tokens = duration(headers.get("x-ratelimit-reset-tokens"));
        boolean requestsExhausted = "0".equals(headers.get("x-ratelimit-remaining-requests"));
        boolean tokensExhausted = "0".equals(headers.get("x-ratelimit-remaining-tokens"));
        if (requestsExhausted != tokensExhausted) {
            long exhausted = requestsExhausted ? requests : tokens;
            if (exhausted >= 0) {
                return exhausted;
            }
        }
        return Math.max(requests, tokens);
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

    /** A Go-style duration in ms, rounded up, or -1 when {@code value} is absent or not one. */
    static long duration(String value) {
        if (value == null || value.isBlank()) {
            return -1;
        }
        String text = value.strip();
        Matcher part = DURATION_PART.matcher(text);
        double millis = 0;
        int at = 0;
        while (at < text.length()) {
            if (!part.find(at) || part.start() != at) {
                return -1;
            }
            double amount = Double.parseDouble(part.group(1));
            millis += switch (part.group(2)) {
                case "h" -> amount * 3_600_000;
                case "m" -> amount * 60_000;
                case "s" -> amount * 1_000;
                case "ms" -> amount;
                case "us", "µs" -> amount / 1_000;
                default -> amount / 1_000_000;
            };
            at = part.end();
        }
        return roundUp(millis);
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

    /** " (type=…, code=…)" from {@code {"error":{type,code}}} or a top-level {type,code}, or "". */
    private static String describe(JsonObject json) {
        if (json == null) {
            return "";
        }
        JsonObject error = json.getValue("error") instanceof JsonObject nested ? nested : json;
        String type = identifier(error.getValue("type"));
        String code = identifier(error.getValue("code"));
        if (type == null && code == null) {
            return "";
        }
        return " (" + (type == null ? "" : "type=" + type) + (type != null && code != null ? ", " : "")
                + (code == null ? "" : "code=" + code) + ")";
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
