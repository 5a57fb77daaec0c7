package co.corouter.server.console.data;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.console.ConsoleUser;
import co.corouter.server.pipeline.Failure;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Function;

/** The one way the data routes answer: JSON with a status, or the {@code /v1} error shape from {@link Failure}. */
final class Replies {

    /** An action's outcome: a status and a JSON body (null: no body, as with 204). */
    record Reply(int status, JsonObject body) {

        static Reply ok(JsonObject body) {
            return new Reply(200, body);
        }
    }

    private Replies() {
    }

    /** A handler running {@code action}; a thrown or failed {@link ApiException} becomes its error response. */
    static Handler<RoutingContext> handler(Function<RoutingContext, Future<Reply>> action) {
        return ctx -> {
            Future<Reply> reply;
            try {
                reply = action.apply(ctx);
            } catch (RuntimeException e) {
                reply = Future.failedFuture(e);
            }
            reply.onSuccess(r -> send(ctx, r)).onFailure(e -> fail(ctx, e));
        };
    }

    /** Shorthand for actions answering 200 with a body. */
    static Handler<RoutingContext> json(Function<RoutingContext, Future<JsonObject>> action) {
        return handler(ctx -> action.apply(ctx).map(Reply::ok));
    }

    static void send(RoutingContext ctx, Reply reply) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(reply.status()).putHeader("Cache-Control", "no-store");
        if (reply.body() == null) {
            response.end();
        } else {
            response.putHeader("Content-Type", "application/json").end(reply.body().toBuffer());
        }
    }

    static void fail(RoutingContext ctx, Throwable failure) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.headWritten()) {
            response.reset();
            return;
        }
        Failure error = Failure.of(failure, "console");
        response.setStatusCode(error.code()).putHeader("Content-Type", "application/json")
                .putHeader("Cache-Control", "no-store").end(error.body().toBuffer());
    }

    /** The signed-in user the session handler put on the context (401 if it is missing: never serve anonymously). */
    static ConsoleUser user(RoutingContext ctx) {
        ConsoleUser user = ctx.get(ConsoleUser.KEY);
        if (user == null) {
            throw new ApiException(ErrorCodes.UNAUTHORIZED, "sign in first");
        }
        return user;
    }

    /** The JSON object body (400 when it is missing or not an object). */
    static JsonObject body(RoutingContext ctx) {
        try {
            JsonObject body = ctx.body() == null ? null : ctx.body().asJsonObject();
            if (body == null) {
                throw new ApiException(ErrorCodes.BAD_REQUEST, "the body must be a JSON object");
            }
            return body;
        } catch (DecodeException | ClassCastException e) {
            throw new ApiException(ErrorCodes.BAD_REQUEST, "the body must be a JSON object");
        }
    }

    /** A 400 naming the field at fault: {@code metadata.fields.<field>}. */
    static ApiException fieldError(String field, String message) {
        return new ApiException(ErrorCodes.BAD_REQUEST, message,
                new JsonObject().put("fields", new JsonObject().put(field, message)));
    }

    static ApiException notFound(String what) {
        return new ApiException(ErrorCodes.NOT_FOUND, what + " not found");
    }

    /** A path parameter that must be a positive id; anything else is "not found" (an id never seen). */
    static long pathId(RoutingContext ctx, String name, String what) {
        String text = ctx.pathParam(name);
        try {
            long id = Long.parseLong(text);
            if (id > 0) {
                return id;
            }
        } catch (NumberFormatException e) {
            // falls through
        }
        throw notFound(what);
    }

    /** One query parameter, or null; a repeated or badly escaped one is a 400. */
    static String query(RoutingContext ctx, String name) {
        java.util.List<String> values;
        try {
            values = ctx.queryParams().getAll(name);
        } catch (IllegalArgumentException badEscape) {
            throw new ApiException(ErrorCodes.BAD_REQUEST, "the query string is not validly percent-encoded");
        }
        if (values.isEmpty() || values.get(0).isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw fieldError(name, "'" + name + "' may be given once");
        }
        return values.get(0);
    }

    /** {@code limit}: 1..max, default {@code fallback}. */
    static int limit(RoutingContext ctx, int fallback, int max) {
        String text = query(ctx, "limit");
        if (text == null) {
            return fallback;
        }
        try {
            int limit = Integer.parseInt(text);
            if (limit >= 1 && limit <= max) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // falls through
        }
        throw fieldError("limit", "'limit' must be a whole number from 1 to " + max);
    }
}
