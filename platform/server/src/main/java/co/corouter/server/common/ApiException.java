package co.corouter.server.common;

import io.vertx.core.json.JsonObject;

/**
 * A failure the client should see, with the HTTP status as {@link #code()}. The message is client-safe: it
 * never holds prompt or response content, keys or secrets.
 */
public final class ApiException extends RuntimeException {

    private final int code;
    private final JsonObject metadata;

    public ApiException(int code, String message) {
        this(code, message, null);
    }

    public ApiException(int code, String message, JsonObject metadata) {
        super(message, null, false, false);
        this.code = code;
        this.metadata = metadata;
    }

    public int code() {
        return code;
    }

    public JsonObject metadata() {
        return metadata;
    }
}
