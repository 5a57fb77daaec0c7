package co.corouter.server;

import co.corouter.plugin.api.ModelProvider;
import co.corouter.server.accounts.AccountRepository;
import co.corouter.server.accounts.AccountService;
import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.accounts.AccountsVerticle;
import co.corouter.server.accounts.ApiKeys;
import co.corouter.server.accounts.AuthenticateStage;
import co.corouter.server.accounts.KeyAuthenticator;
import co.corouter.server.accounts.Passwords;
import co.corouter.server.accounts.UserRepository;
import co.corouter.server.audit.Audit;
import co.corouter.server.billing.AdmitStage;
import co.corouter.server.billing.BillingContract;
import co.corouter.server.billing.BillingService;
import co.corouter.server.billing.BillingVerticle;
import co.corouter.server.billing.CreditBook;
import co.corouter.server.billing.KeyLimitBook;
import co.corouter.server.billing.KeyLimitRepository;
import co.corouter.server.billing.LedgerRepository;
import co.corouter.server.billing.LimitsStage;
import co.corouter.server.billing.SettleStage;
import co.corouter.server.common.JsonSetup;
import co.corouter.server.common.LocalCodec;
import co.corouter.server.common.Metrics;
import co.corouter.server.common.Money;
import co.corouter.server.config.Secrets;
import co.corouter.server.config.ServerOptions;
import co.corouter.server.console.ConsoleRouter;
import co.corouter.server.console.data.ConsoleDataApi;
import co.corouter.server.console.data.RetentionJob;
import co.corouter.server.ingress.EdgeGuard;
import co.corouter.server.ingress.IngressVerticle;
import co.corouter.server.ingress.Api;
import co.corouter.server.ingress.ValidateStage;
import co.corouter.server.metering.BacklogStage;
import co.corouter.server.metering.CountUsageStage;
import co.corouter.server.metering.MeteringContract;
import co.corouter.server.metering.MeteringVerticle;
import co.corouter.server.metering.RecordStage;
import co.corouter.server.metering.Tokenizer;
import co.corouter.server.metering.UsageBacklog;
import co.corouter.server.metering.UsageRepository;
import co.corouter.server.metering.UsageReports;
import co.corouter.server.payments.OrderBook;
import co.corouter.server.payments.Payments;
import co.corouter.server.payments.ReconcileJob;
import co.corouter.server.pipeline.Pipeline;
import co.corouter.server.pipeline.Stage;
import co.corouter.server.routing.CallStage;
import co.corouter.server.routing.ModelCatalog;
import co.corouter.server.routing.PluginHost;
import co.corouter.server.routing.ProviderRegistry;
import co.corouter.server.routing.RouteStage;
import co.corouter.server.routing.Router;
import co.corouter.server.storage.Database;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One corouter node, and the composition root: builds each context's services over a shared database pool, wires the
 * request {@link Pipeline} from their stages, and deploys the accounts, billing and metering verticles and one
 * ingress verticle per event loop. {@link #stop()} drains in reverse: ingress stops taking requests and finishes the
 * ones in flight; the credit book returns its unreserved credit; metering writes every usage row (with its charge);
 * finally the node's lease rows, now empty, are deleted.
 */
public final class Corouter {

    private static final Logger log = LoggerFactory.getLogger(Corouter.class);

    private final Vertx vertx;
    private final String nodeId;
    private final Pool pool;
    private final PluginHost plugins;
    private final ProviderRegistry providers;
    private final List<IngressVerticle> ingress;
    private final AccountsContract.Accounts accounts;
    private final BillingContract.Credits credits;
    private final LedgerRepository ledger;
    private final CreditBook creditBook;
    private final KeyLimitBook keyLimitBook;
    private final KeyLimitRepository keyLimits;
    private final Metrics metrics;
    private final EdgeGuard.Shared edge;
    private final List<String> deployments;
    private final String ingressDeployment;
    private final Payments payments;
    private final Audit audit;

    private Corouter(Vertx vertx, String nodeId, Pool pool, PluginHost plugins, ProviderRegistry providers,
            List<IngressVerticle> ingress, AccountsContract.Accounts accounts, BillingContract.Credits credits,
            LedgerRepository ledger, CreditBook creditBook, KeyLimitBook keyLimitBook, KeyLimitRepository keyLimits,
            Metrics metrics, EdgeGuard.Shared edge, List<String> deployments, String ingressDeployment,
            Payments payments, Audit audit) {
        this.payments = payments;
        this.audit = audit;
        this.vertx = vertx;
        this.nodeId = nodeId;
        this.pool = pool;
        this.plugins = plugins;
        this.providers = providers;
        this.ingress = ingress;
        this.accounts = accounts;
        this.credits = credits;
        this.ledger = ledger;
        this.creditBook = creditBook;
        this.keyLimitBook = keyLimitBook;
        this.keyLimits = keyLimits;
        this.metrics = metrics;
        this.edge = edge;
        this.deployments = deployments;
        this.ingressDeployment = ingressDeployment;
    }

    /** Starts a node on {@code vertx} against an open {@code database}, on the system's UTC clock. */
    public static Future<Corouter> start(Vertx vertx, ServerOptions options, ModelCatalog catalog, Database database,
            Secrets secrets) {
        return start(vertx, options, catalog, database, secrets, Clock.systemUTC());
    }

    /**
     * Starts a node whose calendar is {@code clock}: key expiry, key-limit periods, {@code GET /v1/key}'s periods and
     * the console's "today" (tests fix or move it; usage rows keep the time they happened).
     */
    public static Future<Corouter> start(Vertx vertx, ServerOptions options, ModelCatalog catalog, Database database,
            Secrets secrets, Clock clock) {
        JsonSetup.plainDecimals();
        String nodeId = "node-" + UUID.randomUUID();
        PluginHost plugins = new PluginHost(options.pluginsDir());
        Tokenizer tokenizer = new Tokenizer();
        LocalCodec.register(vertx.eventBus(), BillingContract.CreditChanged.class,
                AccountsContract.KeyRevoked.class, AccountsContract.KeysChanged.class);
        return vertx.<ProviderRegistry>executeBlocking(() -> {
            Map<String, ModelProvider> types = plugins.start();
            return ProviderRegistry.create(vertx, options.providers(), types, secrets, tokenizer);
        }).compose(providers -> {
            // payment gateways are built on a worker too (PaymentProcessor.create may block); an invalid one stops the
            // start: a node that would sell credit but cannot must not run
            Future<Map<String, co.corouter.plugin.api.payment.PaymentGateway>> gateways = vertx.executeBlocking(() ->
                    Payments.gateways(vertx, plugins.paymentProcessors(), options.payments(), secrets::resolve));
            // the audit sinks' schemas and the key-encryption key are read (or the key created) on a worker as well
            Future<Audit.Prepared> audit = vertx.executeBlocking(() ->
                    Audit.prepare(options.audit(), plugins.auditSinks()));
            return Future.all(gateways, audit).map(both -> new Object[] {providers, both.resultAt(0), both.resultAt(1)});
        }).compose(built -> {
            ProviderRegistry providers = (ProviderRegistry) built[0];
            @SuppressWarnings("unchecked")
            Map<String, co.corouter.plugin.api.payment.PaymentGateway> gateways =
                    (Map<String, co.corouter.plugin.api.payment.PaymentGateway>) built[1];
            Audit.Prepared audit = (Audit.Prepared) built[2];
            Pool pool = database.pool(vertx, options.database().poolSize());
            AccountRepository accountRepository = new AccountRepository(pool);
            UserRepository users = new UserRepository(pool);
            SecureRandom random = new SecureRandom();
            byte[] candidate = new byte[32];
            random.nextBytes(candidate);
            byte[] linkCandidate = new byte[32];
            random.nextBytes(linkCandidate);
            return accountRepository.keySigningSecret(candidate)
                    .compose(secret -> users.linkSigningSecret(linkCandidate)
                            .compose(linkSecret -> wire(vertx, options, catalog, nodeId, plugins, providers, pool,
                                    accountRepository, new ApiKeys(secret), tokenizer, users, linkSecret, clock,
                                    gateways, audit)));
        }).onSuccess(node -> {
            log.info("corouter node {} listening on http://{}:{} with {} event loops", node.nodeId,
                    options.http().host(), node.port(), node.ingress.size());
            if (!options.metering().enabled()) {
                log.warn("metering is OFF (metering.enabled: false): requests are served without credit checks, "
                        + "usage rows or charges. Use this for benchmarks only.");
            }
        });
    }

    private static Future<Corouter> wire(Vertx vertx, ServerOptions options, ModelCatalog catalog, String nodeId,
            PluginHost plugins, ProviderRegistry providers, Pool pool, AccountRepository accountRepository,
            ApiKeys apiKeys, Tokenizer tokenizer, UserRepository users, byte[] linkSecret, Clock clock,
            Map<String, co.corouter.plugin.api.payment.PaymentGateway> gateways, Audit.Prepared prepared) {
        Metrics metrics = new Metrics();
        Audit audit = Audit.create(vertx, options.audit(), prepared, pool, metrics);
        KeyAuthenticator authenticator = new KeyAuthenticator(accountRepository, apiKeys, clock);
        AccountService accounts = new AccountService(accountRepository, apiKeys, authenticator, vertx.eventBus());
        LedgerRepository ledger = new LedgerRepository(pool);
        BillingService credits = new BillingService(ledger, vertx.eventBus());
        CreditBook creditBook = new CreditBook(nodeId, ledger, options.billing());
        KeyLimitRepository keyLimits = new KeyLimitRepository(pool);
        KeyLimitBook keyLimitBook = new KeyLimitBook(nodeId, keyLimits, options.billing());
        UsageRepository usage = new UsageRepository(pool, ledger, keyLimits, accountRepository);
        UsageBacklog backlog = new UsageBacklog(options.metering().maxBacklog());
        Router router = new Router(vertx, catalog, providers, options.routing());
        Map<Api, Pipeline> pipelines = pipelines(vertx, options, authenticator, router, creditBook, keyLimitBook, clock,
                backlog, tokenizer, metrics, audit.teeStage());
        EdgeGuard.Shared edge = new EdgeGuard.Shared();
        metrics.registry().gauge("corouter_http_in_flight", edge, EdgeGuard.Shared::inFlight);
        metrics.registry().gauge("corouter_http_connections", edge, EdgeGuard.Shared::connections);
        metrics.registry().gauge("corouter_http_buffered_body_bytes", edge, EdgeGuard.Shared::bufferedBodyBytes);
        metrics.registry().gauge("corouter_usage_backlog", backlog, UsageBacklog::size);

        java.util.concurrent.atomic.AtomicReference<String> publicUrl =
                new java.util.concurrent.atomic.AtomicReference<>(options.console().publicUrl());
        Payments payments = new Payments(vertx, new OrderBook(pool, ledger), ledger, credits, gateways,
                options.payments(), publicUrl::get);
        Passwords passwords = new Passwords(vertx);
        ConsoleDataApi consoleData = ConsoleDataApi.create(vertx, pool,
                new ConsoleDataApi.Services(accounts, accounts, credits, ledger, new UsageReports(pool), payments,
                        audit.configs()),
                (hash, password) -> passwords.verify(password, hash),
                user -> users.profile(user.userId()).compose(me -> credits.balance(user.accountId())
                        .map(balance -> me.put("balance_usd", Money.toUsdText(balance.balance()))
                                .put("frozen", balance.frozen()))),
                clock);
        ConsoleRouter console = ConsoleRouter.create(vertx, options, users, credits, linkSecret,
                consoleData.routes());

        JsonArray pluginStates = new JsonArray();
        plugins.statuses().forEach(s -> pluginStates.add(new JsonObject().put("id", s.id())
                .put("version", s.version()).put("state", s.state()).put("requires", s.requires())
                .put("error", s.error())));
        IngressVerticle.Dependencies deps = new IngressVerticle.Dependencies(options.http(), options.adminToken(),
                Map.copyOf(pipelines), router, tokenizer::countChatPrompt, authenticator, accounts, credits, usage, keyLimitBook, clock, metrics, edge,
                () -> pool.query("SELECT 1").execute()
                        .<JsonObject>map(rows -> readiness(true, providers, router, pluginStates))
                        .otherwise(e -> readiness(false, providers, router, pluginStates)),
                console, consoleData::eventBus, payments, audit.recorder(), audit.configs());
        List<IngressVerticle> instances = new CopyOnWriteArrayList<>();
        AtomicInteger next = new AtomicInteger();
        List<String> deployments = new ArrayList<>();
        return vertx.deployVerticle(new AccountsVerticle(authenticator))
                .compose(id -> {
                    deployments.add(id);
                    return vertx.deployVerticle(new BillingVerticle(ledger, creditBook, keyLimitBook, options.billing()));
                })
                .compose(id -> {
                    deployments.add(id);
                    return vertx.deployVerticle(new MeteringVerticle(nodeId, usage, options.metering(), backlog));
                })
                .compose(id -> {
                    deployments.add(id);
                    return consoleData.start().compose(v -> vertx.deployVerticle(
                            new RetentionJob(options.retention(), usage, pool, Clock.systemUTC())));
                })
                .compose(id -> {
                    deployments.add(id);
                    return vertx.deployVerticle(new ReconcileJob(payments));
                })
                .compose(id -> {
                    deployments.add(id);
                    return audit.deploy(vertx);
                })
                .compose(id -> {
                    deployments.add(id);
                    return vertx.deployVerticle(() -> {
                        IngressVerticle verticle = new IngressVerticle(deps, next.getAndIncrement());
                        instances.add(verticle);
                        return verticle;
                    }, new DeploymentOptions().setInstances(options.http().eventLoops()));
                })
                .map(web -> {
                    Corouter node = new Corouter(vertx, nodeId, pool, plugins, providers, List.copyOf(instances),
                            accounts, credits, ledger, creditBook, keyLimitBook, keyLimits, metrics, edge, deployments, web,
                            payments, audit);
                    // without a configured public_url, links point at the port actually bound (port 0 in tests)
                    if (options.console().publicUrl().endsWith(":0")) {
                        publicUrl.set("http://" + options.http().host() + ":" + node.port());
                    }
                    return node;
                });
    }

    /**
     * The request pipelines, one per {@link Api}, their stages in order (README "The pipeline"):
     * authenticate → audit tee → validate → shed → route → limits → admit → call, then count usage → settle → record.
     * Route comes before limits and admit so the key's hold and the reservation cover the most expensive candidate.
     * With metering off (benchmarks only) nothing is held, reserved, settled or recorded. The APIs' pipelines differ only in validation (each reads its
     * own body shape); every other stage is one instance shared by all of them.
     */
    private static Map<Api, Pipeline> pipelines(Vertx vertx, ServerOptions options, KeyAuthenticator authenticator,
            Router router, CreditBook creditBook, KeyLimitBook keyLimitBook, Clock clock, UsageBacklog backlog,
            Tokenizer tokenizer, Metrics metrics, Stage auditTee) {
        boolean metered = options.metering().enabled();
        Stage authenticate = new AuthenticateStage(authenticator);
        Stage limits = new LimitsStage(keyLimitBook, clock);
        Stage shed = new BacklogStage(backlog);
        Stage route = new RouteStage(router);
        Stage admit = new AdmitStage(creditBook);
        Stage call = new CallStage(vertx, options.http().upstreamTimeoutMillis(), options.routing());
        List<Stage> end = metered
                ? List.of(new CountUsageStage(vertx, tokenizer), new SettleStage(creditBook, keyLimitBook),
                        new RecordStage(backlog, metrics))
                : List.of();
        Map<Api, Pipeline> pipelines = new EnumMap<>(Api.class);
        for (Api api : Api.values()) {
            List<Stage> forward = new ArrayList<>();
            forward.add(authenticate);
            forward.add(auditTee);
            forward.add(ValidateStage.of(api, router::model));
            if (metered) {
                forward.add(shed);
            }
            forward.add(route);
            if (metered) {
                forward.add(limits);
                forward.add(admit);
            }
            forward.add(call);
            pipelines.put(api, new Pipeline(forward, end));
        }
        return pipelines;
    }

    private static JsonObject readiness(boolean databaseUp, ProviderRegistry providers, Router router,
            JsonArray plugins) {
        JsonArray instances = new JsonArray();
        providers.statuses().forEach(s -> instances.add(new JsonObject().put("name", s.name()).put("type", s.type())
                .put("up", s.up()).put("error", s.error())));
        return new JsonObject().put("ready", databaseUp && providers.anyUp())
                .put("database", databaseUp).put("providers", instances).put("endpoints", router.health())
                .put("plugins", plugins);
    }

    public int port() {
        return ingress.get(0).port();
    }

    public String nodeId() {
        return nodeId;
    }

    public Pool pool() {
        return pool;
    }

    public AccountsContract.Accounts accounts() {
        return accounts;
    }

    public BillingContract.Credits credits() {
        return credits;
    }

    public CreditBook creditBook() {
        return creditBook;
    }

    public Metrics metrics() {
        return metrics;
    }

    /** The HTTP edge's node-wide counts (requests in flight, connections, buffered body bytes). */
    public EdgeGuard.Shared edge() {
        return edge;
    }

    /** The audit context (configuration, delivery). */
    public Audit audit() {
        return audit;
    }

    /** The payments context (top-ups, webhooks, reconciliation). */
    public Payments payments() {
        return payments;
    }

    public PluginHost plugins() {
        return plugins;
    }

    /** Completes when every usage record sent so far is in PostgreSQL. */
    public Future<Void> flushUsage() {
        return vertx.eventBus().request(MeteringContract.FLUSH, null).mapEmpty();
    }

    /** Graceful stop: in-flight requests finish, usage is written, leases are returned, plugins stop. */
    public Future<Void> stop() {
        return vertx.undeploy(ingressDeployment)
                .compose(v -> creditBook.close())
                .compose(v -> keyLimitBook.close())
                .compose(v -> undeployInReverse(deployments.size() - 1))
                .compose(v -> ledger.releaseAll(nodeId))
                .compose(v -> keyLimits.releaseAll(nodeId))
                .eventually(() -> providers.close())
                .eventually(() -> payments.close())
                .eventually(() -> vertx.executeBlocking(() -> {
                    plugins.stop();
                    return null;
                }))
                .eventually(pool::close)
                .timeout(120, TimeUnit.SECONDS)
                .onSuccess(v -> log.info("corouter node {} stopped", nodeId))
                .mapEmpty();
    }

    private Future<Void> undeployInReverse(int index) {
        if (index < 0) {
            return Future.succeededFuture();
        }
        return vertx.undeploy(deployments.get(index)).compose(v -> undeployInReverse(index - 1));
    }
}
