package co.corouter.server;

import co.corouter.plugin.api.ModelProvider;
import co.corouter.server.accounts.AccountRepository;
import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.accounts.KeyAuthenticator;
import co.corouter.server.billing.BillingContract;
import co.corouter.server.billing.BillingVerticle;
import co.corouter.server.billing.LedgerRepository;
import co.corouter.server.common.JsonSetup;
import co.corouter.server.common.LocalCodec;
import co.corouter.server.config.Secrets;
import co.corouter.server.config.ServerOptions;
import co.corouter.server.ingress.IngressVerticle;
import co.corouter.server.metering.MeteringContract;
import co.corouter.server.metering.MeteringVerticle;
import co.corouter.server.metering.UsageBacklog;
import co.corouter.server.metering.UsageRepository;
import co.corouter.server.routing.ModelCatalog;
import co.corouter.server.routing.PluginHost;
import co.corouter.server.routing.ProviderRegistry;
import co.corouter.server.routing.Router;
import co.corouter.server.storage.Database;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One corouter node: loads the plugins, builds the provider instances and deploys the billing, metering and
 * ingress verticles over a shared database pool. {@link #stop()} drains in that order's reverse: ingress stops
 * taking requests, finishes the ones in flight and returns its unreserved lease credit; metering writes every
 * usage row (with its charge); finally the node's lease rows, now empty, are deleted.
 */
public final class Corouter {

    private static final Logger log = LoggerFactory.getLogger(Corouter.class);

    private final Vertx vertx;
    private final String nodeId;
    private final Pool pool;
    private final PluginHost plugins;
    private final ProviderRegistry providers;
    private final IngressVerticle ingress;
    private final AccountRepository accounts;
    private final LedgerRepository ledger;
    private final String billingDeployment;
    private final String meteringDeployment;
    private final String ingressDeployment;

    private Corouter(Vertx vertx, String nodeId, Pool pool, PluginHost plugins, ProviderRegistry providers,
            IngressVerticle ingress, AccountRepository accounts, LedgerRepository ledger, String billingDeployment,
            String meteringDeployment, String ingressDeployment) {
        this.vertx = vertx;
        this.nodeId = nodeId;
        this.pool = pool;
        this.plugins = plugins;
        this.providers = providers;
        this.ingress = ingress;
        this.accounts = accounts;
        this.ledger = ledger;
        this.billingDeployment = billingDeployment;
        this.meteringDeployment = meteringDeployment;
        this.ingressDeployment = ingressDeployment;
    }

    /** Starts a node on {@code vertx} against an open {@code database}. */
    public static Future<Corouter> start(Vertx vertx, ServerOptions options, ModelCatalog catalog, Database database,
            Secrets secrets) {
        JsonSetup.plainDecimals();
        String nodeId = "node-" + UUID.randomUUID();
        PluginHost plugins = new PluginHost(options.pluginsDir());
        LocalCodec.register(vertx.eventBus(), BillingContract.CreditChanged.class, MeteringContract.UsageRecord.class,
                AccountsContract.KeyRevoked.class);
        return vertx.<ProviderRegistry>executeBlocking(() -> {
            Map<String, ModelProvider> types = plugins.start();
            return ProviderRegistry.create(vertx, options.providers(), types, secrets);
        }).compose(providers -> {
            Pool pool = database.pool(vertx, options.database().poolSize());
            AccountRepository accounts = new AccountRepository(pool);
            LedgerRepository ledger = new LedgerRepository(pool);
            UsageRepository usage = new UsageRepository(pool);
            KeyAuthenticator keys = new KeyAuthenticator(accounts);
            UsageBacklog backlog = new UsageBacklog(options.metering().maxBacklog());
            Router router = new Router(catalog, providers);
            JsonArray pluginStates = new JsonArray();
            plugins.statuses().forEach(s -> pluginStates.add(new JsonObject().put("id", s.id())
                    .put("version", s.version()).put("state", s.state()).put("requires", s.requires())
                    .put("error", s.error())));
            IngressVerticle ingress = new IngressVerticle(new IngressVerticle.Dependencies(nodeId, options.http(),
                    options.billing(), options.metering().enabled(), options.adminToken(), keys, router, accounts, ledger, usage, backlog,
                    () -> pool.query("SELECT 1").execute()
                            .<JsonObject>map(rows -> readiness(true, providers, pluginStates))
                            .otherwise(e -> readiness(false, providers, pluginStates))));
            return vertx.deployVerticle(new BillingVerticle(ledger, options.billing()))
                    .compose(billing -> vertx.deployVerticle(new MeteringVerticle(nodeId, usage, options.metering(), backlog))
                            .compose(metering -> vertx.deployVerticle(ingress)
                                    .map(web -> new Corouter(vertx, nodeId, pool, plugins, providers, ingress,
                                            accounts, ledger, billing, metering, web))));
        }).onSuccess(node -> {
            log.info("corouter node {} listening on http://{}:{}", node.nodeId, options.http().host(), node.port());
            if (!options.metering().enabled()) {
                log.warn("metering is OFF (metering.enabled: false): requests are served without credit checks, "
                        + "usage rows or charges. Use this for benchmarks only.");
            }
        });
    }

    private static JsonObject readiness(boolean databaseUp, ProviderRegistry providers, JsonArray plugins) {
        JsonArray instances = new JsonArray();
        providers.statuses().forEach(s -> instances.add(new JsonObject().put("name", s.name()).put("type", s.type())
                .put("up", s.up()).put("error", s.error())));
        return new JsonObject().put("ready", databaseUp && providers.anyUp())
                .put("database", databaseUp).put("providers", instances).put("plugins", plugins);
    }

    public int port() {
        return ingress.port();
    }

    public String nodeId() {
        return nodeId;
    }

    public Pool pool() {
        return pool;
    }

    public AccountRepository accounts() {
        return accounts;
    }

    public LedgerRepository ledger() {
        return ledger;
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
                .compose(v -> vertx.undeploy(meteringDeployment))
                .compose(v -> vertx.undeploy(billingDeployment))
                .compose(v -> ledger.releaseAll(nodeId))
                .eventually(() -> providers.close())
                .eventually(() -> vertx.executeBlocking(() -> {
                    plugins.stop();
                    return null;
                }))
                .eventually(pool::close)
                .timeout(120, TimeUnit.SECONDS)
                .onSuccess(v -> log.info("corouter node {} stopped", nodeId))
                .mapEmpty();
    }
}
