package co.corouter.server;

import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.accounts.Passwords;
import co.corouter.server.accounts.UserRepository;
import co.corouter.server.common.Money;
import co.corouter.server.config.ConfigLoader;
import co.corouter.server.config.Secrets;
import co.corouter.server.config.ServerOptions;
import co.corouter.server.routing.ModelCatalog;
import co.corouter.server.storage.Database;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code corouter up [--conf DIR] [--demo]}: starts the database (embedded unless a URL is configured), one node,
 * and with {@code --demo} a demo account holding $10.00 with a fresh API key and a console user
 * ({@value #DEMO_EMAIL}) with a fresh password, both printed once. Ctrl-C stops cleanly.
 */
public final class Main {

    private static final Logger log = LoggerFactory.getLogger(Main.class);
    static final String DEMO_ACCOUNT = "demo";
    static final String DEMO_EMAIL = "demo@corouter.local";
    static final long DEMO_CREDIT = 10 * Money.NANOS_PER_USD;

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        List<String> argv = Arrays.asList(args);
        if (argv.contains("--help") || argv.contains("-h")) {
            System.out.println("usage: corouter up [--conf DIR] [--demo]");
            return;
        }
        Path confDir = Path.of(option(argv, "--conf", "conf")).toAbsolutePath();
        boolean demo = argv.contains("--demo");
        Secrets secrets = new Secrets(System.getenv());
        ServerOptions options;
        ModelCatalog catalog;
        try {
            options = ServerOptions.parse(confDir, ConfigLoader.load(confDir.resolve("corouter.yaml"), System.getenv()),
                    secrets);
            catalog = ModelCatalog.load(confDir.resolve("models.yaml"));
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("corouter: configuration error: " + e.getMessage());
            System.exit(2);
            return;
        }
        Database database = Database.open(options.database(), options.dataDir());
        Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true)
                .setEventLoopPoolSize(options.http().eventLoops()));
        log.info("network transport: {}", vertx.isNativeTransportEnabled() ? "native epoll" : "NIO");
        Corouter node;
        try {
            node = Corouter.start(vertx, options, catalog, database, secrets)
                    .toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.error("corouter failed to start: {}", e.getCause() == null ? e.toString() : e.getCause().toString());
            vertx.close();
            database.close();
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping corouter");
            try {
                node.stop().toCompletionStage().toCompletableFuture().get(90, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("stop did not complete cleanly: {}", e.toString());
            }
            try {
                vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.warn("closing Vert.x: {}", e.toString());
            }
            database.close();
            stopped.countDown();
        }, "corouter-shutdown"));

        String baseUrl = "http://" + options.http().host() + ":" + node.port() + "/v1";
        String key = demo ? demoKey(node).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS) : null;
        String demoPassword = demo ? demoUser(node, vertx).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS) : null;
        StringBuilder banner = new StringBuilder()
                .append("\n  corouter is running\n")
                .append("  base URL : ").append(baseUrl).append('\n');
        if (key != null) {
            banner.append("  demo key : ").append(key).append("   (account 'demo', $10.00 of credit)\n")
                    .append("  try      : curl ").append(baseUrl).append("/chat/completions -H 'Authorization: Bearer ")
                    .append(key).append("' -H 'Content-Type: application/json' -d '{\"model\":\"corouter/mock-small\",")
                    .append("\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'\n");
            banner.append("  console  : http://").append(options.http().host()).append(':').append(node.port())
                    .append("/console/   sign in as ").append(DEMO_EMAIL).append(" / ").append(demoPassword)
                    .append('\n');
        }
        banner.append("  stop     : Ctrl-C\n");
        System.out.println(banner);
        System.out.flush();
        stopped.await();
    }

    /** Creates the demo account with $10.00 once, and a new key for it on every start. */
    static Future<String> demoKey(Corouter node) {
        return node.accounts().findAccountByName(DEMO_ACCOUNT)
                .compose(id -> id != null ? Future.succeededFuture(id) : node.accounts().createAccount(DEMO_ACCOUNT))
                .compose(id -> node.credits().grant(id, DEMO_CREDIT, "demo credit", "demo-credit:" + id)
                        .compose(movement -> node.accounts().createKey(id, "demo"))
                        .map(AccountsContract.NewKey::key));
    }

    /** Gives the demo account its console user (verified) with a fresh random password; returns the password. */
    static Future<String> demoUser(Corouter node, Vertx vertx) {
        byte[] random = new byte[12];
        new SecureRandom().nextBytes(random);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        UserRepository users = new UserRepository(node.pool());
        return node.accounts().findAccountByName(DEMO_ACCOUNT)
                .compose(id -> new Passwords(vertx).hash(password)
                        .compose(hash -> users.ensureDemoUser(id, DEMO_EMAIL, hash)))
                .map(v -> password);
    }

    private static String option(List<String> argv, String name, String fallback) {
        int i = argv.indexOf(name);
        return i >= 0 && i + 1 < argv.size() ? argv.get(i + 1) : fallback;
    }
}
