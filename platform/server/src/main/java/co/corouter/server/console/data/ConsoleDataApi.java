package co.corouter.server.console.data;

import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.billing.BillingContract;
import co.corouter.server.console.ConsoleRoutes;
import co.corouter.server.console.ConsoleUser;
import co.corouter.server.metering.MeteringContract;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.sqlclient.Pool;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import java.util.function.Function;

/**
 * The console's data routes, built once per node: keys, activity, dashboard, generations, billing, privacy rights and
 * the live feed. Wiring:
 *
 * <pre>
 * ConsoleDataApi data = ConsoleDataApi.create(...).await…;
 * data.routes().forEach(group -&gt; group.mount(api));          // after the session + CSRF handlers
 * router.route("/api/eventbus/*").subRouter(data.eventBus()); // per HTTP verticle, BEFORE session/CSRF: SockJS
 *                                                             // posts without the CSRF header, the token guards it
 * </pre>
 */
public final class ConsoleDataApi {

    /** The services the routes read and change; each belongs to its context. */
    public record Services(AccountsContract.Accounts accounts, AccountsContract.OwnerKeys keys,
            BillingContract.Credits credits, BillingContract.History history, MeteringContract.ConsoleUsage usage,
            co.corouter.server.payments.Payments payments, co.corouter.server.audit.AuditContract.Configs audit) {
    }

    private final KeysRoutes keys;
    private final UsageRoutes usage;
    private final BillingRoutes billing;
    private final PrivacyRoutes privacy;
    private final BridgeRoutes bridge;
    private final PaymentRoutes payments;
    private final AuditRoutes audit;

    private ConsoleDataApi(KeysRoutes keys, UsageRoutes usage, BillingRoutes billing, PrivacyRoutes privacy,
            BridgeRoutes bridge, PaymentRoutes payments, AuditRoutes audit) {
        this.payments = payments;
        this.audit = audit;
        this.keys = keys;
        this.usage = usage;
        this.billing = billing;
        this.privacy = privacy;
        this.bridge = bridge;
    }

    /**
     * Builds the routes; {@link #start} must complete before the first request. {@code me}: what {@code GET /api/me}
     * answers, returned by {@code POST /api/privacy/restrict}; null answers {@code {"restricted":…}} alone.
     */
    public static ConsoleDataApi create(Vertx vertx, Pool pool, Services services, PasswordCheck passwords,
            Function<ConsoleUser, Future<JsonObject>> me, Clock clock) {
        PrivacyRepository people = new PrivacyRepository(pool);
        return new ConsoleDataApi(new KeysRoutes(services.keys(), services.usage()),
                new UsageRoutes(services.usage(), services.credits(), clock),
                new BillingRoutes(services.credits(), services.history(), services.usage()),
                new PrivacyRoutes(services.accounts(), services.keys(), services.credits(), services.history(),
                        services.usage(), people, passwords, me, clock, services.audit()),
                new BridgeRoutes(vertx, people), new PaymentRoutes(services.payments()),
                new AuditRoutes(services.audit()));
    }

    /** Reads (or, on a new deployment, creates) the bridge-token secret. */
    public Future<Void> start() {
        byte[] candidate = new byte[32];
        new SecureRandom().nextBytes(candidate);
        return bridge.start(candidate);
    }

    /** The signed-in route groups, to mount on the {@code /api} router after the session and CSRF handlers. */
    public List<ConsoleRoutes> routes() {
        return List.of(keys, usage, billing, payments, audit, privacy, bridge);
    }

    /** A new SockJS event-bus bridge router for {@code /api/eventbus/*}: call once per HTTP verticle. */
    public Router eventBus() {
        return bridge.eventBus();
    }

    // The route groups' actions, for tests and callers that hold a ConsoleUser without an HTTP request.

    public Future<JsonObject> keys(ConsoleUser user) {
        return keys.list(user);
    }

    public Future<JsonObject> createKey(ConsoleUser user, String name) {
        return safely(() -> keys.create(user, name, AccountsContract.KeySettings.NONE));
    }

    /** {@code POST /api/keys} with a body: {@code name} and optionally {@code limit_usd, limit_reset, expires_at}. */
    public Future<JsonObject> createKey(ConsoleUser user, JsonObject body) {
        return safely(() -> keys.create(user, body.getValue("name"), KeysRoutes.settings(body)));
    }

    public Future<JsonObject> setKeyDisabled(ConsoleUser user, long keyId, boolean disabled) {
        return safely(() -> keys.update(user, keyId, disabled, AccountsContract.KeySettings.NONE));
    }

    /** {@code PATCH /api/keys/:id}: {@code disabled}, {@code limit_usd}, {@code limit_reset}, {@code expires_at}. */
    public Future<JsonObject> updateKey(ConsoleUser user, long keyId, JsonObject body) {
        return safely(() -> keys.update(user, keyId, body.getValue("disabled"), KeysRoutes.settings(body)));
    }

    public Future<Void> revokeKey(ConsoleUser user, long keyId) {
        return safely(() -> keys.revoke(user, keyId));
    }

    public Future<JsonObject> activity(ConsoleUser user, String from, String to, String group) {
        return safely(() -> usage.activity(user, from, to, group));
    }

    public Future<JsonObject> dashboard(ConsoleUser user) {
        return usage.dashboard(user);
    }

    public Future<JsonObject> generations(ConsoleUser user, int limit, String cursor, String model, String keyId,
            String status) {
        return safely(() -> usage.generations(user, limit, cursor, model, keyId, status));
    }

    public Future<JsonObject> generation(ConsoleUser user, String id) {
        return usage.generation(user, id);
    }

    public Future<JsonObject> billing(ConsoleUser user, int limit, String cursor) {
        return safely(() -> billing.billing(user, limit, cursor));
    }

    /** The export without its streamed usage rows. */
    public Future<JsonObject> exportHead(ConsoleUser user) {
        return privacy.exportHead(user);
    }

    public Future<JsonObject> restrict(ConsoleUser user, boolean restricted) {
        return privacy.restrict(user, restricted);
    }

    public Future<Void> delete(ConsoleUser user, String password) {
        return safely(() -> privacy.delete(user, password));
    }

    public JsonObject bridgeToken(ConsoleUser user) {
        return bridge.token(user);
    }

    private static <T> Future<T> safely(java.util.function.Supplier<Future<T>> action) {
        try {
            return action.get();
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
    }
}
