package co.corouter.server.ingress;

import co.corouter.server.accounts.AccountRepository;
import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.accounts.KeyAuthenticator;
import co.corouter.server.billing.BillingContract;
import co.corouter.server.billing.LeaseBook;
import co.corouter.server.billing.LedgerRepository;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.config.ServerOptions;
import co.corouter.server.metering.UsageBacklog;
import co.corouter.server.metering.UsageRepository;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP face of a node: {@code /v1/*} (OpenAI-compatible), {@code /admin/*}, {@code /health}, {@code /ready}.
 * Every response, including errors from the web layer (413, 404, 405), has the OpenRouter error shape.
 */
public final class IngressVerticle extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(IngressVerticle.class);
    private static final int ADMIN_BODY_LIMIT = 64 * 1024;

    /** What ingress needs from the node. */
    public record Dependencies(
            String nodeId,
            ServerOptions.HttpOptions http,
            ServerOptions.BillingOptions billing,
            boolean metered,
            String adminToken,
            KeyAuthenticator keys,
            co.corouter.server.routing.Router router,
            AccountRepository accounts,
            LedgerRepository ledger,
            UsageRepository usage,
            UsageBacklog backlog,
            Supplier<Future<JsonObject>> readiness) {
    }

    private final Dependencies deps;
    private HttpServer server;
    /** Requests whose response has not ended yet; confined to this verticle's event loop. */
    private int inFlight;
    private Promise<Void> drained;
    /** Set on this loop when the stop begins: a request that arrives after it is refused, never half-served. */
    private boolean stopping;
    private MessageConsumer<AccountsContract.KeyRevoked> revocations;
    private MessageConsumer<BillingContract.CreditChanged> creditChanges;
    private LeaseBook leases;

    public IngressVerticle(Dependencies deps) {
        this.deps = deps;
    }

    @Override
    public Future<?> start() {
        revocations = vertx.eventBus().consumer(AccountsContract.KEY_REVOKED,
                message -> deps.keys().invalidate(message.body().keyHashHex()));
        leases = new LeaseBook(vertx, deps.nodeId(), deps.ledger(), deps.billing());
        leases.start();
        creditChanges = vertx.eventBus().consumer(BillingContract.CREDIT_CHANGED,
                message -> leases.creditChanged(message.body().accountId()));
        Router web = Router.router(vertx);
        web.route().handler(this::track);
        ChatCompletionsHandler chat = new ChatCompletionsHandler(vertx, deps.keys(), leases, deps.router(),
                deps.metered() ? deps.backlog() : null, deps.http().upstreamTimeoutMillis());
        AccountApi account = new AccountApi(deps.keys(), deps.ledger(), deps.usage(), deps.router().catalog());
        AdminApi admin = new AdminApi(deps.adminToken(), deps.accounts(), deps.ledger(), deps.usage(),
                vertx.eventBus());

        web.post("/v1/chat/completions")
                .handler(BodyHandler.create(false).setBodyLimit(deps.http().bodyLimitBytes()))
                .handler(chat);
        web.get("/v1/models").handler(account::models);
        web.get("/v1/credits").handler(account::credits);
        web.get("/v1/key").handler(account::key);
        web.get("/v1/auth/key").handler(account::key);
        web.get("/v1/generation").handler(account::generation);
        web.get("/health").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "ok")));
        web.get("/ready").handler(this::ready);

        web.route("/admin/*").handler(BodyHandler.create(false).setBodyLimit(ADMIN_BODY_LIMIT)).handler(admin::authorize);
        web.post("/admin/accounts").handler(admin::createAccount);
        web.get("/admin/accounts/:id").handler(admin::account);
        web.post("/admin/accounts/:id/credits").handler(admin::grant);
        web.post("/admin/accounts/:id/keys").handler(admin::createKey);
        web.delete("/admin/keys/:keyId").handler(admin::revokeKey);
        web.get("/admin/accounts/:id/generations").handler(admin::generations);

        web.errorHandler(413, ctx -> Errors.send(ctx.response(), ErrorCodes.PAYLOAD_TOO_LARGE,
                "the request body exceeds " + deps.http().bodyLimitBytes() + " bytes"));
        web.errorHandler(404, ctx -> Errors.send(ctx.response(), ErrorCodes.NOT_FOUND, "no such endpoint"));
        web.errorHandler(405, ctx -> Errors.send(ctx.response(), 405, "method not allowed"));
        web.errorHandler(400, ctx -> Errors.send(ctx.response(), ErrorCodes.BAD_REQUEST, "bad request"));
        web.errorHandler(500, ctx -> {
            log.error("unhandled failure on {}: {}", ctx.normalizedPath(),
                    ctx.failure() == null ? "status " + ctx.statusCode() : ctx.failure().getClass().getName());
            Errors.send(ctx.response(), ErrorCodes.INTERNAL, "internal error");
        });

        HttpServerOptions options = new HttpServerOptions()
                .setHost(deps.http().host())
                .setPort(deps.http().port())
                .setTcpNoDelay(true)
                .setTcpQuickAck(false)
                .setCompressionSupported(false)
                .setIdleTimeout(0);
        server = vertx.createHttpServer(options).requestHandler(web);
        return Future.all(revocations.completion(), creditChanges.completion(), server.listen());
    }

    /**
     * Graceful stop: no new connections; requests in flight finish (bounded by the upstream timeout and the
     * handler's guard). Once none is left, idle keep-alive connections are closed rather than waited for, and the
     * unreserved credit of this loop's leases goes back to the accounts.
     */
    @Override
    public Future<?> stop() {
        if (server == null) {
            return Future.succeededFuture();
        }
        drained = Promise.promise();
        stopping = true;
        if (inFlight == 0) {
            drained.complete();
        }
        long bound = deps.http().upstreamTimeoutMillis() + ChatCompletionsHandler.GUARD_MILLIS + 1_000;
        Future<Void> graceful = server.shutdown(bound, TimeUnit.MILLISECONDS);
        Future<Void> idle = drained.future().compose(v -> server.close());
        return Future.any(graceful, idle).eventually(() -> leases.stop());
    }

    private void track(RoutingContext ctx) {
        if (stopping) {
            // metering may already be gone: a request served now could not be billed
            ctx.response().putHeader("Connection", "close");
            Errors.send(ctx.response(), ErrorCodes.UNAVAILABLE, "corouter is stopping; retry on another node");
            return;
        }
        inFlight++;
        ctx.addEndHandler(ended -> {
            inFlight--;
            if (inFlight == 0 && drained != null) {
                drained.tryComplete();
            }
        });
        ctx.next();
    }

    /** The port actually bound (useful with port 0). */
    public int port() {
        return server.actualPort();
    }

    private void ready(RoutingContext ctx) {
        deps.readiness().get()
                .onSuccess(state -> json(ctx, state.getBoolean("ready", false) ? 200 : 503, state))
                .onFailure(e -> json(ctx, 503, new JsonObject().put("ready", false)));
    }

    private static void json(RoutingContext ctx, int status, JsonObject body) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.toBuffer());
    }
}
