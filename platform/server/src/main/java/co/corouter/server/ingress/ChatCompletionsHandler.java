package co.corouter.server.ingress;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.plugin.api.Usage;
import co.corouter.server.accounts.AccountsContract.Principal;
import co.corouter.server.accounts.KeyAuthenticator;
import co.corouter.server.billing.LeaseBook;
import co.corouter.server.common.Ids;
import co.corouter.server.common.Money;
import co.corouter.server.ingress.ChatRequestParser.ParsedChat;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.metering.UsageBacklog;
import co.corouter.server.metering.MeteringContract.UsageRecord;
import co.corouter.server.routing.Router;
import co.corouter.server.routing.Router.Route;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.Future;
import java.util.concurrent.ConcurrentHashMap;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/chat/completions}: authenticate → validate → admit (reserve worst-case credit) → route → call the
 * provider (relaying the stream) → settle and meter. Runs entirely on the event loop that accepted the
 * connection: the reservation is a call on this loop's {@link LeaseBook}, and the usage record is handed to metering
 * through the {@link UsageBacklog} queue (no per-request thread hop).
 *
 * <p>Once credit is reserved, every path ends in {@link Exchange#finish}: the reservation is settled exactly
 * once and one usage row is sent, whatever happened (success, upstream error, timeout, client gone).
 */
final class ChatCompletionsHandler implements Handler<RoutingContext> {

    private static final Logger log = LoggerFactory.getLogger(ChatCompletionsHandler.class);
    private static final Buffer DONE = Buffer.buffer("data: [DONE]\n\n");
    static final long GUARD_MILLIS = 2_000;

    private final Vertx vertx;
    private final KeyAuthenticator keys;
    private final LeaseBook leases;
    /** Null when metering is off (benchmarks only): no reservation, no settlement, no usage row. */
    private final UsageBacklog backlog;
    private final Router router;
    private final ChatRequestParser parser;
    private final long upstreamTimeoutMillis;

    ChatCompletionsHandler(Vertx vertx, KeyAuthenticator keys, LeaseBook leases, Router router, UsageBacklog backlog,
            long upstreamTimeoutMillis) {
        this.backlog = backlog;
        this.vertx = vertx;
        this.keys = keys;
        this.leases = leases;
        this.router = router;
        this.parser = new ChatRequestParser(router);
        this.upstreamTimeoutMillis = upstreamTimeoutMillis;
    }

    @Override
    public void handle(RoutingContext ctx) {
        Exchange exchange = new Exchange(ctx.response(), Ids.generationId());
        ctx.response().putHeader("X-Generation-Id", exchange.id);
        keys.authenticate(ctx.request().getHeader("Authorization"))
                .compose(principal -> {
                    exchange.principal = principal;
                    exchange.chat = parser.parse(ctx.body().buffer());
                    return exchange.admit();
                })
                .compose(reserved -> exchange.call())
                .onFailure(exchange::fail);
    }

    /** One request's state, confined to its event loop. */
    private final class Exchange {
        final HttpServerResponse response;
        final String id;
        final long startNanos = System.nanoTime();
        final long createdMillis = System.currentTimeMillis();
        final Promise<Void> cancelled = Promise.promise();
        Principal principal;
        ParsedChat chat;
        Route route;
        long reserved = -1;
        boolean finished;
        /** Refused because usage is behind: writing a usage row for it would only deepen the backlog. */
        boolean shed;
        ResponseChunkSink sink;

        Exchange(HttpServerResponse response, String id) {
            this.response = response;
            this.id = id;
        }

        Future<Void> admit() {
            if (backlog == null) {
                reserved = 0;
                return Future.succeededFuture();
            }
            if (backlog.full()) {
                shed = true;
                return Future.failedFuture(new ApiException(ErrorCodes.UNAVAILABLE,
                        "corouter is catching up on usage records; retry shortly",
                        new JsonObject().put("retry_after_ms", 1000)));
            }
            long worstCase = chat.model().cost(chat.bodyBytes(), chat.maxTokens());
            if (worstCase == 0) {
                reserved = 0;
                return Future.succeededFuture();
            }
            return leases.reserve(principal.accountId(), worstCase).map(amount -> {
                reserved = amount;
                return null;
            });
        }

        Future<Void> call() {
            route = router.route(chat.model());
            response.closeHandler(v -> cancelled.tryComplete());
            ChatRequest request = ChatRequest.ofRaw(id, chat.model().upstreamModel(), chat.raw(), chat.maxTokens(),
                    upstreamTimeoutMillis, cancelled.future());
            Promise<Object> outcome = Promise.promise();
            long guard = vertx.setTimer(upstreamTimeoutMillis + GUARD_MILLIS, t -> {
                cancelled.tryComplete();
                outcome.tryFail(new ProviderException(ProviderException.Kind.TIMEOUT, "the provider did not finish"));
            });
            Future<?> call;
            try {
                if (chat.stream()) {
                    sink = new ResponseChunkSink(response);
                    call = route.endpoint().stream(request, sink);
                } else {
                    call = route.endpoint().complete(request);
                }
            } catch (RuntimeException e) {
                call = Future.failedFuture(e);
            }
            call.onComplete(result -> {
                vertx.cancelTimer(guard);
                if (result.succeeded()) {
                    outcome.tryComplete(result.result());
                } else {
                    outcome.tryFail(result.cause());
                }
            });
            return outcome.future().compose(result -> {
                if (result instanceof ChatCompletion completion) {
                    completeWhole(completion);
                } else {
                    completeStream((StreamOutcome) result);
                }
                return Future.succeededFuture();
            });
        }

        // The usage record is handed to metering before the response is written: once a client holds its answer,
        // the record is queued, so a flush (or GET /v1/generation shortly after) always finds it.
        void completeWhole(ChatCompletion completion) {
            boolean raw = completion.raw() != null;
            long charged = finish(200, null, completion.usage(),
                    raw ? completion.finishReason() : finishReason(completion.body()));
            if (response.closed() || response.ended()) {
                return;
            }
            Buffer head = Buffer.buffer(384).appendString("\"id\":\"").appendString(id).appendString("\"")
                    .appendString(",\"model\":").appendBytes(quoted(chat.model().id()))
                    .appendString(",\"provider\":").appendBytes(quoted(route.model().provider()))
                    .appendString(",\"usage\":");
            appendUsage(head, completion.usage(), charged);
            // a parsed body (a provider without the raw-bytes API) is encoded once and takes the same splice
            Buffer answer = CompletionSplicer.splice(raw ? completion.raw() : completion.body().toBuffer(), head,
                    "id", "model", "provider", "usage");
            response.putHeader("Content-Type", "application/json").end(answer);
        }

        void completeStream(StreamOutcome outcome) {
            long charged = finish(200, null, outcome.usage(), outcome.finishReason());
            if (!response.closed() && !response.ended()) {
                sink.begin();
                Buffer tail = Buffer.buffer(512).appendString("data: {\"id\":\"").appendString(id).appendString("\"")
                        .appendString(",\"object\":\"chat.completion.chunk\",\"created\":")
                        .appendString(Long.toString(createdMillis / 1000))
                        .appendString(",\"model\":").appendBytes(quoted(chat.model().id()))
                        .appendString(",\"provider\":").appendBytes(quoted(chat.model().provider()))
                        .appendString(",\"choices\":[],\"usage\":");
                appendUsage(tail, outcome.usage(), charged).appendString("}\n\n").appendBuffer(DONE);
                response.end(tail);
            }
        }

        void fail(Throwable failure) {
            Errors.ApiError error = Errors.classify(failure, id);
            // what reached the client before the failure is billed: hanging up early must not make an answer free
            Usage delivered = failure instanceof ProviderException provider && sink != null && sink.started()
                    ? provider.usage() : null;
            if (cancelled.future().isComplete() && response.closed()) {
                finish(499, "client_closed", delivered, null);
                return;
            }
            boolean streaming = sink != null && sink.started();
            long charged = 0;
            if (!shed && (reserved >= 0 || (chat != null && principal != null))) {
                charged = finish(error.code(), error.kind(), delivered, streaming ? "error" : null);
            }
            if (streaming) {
                if (!response.closed() && !response.ended()) {
                    JsonObject event = new JsonObject().put("id", id).put("object", "chat.completion.chunk")
                            .put("created", createdMillis / 1000).put("model", chat.model().id())
                            .put("error", error.body().getJsonObject("error"))
                            .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
                                    .put("delta", new JsonObject()).put("finish_reason", "error")));
                    Buffer encoded = event.toBuffer();
                    if (delivered != null) {
                        encoded = CompletionSplicer.splice(encoded,
                                appendUsage(Buffer.buffer(256).appendString("\"usage\":"), delivered, charged), "usage");
                    }
                    response.end(Buffer.buffer("data: ").appendBuffer(encoded).appendString("\n\n")
                            .appendBuffer(DONE));
                }
                return;
            }
            Errors.send(response, error);
        }

        /**
         * Settles the reservation and sends the usage row, once. Returns the amount charged: the exact cost of the
         * usage, capped at the reservation (the reservation is a proven upper bound for honest usage).
         */
        long finish(int status, String errorCode, Usage usage, String finishReason) {
            if (finished) {
                return 0;
            }
            finished = true;
            if (backlog == null) {
                return 0;
            }
            long charged = chargeOf(usage);
            if (usage != null && charged < chat.model().cost(usage.promptTokens(), usage.completionTokens())) {
                log.warn("[{}] usage cost exceeds the reservation {}; charged the reservation", id, reserved);
            }
            if (reserved > 0) {
                leases.settle(principal.accountId(), reserved, charged);
            }
            int latency = (int) ((System.nanoTime() - startNanos) / 1_000_000);
            Usage u = usage == null ? new Usage(0, 0, 0, 0, false) : usage;
            backlog.offer(new UsageRecord(id, principal.accountId(), principal.keyId(),
                    chat.model().id(), chat.model().provider(), chat.model().upstreamModel(), chat.stream(), status,
                    errorCode, finishReason, u.promptTokens(), u.completionTokens(), u.cachedTokens(),
                    u.reasoningTokens(), u.estimated(), status == 499, charged, latency, createdMillis));
            return charged;
        }

        /** The exact cost of the usage, capped at the reservation (a proven upper bound for honest usage). */
        long chargeOf(Usage usage) {
            if (usage == null || reserved <= 0) {
                return 0;
            }
            return Math.min(chat.model().cost(usage.promptTokens(), usage.completionTokens()), reserved);
        }
    }

    /** Catalog strings (model ids, provider names) as JSON string literals, encoded once. */
    private static final ConcurrentHashMap<String, byte[]> QUOTED = new ConcurrentHashMap<>();

    private static byte[] quoted(String value) {
        byte[] cached = QUOTED.get(value);
        if (cached != null) {
            return cached;
        }
        byte[] inner = JsonStringEncoder.getInstance().quoteAsUTF8(value);
        byte[] out = new byte[inner.length + 2];
        out[0] = '"';
        System.arraycopy(inner, 0, out, 1, inner.length);
        out[out.length - 1] = '"';
        if (QUOTED.size() < 4_096) {
            QUOTED.put(value, out);
        }
        return out;
    }

    /**
     * The {@code usage} object corouter returns (tokens, exact {@code cost} as a plain decimal, details), written
     * straight into {@code out}: the one definition of its shape, used by whole answers, streams and errors.
     */
    static Buffer appendUsage(Buffer out, Usage usage, long charged) {
        return out.appendString("{\"prompt_tokens\":").appendString(Integer.toString(usage.promptTokens()))
                .appendString(",\"completion_tokens\":").appendString(Integer.toString(usage.completionTokens()))
                .appendString(",\"total_tokens\":").appendString(Integer.toString(usage.totalTokens()))
                .appendString(",\"cost\":").appendString(Money.toUsd(charged).toPlainString())
                .appendString(",\"is_byok\":false,\"prompt_tokens_details\":{\"cached_tokens\":")
                .appendString(Integer.toString(usage.cachedTokens()))
                .appendString("},\"completion_tokens_details\":{\"reasoning_tokens\":")
                .appendString(Integer.toString(usage.reasoningTokens()))
                .appendString("},\"cost_details\":{\"upstream_inference_cost\":null}}");
    }

    private static String finishReason(JsonObject body) {
        JsonArray choices = body.getJsonArray("choices");
        if (choices == null || choices.isEmpty() || !(choices.getValue(0) instanceof JsonObject first)) {
            return null;
        }
        return first.getString("finish_reason");
    }
}
