package co.corouter.server.ingress;

import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.billing.BillingContract;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.common.Metrics;
import co.corouter.server.config.ServerOptions;
import co.corouter.server.console.ConsoleRouter;
import co.corouter.server.metering.MeteringContract;
import co.corouter.server.pipeline.Failure;
import co.corouter.server.pipeline.Pipeline;
import co.corouter.server.common.Ids;
import io.micrometer.core.instrument.Counter;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP face of a node, one instance per event loop (they share the port): {@code /v1/*} (OpenAI-compatible, and
 * Anthropic's {@code /v1/messages}; see {@link Api}),
 * {@code /admin/*}, {@code /health}, {@code /ready}, {@code /metrics}. Ingress only speaks HTTP — the edge's limits
 * ({@link EdgeGuard}), bodies ({@link BodyReader}), routes and rendering; the work is the {@link Pipeline}'s stages
 * and the other contexts' services. Every response, including refusals by the HTTP layer itself (400, 404, 405, 408,
 * 413, 414, 431), has the OpenRouter error shape.
 */
public final class IngressVerticle extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(IngressVerticle.class);
    private static final int ADMIN_BODY_LIMIT = 64 * 1024;
    /** Creem's events are a few kilobytes; nothing a processor sends needs more. */
    private static final int WEBHOOK_BODY_LIMIT = 256 * 1024;
    static final String WATCH = "corouter.watch";
    private static final Set<String> PIPELINE_PATHS = Arrays.stream(Api.values()).map(Api::path)
            .collect(Collectors.toUnmodifiableSet());

    /** What ingress needs from the node: options, a pipeline per API and the other contexts' services. */
    public record Dependencies(
            ServerOptions.HttpOptions http,
            String adminToken,
            Map<Api, Pipeline> pipelines,
            co.corouter.server.routing.Router router,
            ToIntFunction<Buffer> promptTokens,
            AccountsContract.Authenticator authenticator,
            AccountsContract.Accounts accounts,
            BillingContract.Credits credits,
            MeteringContract.UsageQueries usage,
            BillingContract.KeyLimits keyLimits,
            java.time.Clock clock,
            Metrics metrics,
            EdgeGuard.Shared edge,
            Supplier<Future<JsonObject>> readiness,
            ConsoleRouter console,
            // a new SockJS event-bus bridge router for /api/eventbus/*, one per verticle
            Supplier<io.vertx.ext.web.Router> consoleEventBus,
            co.corouter.server.payments.Payments payments,
            co.corouter.server.audit.AuditContract.Recorder audit,
            co.corouter.server.audit.AuditContract.Configs auditConfigs) {
    }

    private final Dependencies deps;
    private final int instance;
    private HttpServer server;
    private EdgeGuard guard;
    private Counter served;
    /** Set on this loop when the stop begins: a request that arrives after it is refused, never half-served. */
    private boolean stopping;

    /** @param instance this verticle's index among the node's instances (a metrics label) */
    public IngressVerticle(Dependencies deps, int instance) {
        this.deps = deps;
        this.instance = instance;
    }


    @Override
    public Future<?> start() {
        ServerOptions.HttpOptions http = deps.http();
        log.debug("HTTP verticle {} on {}", instance, Thread.currentThread().getName());
        guard = new EdgeGuard(vertx, http.edge(), http.requestDeadlineMillis(), deps.edge(), deps.metrics());
        guard.start();
        served = deps.metrics().counter("corouter_http_requests_total", "HTTP requests received, per event loop",
                "loop", Integer.toString(instance));
        AccountApi account = new AccountApi(deps.authenticator(), deps.credits(), deps.usage(), deps.keyLimits(),
                deps.router(), deps.clock());
        AdminApi admin = new AdminApi(deps.adminToken(), deps.accounts(), deps.credits(), deps.usage(),
                deps.auditConfigs());

        Router web = Router.router(vertx);
        web.route().handler(this::arrived);
        for (Api api : Api.values()) {
            PipelineEndpoint endpoint = new PipelineEndpoint(deps.pipelines().get(api), api, guard,
                    http.bodyLimitBytes(), deps.audit());
            web.post(api.path()).handler(endpoint::handle);
        }
        AnthropicCountTokens countTokens = new AnthropicCountTokens(vertx, deps.authenticator(), deps.router()::model,
                deps.promptTokens(), guard, http.bodyLimitBytes());
        web.post("/v1/messages/count_tokens").handler(countTokens::handle);
        web.get("/v1/models").handler(account::models);
        web.get("/v1/models/:author/:slug/endpoints").handler(account::endpoints);
        web.get("/v1/credits").handler(account::credits);
        web.get("/v1/key").handler(account::key);
        web.get("/v1/auth/key").handler(account::key);
        web.get("/v1/generation").handler(account::generation);
        web.get("/health").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "ok")));
        ConsoleAssets.mount(web, vertx);
        web.get("/ready").handler(this::ready);
        web.get("/metrics").handler(admin::authorize).handler(this::metrics);
        new PublicPages(deps.router().catalog(), guard).mount(web);

        // the bridge before the session + CSRF handlers: SockJS posts carry no CSRF header, its token guards it
        web.route("/api/eventbus/*").subRouter(deps.consoleEventBus().get());
        web.route("/api/*").subRouter(deps.console().router(vertx));

        // the processor's webhooks (signed: the gateway checks the raw bytes) and the browser's way back from a checkout
        web.post("/webhooks/payments/:instance").handler(this::paymentWebhook);
        web.get("/billing/return/:instance").handler(this::paymentReturn);

        web.route("/admin/*").handler(admin::authorize).handler(this::adminBody);
        web.post("/admin/accounts/:id/settle").handler(admin::settle);
        web.get("/admin/audit/sinks").handler(ctx -> json(ctx, 200, deps.auditConfigs().sinks()));
        web.get("/admin/accounts/:id/audit").handler(admin::audit);
        web.put("/admin/accounts/:id/audit").handler(admin::saveAudit);
        web.post("/admin/accounts/:id/audit/test").handler(admin::testAudit);
        web.delete("/admin/accounts/:id/audit").handler(admin::disableAudit);
        web.post("/admin/accounts").handler(admin::createAccount);
        web.get("/admin/accounts/:id").handler(admin::account);
        web.post("/admin/accounts/:id/credits").handler(admin::grant);
        web.post("/admin/accounts/:id/keys").handler(admin::createKey);
        web.delete("/admin/keys/:keyId").handler(admin::revokeKey);
        web.patch("/admin/keys/:keyId").handler(admin::updateKey);
        web.get("/admin/accounts/:id/generations").handler(admin::generations);
        web.get("/admin/endpoints").handler(ctx -> json(ctx, 200, new JsonObject().put("data", deps.router().health())));
        web.post("/admin/endpoints/reset").handler(ctx -> {
            deps.router().resetHealth();
            json(ctx, 200, new JsonObject().put("data", deps.router().health()));
        });

        web.errorHandler(404, ctx -> Errors.send(ctx.response(), ErrorCodes.NOT_FOUND, "no such endpoint"));
        web.errorHandler(405, ctx -> Errors.send(ctx.response(), 405, "method not allowed"));
        // the router itself refuses a query string or path it cannot decode
        web.errorHandler(400, ctx -> Errors.send(ctx.response(), ErrorCodes.BAD_REQUEST,
                "the request's path or query string is not validly percent-encoded"));
        web.errorHandler(500, ctx -> {
            log.error("unhandled failure on {}: {}", ctx.normalizedPath(),
                    ctx.failure() == null ? "status " + ctx.statusCode() : ctx.failure().getClass().getName());
            Errors.send(ctx.response(), ErrorCodes.INTERNAL, "internal error");
        });

        ServerOptions.EdgeOptions edge = http.edge();
        HttpServerOptions options = new HttpServerOptions()
                .setHost(http.host())
                // port 0 would give every instance a random port of its own; Vert.x shares one random port among
                // servers asking for the same negative port
                .setPort(http.port() == 0 ? -1 : http.port())
                .setTcpNoDelay(true)
                .setTcpQuickAck(false)
                .setCompressionSupported(false)
                .setDecompressionSupported(false)
                .setHandle100ContinueAutomatically(false)
                .setHttp2ClearTextEnabled(edge.h2c())
                .setMaxHeaderSize(edge.maxHeaderBytes())
                .setMaxInitialLineLength(edge.maxInitialLineBytes())
                .setIdleTimeout(0);
        server = vertx.createHttpServer(options)
                .connectionHandler(guard::connected)
                .invalidRequestHandler(this::invalid)
                .requestHandler(web);
        return server.listen();
    }

    /**
     * Graceful stop: no new connections; requests in flight finish (bounded by their deadline). Once none is left, idle
     * keep-alive connections are closed rather than waited for.
     */
    @Override
    public Future<?> stop() {
        if (server == null) {
            return Future.succeededFuture();
        }
        stopping = true;
        Promise<Void> drained = Promise.promise();
        guard.whenDrained(drained::tryComplete);
        long bound = deps.http().requestDeadlineMillis() + 3_000;
        Future<Void> graceful = server.shutdown(bound, TimeUnit.MILLISECONDS);
        Future<Void> idle = drained.future().compose(v -> server.close());
        return Future.any(graceful, idle).eventually(() -> {
            guard.stop();
            return Future.succeededFuture();
        });
    }

    /** The port actually bound (useful with port 0). */
    public int port() {
        return server.actualPort();
    }

    /** Every request: refused while stopping, watched by the edge guard until it is finished. */
    private void arrived(RoutingContext ctx) {
        served.increment();
        if (stopping) {
            // metering may already be gone: a request served now could not be billed
            ctx.response().putHeader("Connection", "close");
            Errors.send(ctx.response(), ErrorCodes.UNAVAILABLE, "corouter is stopping; retry on another node");
            return;
        }
        HttpServerRequest request = ctx.request();
        EdgeGuard.Request watch = guard.started(request);
        if (watch == null) {
            return;
        }
        ctx.put(WATCH, watch);
        if (!PIPELINE_PATHS.contains(request.path())) {
            // the OpenAI SDKs read it as the request id; a completion's is its generation id
            ctx.response().putHeader("x-request-id", Ids.requestId());
        }
        if (!hasBody(request)) {
            watch.bodyDone();
        }
        if (request.path().startsWith("/api/eventbus/") && "websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
            // the console's live feed stays open as long as the page does: not a request the deadline may cut off
            guard.detach(watch);
        }
        ctx.addEndHandler(ended -> {
            if (!watch.heldByPipeline) {
                guard.finished(watch);
            }
        });
        ctx.next();
    }

    private static boolean hasBody(HttpServerRequest request) {
        if (request.method() == HttpMethod.GET || request.method() == HttpMethod.HEAD) {
            return false;
        }
        String length = request.getHeader("Content-Length");
        return request.getHeader("Transfer-Encoding") != null || (length != null && !"0".equals(length.trim()));
    }

    /** A payment processor's webhook: the raw body goes to the gateway as received; 5xx makes the processor retry. */
    private void paymentWebhook(RoutingContext ctx) {
        EdgeGuard.Request watch = ctx.get(WATCH);
        String instance = ctx.pathParam("instance");
        BodyReader.read(ctx.request(), watch, WEBHOOK_BODY_LIMIT, guard).onSuccess(body -> deps.payments()
                .webhook(instance, body, ctx.request().headers())
                .onSuccess(answer -> json(ctx, answer.status(), new JsonObject()
                        .put("received", answer.status() < 300).put("outcome", answer.outcome())))
                .onFailure(failure -> {
                    log.error("payment webhook to '{}' could not be applied (the processor will retry): {}", instance,
                            failure.toString());
                    json(ctx, 500, new JsonObject().put("received", false).put("outcome", "retry"));
                }));
    }

    /** Back from a checkout: reconcile the order if the return is signed, then show it in the console. */
    private void paymentReturn(RoutingContext ctx) {
        deps.payments().returned(ctx.pathParam("instance"), ctx.request().query()).onComplete(done -> {
            String orderId = done.succeeded() ? done.result() : null;
            if (done.failed()) {
                log.warn("payment return to '{}' failed: {}", ctx.pathParam("instance"), done.cause().toString());
            }
            if (orderId == null) {
                ctx.response().setStatusCode(400).putHeader("Content-Type", "text/html; charset=utf-8")
                        .end("<!doctype html><meta charset=utf-8><title>Unknown order</title><p>This link names no "
                                + "order of this corouter. Your payment, if you made one, is credited when the payment "
                                + "processor confirms it: see <a href=\"/console/#/billing\">Billing</a>.</p>");
                return;
            }
            ctx.response().setStatusCode(303).putHeader("Location", "/console/#/billing/orders/" + orderId)
                    .putHeader("Cache-Control", "no-store").end();
        });
    }

    /** Admin bodies: small JSON objects, read by the same reader as every body. */
    private void adminBody(RoutingContext ctx) {
        EdgeGuard.Request watch = ctx.get(WATCH);
        BodyReader.read(ctx.request(), watch, ADMIN_BODY_LIMIT, guard).onSuccess(body -> {
            ctx.put(AdminApi.BODY, body);
            ctx.next();
        });
    }

    /** A request the HTTP decoder could not read: answered in the error shape, its connection closed. */
    private void invalid(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        int code;
        String message;
        if (cause instanceof TooLongHttpLineException) {
            code = ErrorCodes.URI_TOO_LONG;
            message = "the request line is longer than " + deps.http().edge().maxInitialLineBytes() + " bytes";
        } else if (cause instanceof TooLongHttpHeaderException) {
            code = ErrorCodes.HEADERS_TOO_LARGE;
            message = "the request headers are larger than " + deps.http().edge().maxHeaderBytes() + " bytes";
        } else {
            code = ErrorCodes.BAD_REQUEST;
            message = "the request is not valid HTTP";
        }
        guard.refuse(Failure.kindOf(code));
        Errors.refuseAndClose(request, code, message);
    }

    private void ready(RoutingContext ctx) {
        deps.readiness().get()
                .onSuccess(state -> json(ctx, state.getBoolean("ready", false) ? 200 : 503, state))
                .onFailure(e -> json(ctx, 503, new JsonObject().put("ready", false)));
    }

    private void metrics(RoutingContext ctx) {
        ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                .end(deps.metrics().scrape());
    }

    private static void json(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.toBuffer());
    }
}
