package co.corouter.payment.creem;

import co.corouter.plugin.api.payment.PaymentException;
import co.corouter.plugin.api.payment.PaymentException.Kind;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.util.concurrent.TimeoutException;

/**
 * Maps Creem's failures (spec §1.2: {@code {trace_id, status, error, message[], timestamp}}) to
 * {@link PaymentException}s. Messages carry the status, Creem's {@code error} word and {@code trace_id} (what
 * Creem's support asks for), never Creem's {@code message} texts, which can echo what we sent.
 */
final class CreemErrors {

    private CreemErrors() {
    }

    static PaymentException ofStatus(String operation, int status, Buffer body) {
        JsonObject error = parse(body);
        StringBuilder message = new StringBuilder("creem ").append(operation).append(" answered HTTP ").append(status);
        String word = identifier(error == null ? null : error.getValue("error"));
        if (word != null) {
            message.append(" ").append(word);
        }
        String traceId = identifier(error == null ? null : error.getValue("trace_id"));
        if (traceId != null) {
            message.append(" (trace_id ").append(traceId).append(")");
        }
        Kind kind = switch (status) {
            case 400, 409, 422 -> Kind.BAD_REQUEST;
            case 401, 403 -> Kind.AUTH;
            case 404 -> Kind.NOT_FOUND;
            case 408 -> Kind.TIMEOUT;
            case 429 -> Kind.RATE_LIMITED;
            default -> status >= 500 ? Kind.UNAVAILABLE : Kind.BAD_RESPONSE;
        };
        return new PaymentException(kind, status, message.toString());
    }

    static PaymentException ofFailure(String operation, Throwable cause) {
        if (cause instanceof PaymentException known) {
            return known;
        }
        if (cause instanceof TimeoutException) {
            return new PaymentException(Kind.TIMEOUT, 0, "creem " + operation + " timed out", cause);
        }
        return new PaymentException(Kind.UNAVAILABLE, 0, "creem " + operation + " failed ("
                + cause.getClass().getSimpleName() + ")", cause);
    }

    static PaymentException badResponse(String operation, String what) {
        return new PaymentException(Kind.BAD_RESPONSE, 200, "creem " + operation + " answered 2xx but " + what);
    }

    private static JsonObject parse(Buffer body) {
        if (body == null || body.length() == 0) {
            return null;
        }
        try {
            return new JsonObject(body);
        } catch (RuntimeException notJson) {
            return null;
        }
    }

    /** Creem's error word or trace id, reduced to at most 64 safe characters. */
    private static String identifier(Object value) {
        if (!(value instanceof String text) || text.isBlank()) {
            return null;
        }
        String cleaned = text.replaceAll("[^A-Za-z0-9 _.:-]", "").strip();
        return cleaned.isEmpty() ? null : cleaned.length() > 64 ? cleaned.substring(0, 64) : cleaned;
    }
}
