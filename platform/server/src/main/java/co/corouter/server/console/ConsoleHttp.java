package co.corouter.server.console;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.pipeline.Failure;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;

/**
 * How {@code /api} handlers answer: JSON with a status, or the {@code /v1} error shape
 * ({@code {"error":{"code","message","metadata"}}}, a field error as {@code metadata.fields}). Every failure goes
 * through {@link #fail}, which never lets an unexpected exception's text reach the client.
 */
public final class ConsoleHttp {

    /** The request's JSON object body, put here by the console router (an empty object when none was sent). */
    static final String BODY = "corouter.console.body";

    private ConsoleHttp() {
    }

    /** The request body as a JSON object: empty when the request had none. */
    public static JsonObject body(RoutingContext ctx) {
        JsonObject body = ctx.get(BODY);
        return body == null ? new JsonObject() : body;
    }

    /** A 400 naming the fields at fault: {@code metadata.fields = {field: message}}. */
    public static ApiException fieldErrors(Map<String, String> fields) {
        JsonObject named = new JsonObject();
        fields.forEach(named::put);
        return new ApiException(ErrorCodes.BAD_REQUEST, "some fields are invalid",
                new JsonObject().put("fields", named));
    }

    public static ApiException fieldError(String field, String message) {
        return fieldErrors(Map.of(field, message));
    }

    /** Answers {@code status} with the JSON the future yields, or the error it fails with. */
    public static void respond(RoutingContext ctx, int status, Future<JsonObject> result) {
        result.onSuccess(json -> json(ctx, status, json)).onFailure(e -> fail(ctx, e));
    }

    /** Answers 204 once the future succeeds, or the error it fails with. */
    public static void noContent(RoutingContext ctx, Future<?> result) {
        result.onSuccess(v -> {
            if (!ctx.response().ended()) {
                ctx.response().setStatusCode(204).end();
            }
        }).onFailure(e -> fail(ctx, e));
    }

    public static void json(RoutingContext ctx, int status, JsonObject body) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(status).putHeader("Content-Type", "application/json").end(body.toBuffer());
    }

    /** The error shape for {@code failure}: an {@link ApiException} as it says, anything else a logged 500. */
    public static void fail(RoutingContext ctx, Throwable failure) {
        send(ctx, Failure.of(failure, "console " + ctx.request().method() + " " + ctx.normalizedPath()));
    }

    public static void fail(RoutingContext ctx, int code, String message) {
        send(ctx, Failure.of(code, message));
    }

    private static void send(RoutingContext ctx, Failure error) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.headWritten()) {
            response.reset();
            return;
        }
        response.setStatusCode(error.code()).putHeader("Content-Type", "application/json").end(error.body().toBuffer());
    }
}
