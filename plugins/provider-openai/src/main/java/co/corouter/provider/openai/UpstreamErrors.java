package co.corouter.provider.openai;

import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * Maps upstream failures to {@link ProviderException}s. Messages carry the status and, at most, the upstream's
 * error {@code type} and {@code code} reduced to identifier characters: upstream messages can quote the
 * prompt, so they are never copied.
 */
final class UpstreamErrors {

    private static final int MAX_IDENTIFIER = 64;

    private UpstreamErrors() {
    }

    /** A non-2xx answer: 400 is the client's fault, everything else the upstream's. */
    static ProviderException ofStatus(int status, Buffer body) {
        Kind kind = status == 400 ? Kind.BAD_REQUEST : Kind.UPSTREAM_ERROR;
        return new ProviderException(kind, status, "upstream answered HTTP " + status + describe(parse(body)));
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
