package co.corouter.server.ingress;

import co.corouter.plugin.api.ContentJson;
import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.common.Ids;
import co.corouter.server.pipeline.Failure;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * {@code POST /v1/messages/count_tokens} (specs/anthropic-messages.md §5): the input tokens a Messages body would
 * have, counted with the tokenizer corouter meters estimated usage with, over the same chat translation the request
 * would get. Authenticated like {@code /v1/messages}; free, so nothing is reserved or recorded. Claude Code calls it
 * and stops working on a 404. Large bodies are counted on a worker thread.
 */
final class AnthropicCountTokens {

    private static final int INLINE_BYTES = 16 * 1024;

    private final Vertx vertx;
    private final AccountsContract.Authenticator authenticator;
    private final Function<String, ?> models;
    private final ToIntFunction<Buffer> promptTokens;
    private final EdgeGuard guard;
    private final int bodyLimit;

    AnthropicCountTokens(Vertx vertx, AccountsContract.Authenticator authenticator, Function<String, ?> models,
            ToIntFunction<Buffer> promptTokens, EdgeGuard guard, int bodyLimit) {
        this.vertx = vertx;
        this.authenticator = authenticator;
        this.models = models;
        this.promptTokens = promptTokens;
        this.guard = guard;
        this.bodyLimit = bodyLimit;
    }

    void handle(RoutingContext ctx) {
        HttpServerResponse response = ctx.response();
        String id = Ids.requestId();
        response.putHeader("request-id", id);
        EdgeGuard.Request watch = ctx.get(IngressVerticle.WATCH);
        String authorization = AnthropicDialect.INSTANCE.authorization(ctx.request());
        Future<Buffer> read = BodyReader.read(ctx.request(), watch, bodyLimit, guard);
        read.compose(body -> authenticator.authenticate(authorization).map(principal -> body))
                .compose(this::count)
                .onSuccess(tokens -> response.putHeader("Content-Type", "application/json")
                        .end(new JsonObject().put("input_tokens", tokens).toBuffer()))
                .onFailure(failure -> {
                    if (read.succeeded()) { // a refused body was answered by the reader
                        AnthropicDialect.send(response, Failure.of(failure, id), id);
                    }
                })
                .onComplete(done -> ContentJson.forget());
    }

    private Future<Integer> count(Buffer body) {
        Buffer chat = AnthropicRequests.toChat(body, false);
        Object model = chat.toJsonObject().getValue("model");
        if (!(model instanceof String name) || name.isBlank()) {
            throw new ApiException(ErrorCodes.BAD_REQUEST, "'model' is required and must be a string");
        }
        models.apply(name); // a 400 for a model corouter does not serve
        if (chat.length() <= INLINE_BYTES) {
            return Future.succeededFuture(promptTokens.applyAsInt(chat));
        }
        return vertx.executeBlocking(() -> {
            try {
                return promptTokens.applyAsInt(chat);
            } finally {
                ContentJson.forget();
            }
        }, false);
    }
}
