package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.Corouter;
import co.corouter.server.accounts.ApiKeys;
import co.corouter.server.common.Money;
import co.corouter.server.config.Secrets;
import co.corouter.server.config.ServerOptions;
import co.corouter.server.routing.ModelCatalog;
import co.corouter.server.storage.Database;
import co.corouter.testkit.anthropic.FakeAnthropicUpstream;
import co.corouter.testkit.gemini.FakeGeminiUpstream;
import co.corouter.testkit.upstream.FakeOpenAiUpstream;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real corouter node for a test class: real PostgreSQL (one embedded server per test JVM, shared; tests isolate
 * themselves by creating their own accounts), plugins loaded by PF4J from the built plugin jars, and optionally a
 * fake OpenAI-compatible upstream wired in as provider {@code fake} serving model {@code fake/model}.
 *
 * <pre>
 * {@literal @}RegisterExtension
 * static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream().build();
 * </pre>
 */
public final class CorouterNode implements BeforeAllCallback, AfterAllCallback {

    public static final String ADMIN_TOKEN = "test-admin-token-0123456789";
    /** The audit key-encryption key of every test node (base64 of 32 bytes). */
    public static final String AUDIT_KEK = java.util.Base64.getEncoder().encodeToString(
            "corouter-test-audit-kek-32-bytes".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    public static final String FAKE_MODEL = "fake/model";
    public static final String MOCK_MODEL = "corouter/mock-small";
    /** Every test node serves from several event loops: nothing may assume one. */
    public static final int EVENT_LOOPS = 4;
    public static final String CREEM_PRODUCT_10 = "prod_usd10";
    public static final String CREEM_PRODUCT_1 = "prod_usd1";
    public static final String CREEM_API_KEY = "creem_test_corouter_it";
    public static final String CREEM_WEBHOOK_SECRET = "whsec_corouter_it";

    private static Database database;

    private final Builder builder;
    private Vertx vertx;
    private Vertx upstreamVertx;
    private FakeOpenAiUpstream upstream;
    private final Map<String, FakeOpenAiUpstream> upstreams = new java.util.LinkedHashMap<>();
    private final Map<String, FakeAnthropicUpstream> anthropics = new java.util.LinkedHashMap<>();
    private final Map<String, FakeGeminiUpstream> geminis = new java.util.LinkedHashMap<>();
    private Corouter node;
    private Path dataDir;
    private ServerOptions options;
    private Secrets secrets;
    private co.corouter.testkit.creem.FakeCreem creem;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private CorouterNode(Builder builder) {
        this.builder = builder;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Configures a node before it starts. */
    public static final class Builder {
        private boolean fakeUpstream;
        private final List<String> namedUpstreams = new ArrayList<>();
        private final List<String> anthropicUpstreams = new ArrayList<>();
        private final List<String> geminiUpstreams = new ArrayList<>();
        private final JsonObject overrides = new JsonObject();
        private final JsonArray extraModels = new JsonArray();
        private Path pluginsDir = Path.of(System.getProperty("corouter.test.plugins", "target/test-plugins"));
        private Consumer<JsonObject> mockConfig = c -> { };
        private java.time.Clock clock = java.time.Clock.systemUTC();
        private boolean fakeCreem;

        public Builder withFakeUpstream() {
            fakeUpstream = true;
            return this;
        }

        /**
         * More fake upstreams, each its own server and provider instance named as given (for several endpoints behind
         * one model); reach them with {@link #upstream(String)}.
         */
        public Builder withFakeUpstreams(String... names) {
            namedUpstreams.addAll(List.of(names));
            return this;
        }

        /** Fake Anthropic Messages APIs, each served to a provider instance of type {@code anthropic} named as given. */
        public Builder withFakeAnthropic(String... names) {
            anthropicUpstreams.addAll(List.of(names));
            return this;
        }

        /** Fake Gemini APIs, each served to a provider instance of type {@code gemini} named as given. */
        public Builder withFakeGemini(String... names) {
            geminiUpstreams.addAll(List.of(names));
            return this;
        }

        /** Sets {@code section.key} in corouter.yaml terms, e.g. {@code set("http", "body_limit_bytes", 2048)}. */
        public Builder set(String section, String key, Object value) {
            JsonObject s = overrides.getJsonObject(section);
            if (s == null) {
                s = new JsonObject();
                overrides.put(section, s);
            }
            s.put(key, value);
            return this;
        }

        public Builder mockProvider(Consumer<JsonObject> config) {
            this.mockConfig = config;
            return this;
        }

        /** Adds a catalog entry (models.yaml shape). */
        public Builder model(JsonObject model) {
            extraModels.add(model);
            return this;
        }

        /** The node's calendar (key expiry, key-limit periods); a {@link MovableClock} lets a test cross a boundary. */
        public Builder clock(java.time.Clock clock) {
            this.clock = clock;
            return this;
        }

        /**
         * A fake Creem ({@link #creem()}) behind a payment instance named {@code creem}, selling {@code usd_10}
         * ({@value #CREEM_PRODUCT_10}, $10.00) and {@code usd_any} ({@value #CREEM_PRODUCT_1}, $1.00 a unit, any
         * number of units); its webhooks go to the node's {@code /webhooks/payments/creem}.
         */
        public Builder withFakeCreem() {
            fakeCreem = true;
            return this;
        }

        public Builder pluginsDir(Path dir) {
            this.pluginsDir = dir;
            return this;
        }

        public CorouterNode build() {
            return new CorouterNode(this);
        }
    }

    /** An account with a key, created through the operator API. */
    public record Account(long id, String key, long keyId) {
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Database db = sharedDatabase();
        vertx = Vertx.vertx(new io.vertx.core.VertxOptions().setEventLoopPoolSize(EVENT_LOOPS + 2));
        JsonObject providers = new JsonObject();
        JsonObject mock = new JsonObject().put("latency_ms", 0).put("chunk_count", 4).put("chunk_interval_ms", 0)
                .put("completion_tokens", 16);
        builder.mockConfig.accept(mock);
        providers.put("mock", new JsonObject().put("type", "mock").put("config", mock));
        if (builder.fakeUpstream || !builder.namedUpstreams.isEmpty() || !builder.anthropicUpstreams.isEmpty()
                || !builder.geminiUpstreams.isEmpty() || builder.fakeCreem) {
            upstreamVertx = Vertx.vertx();
        }
        if (builder.fakeUpstream) {
            upstream = await(new FakeOpenAiUpstream().requireApiKey("sk-upstream-test").start(upstreamVertx));
            providers.put("fake", new JsonObject().put("type", "openai").put("config", new JsonObject()
                    .put("base_url", upstream.baseUrl()).put("api_key_env", "FAKE_UPSTREAM_KEY")));
        }
        for (String name : builder.namedUpstreams) {
            FakeOpenAiUpstream named = await(new FakeOpenAiUpstream().requireApiKey("sk-upstream-test")
                    .start(upstreamVertx));
            upstreams.put(name, named);
            providers.put(name, new JsonObject().put("type", "openai").put("config", new JsonObject()
                    .put("base_url", named.baseUrl()).put("api_key_env", "FAKE_UPSTREAM_KEY")));
        }
        for (String name : builder.anthropicUpstreams) {
            FakeAnthropicUpstream fake = await(new FakeAnthropicUpstream().requireApiKey("sk-upstream-test")
                    .start(upstreamVertx));
            anthropics.put(name, fake);
            providers.put(name, new JsonObject().put("type", "anthropic").put("config", new JsonObject()
                    .put("base_url", fake.baseUrl()).put("api_key_env", "FAKE_UPSTREAM_KEY")));
        }
        for (String name : builder.geminiUpstreams) {
            FakeGeminiUpstream fake = await(new FakeGeminiUpstream().requireApiKey("sk-upstream-test")
                    .start(upstreamVertx));
            geminis.put(name, fake);
            providers.put(name, new JsonObject().put("type", "gemini").put("config", new JsonObject()
                    .put("base_url", fake.baseUrl()).put("api_key_env", "FAKE_UPSTREAM_KEY")));
        }
        dataDir = Files.createTempDirectory("corouter-node-data");
        JsonObject root = new JsonObject()
                .put("node", new JsonObject().put("data_dir", dataDir.toString()))
                .put("http", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("upstream_timeout_ms", 3000)
                        .put("event_loops", EVENT_LOOPS))
                .put("admin", new JsonObject().put("token_env", "TEST_ADMIN_TOKEN"))
                .put("billing", new JsonObject().put("lease_slice_usd", "1.00").put("lease_ttl_seconds", 30))
                .put("metering", new JsonObject().put("batch_size", 500).put("flush_interval_ms", 20))
                .put("providers", providers);
        if (builder.fakeCreem) {
            creem = await(new co.corouter.testkit.creem.FakeCreem()
                    .idTag(Long.toString(System.currentTimeMillis(), 36)).apiKey(CREEM_API_KEY)
                    .webhookSecret(CREEM_WEBHOOK_SECRET)
                    .product(CREEM_PRODUCT_10, "$10 of corouter credit", 1000, "USD")
                    .product(CREEM_PRODUCT_1, "$1 of corouter credit", 100, "USD")
                    .start(upstreamVertx));
            root.put("payments", new JsonObject().put("creem", new JsonObject().put("type", "creem")
                    .put("config", new JsonObject().put("base_url", creem.baseUrl())
                            .put("api_key_env", "CREEM_API_KEY").put("webhook_secret_env", "CREEM_WEBHOOK_SECRET")
                            .put("products", new JsonObject()
                                    .put("usd_10", new JsonObject().put("product_id", CREEM_PRODUCT_10)
                                            .put("price", 1000).put("currency", "USD"))
                                    .put("usd_any", new JsonObject().put("product_id", CREEM_PRODUCT_1)
                                            .put("price", 100).put("currency", "USD").put("units", true))))));
        }
        builder.overrides.forEach(entry -> root.getJsonObject(entry.getKey(), new JsonObject())
                .mergeIn((JsonObject) entry.getValue()));
        builder.overrides.fieldNames().forEach(name -> {
            if (!root.containsKey(name)) {
                root.put(name, builder.overrides.getJsonObject(name));
            }
        });
        root.put("plugins", new JsonObject().put("dir", builder.pluginsDir.toAbsolutePath().toString()));
        Map<String, String> env = new HashMap<>();
        env.put("TEST_ADMIN_TOKEN", ADMIN_TOKEN);
        env.put("FAKE_UPSTREAM_KEY", "sk-upstream-test");
        env.put("CREEM_API_KEY", CREEM_API_KEY);
        env.put("CREEM_WEBHOOK_SECRET", CREEM_WEBHOOK_SECRET);
        // every test node seals audit credentials with one key, as the nodes of a cluster must
        env.put("COROUTER_AUDIT_KEK", AUDIT_KEK);
        secrets = new Secrets(env);
        Path conf = Files.createTempDirectory("corouter-conf");
        options = ServerOptions.parse(conf, root, secrets);
        node = await(Corouter.start(vertx, options, catalog(), db, secrets, builder.clock));
        if (creem != null) {
            creem.webhookUrl("http://127.0.0.1:" + node.port() + "/webhooks/payments/creem");
        }
    }

    private ModelCatalog catalog() {
        JsonObject models = ConfigFiles.models();
        JsonArray list = models.getJsonArray("models");
        if (builder.fakeUpstream) {
            list.add(new JsonObject().put("id", FAKE_MODEL).put("name", "Fake upstream model").put("provider", "fake")
                    .put("upstream_model", "gpt-fake").put("context_length", 8192).put("max_output_tokens", 1024)
                    .put("pricing", new JsonObject().put("prompt_per_million", "2.00")
                            .put("completion_per_million", "10.00"))
                    .put("supported_parameters", new JsonArray().add("max_tokens").add("stream")));
        }
        builder.extraModels.forEach(list::add);
        return ModelCatalog.fromJson(models, "test catalog");
    }

    /**
     * Stops the node as a deployment would (requests drained, usage written, audit batches spooled) and starts a new
     * one on the same configuration, database and data directory.
     */
    public void restart() throws Exception {
        await(node.stop());
        node = await(Corouter.start(vertx, options, catalog(), sharedDatabase(), secrets, builder.clock));
        if (creem != null) {
            creem.webhookUrl("http://127.0.0.1:" + node.port() + "/webhooks/payments/creem");
        }
    }

    /** The node's data directory (its audit spool and files among others), its own temporary directory. */
    public Path dataDir() {
        return dataDir;
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (node != null) {
            await(node.stop());
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        if (upstreamVertx != null) {
            upstreamVertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    public static synchronized Database sharedDatabase() throws Exception {
        if (database == null) {
            Path dir = Files.createTempDirectory("corouter-test-pg");
            database = Database.embedded(dir);
            Database db = database;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                db.close();
                deleteRecursively(dir);
            }, "test-postgres-stop"));
        }
        return database;
    }

    private static void deleteRecursively(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (java.io.IOException e) {
            // a leftover temp directory is harmless
        }
    }

    public static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("awaiting a future failed: " + e, e);
        }
    }

    public Corouter node() {
        return node;
    }

    public Vertx vertx() {
        return vertx;
    }

    /** The fake Creem of {@link Builder#withFakeCreem()}. */
    public co.corouter.testkit.creem.FakeCreem creem() {
        if (creem == null) {
            throw new IllegalStateException("build the node withFakeCreem()");
        }
        return creem;
    }

    public FakeOpenAiUpstream upstream() {
        return upstream;
    }

    /** A fake upstream of {@link Builder#withFakeUpstreams}. */
    public FakeOpenAiUpstream upstream(String name) {
        return upstreams.get(name);
    }

    public FakeAnthropicUpstream anthropic(String name) {
        return anthropics.get(name);
    }

    public FakeGeminiUpstream gemini(String name) {
        return geminis.get(name);
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + node.port() + "/v1";
    }

    public int port() {
        return node.port();
    }

    /** Creates an account holding {@code usd} of credit and a key for it, through {@code /admin}. */
    public Account newAccount(String usd) {
        JsonObject account = new JsonObject(admin("POST", "/admin/accounts",
                new JsonObject().put("name", "test-" + System.nanoTime()), 201));
        long id = account.getLong("id");
        if (Money.parseUsd(usd, "credit") > 0) {
            admin("POST", "/admin/accounts/" + id + "/credits",
                    new JsonObject().put("amount_usd", usd).put("reason", "test credit"), 201);
        }
        JsonObject key = new JsonObject(admin("POST", "/admin/accounts/" + id + "/keys",
                new JsonObject().put("label", "test"), 201));
        String secret = key.getString("key");
        if (!ApiKeys.shaped(secret)) {
            throw new IllegalStateException("the admin API returned a malformed key");
        }
        return new Account(id, secret, key.getLong("id"));
    }

    /** Calls the operator API and returns the body; fails the test when the status differs. */
    public String admin(String method, String path, JsonObject body, int expectedStatus) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
                .header("Authorization", "Bearer " + ADMIN_TOKEN)
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body.encode())));
        if (response.statusCode() != expectedStatus) {
            throw new AssertionError("admin " + method + " " + path + " answered " + response.statusCode() + ": "
                    + response.body());
        }
        return response.body();
    }

    /** POSTs a chat completion with the key and returns status, headers and body. */
    public HttpResponse<String> chat(String key, JsonObject body) {
        return chat(key, body.encode());
    }

    public HttpResponse<String> chat(String key, String rawBody) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl() + "/chat/completions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(rawBody));
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return send(request);
    }

    public HttpResponse<String> get(String path, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path)).GET();
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return send(request);
    }

    public HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new IllegalStateException("HTTP call failed: " + e, e);
        }
    }

    /** Waits until every usage row sent so far is written (rows and their ledger charges). */
    public void flushUsage() {
        await(node.flushUsage());
    }

    /**
     * The usage row of a generation, waiting (flush, then a short timer, bounded at 10 s) for requests whose
     * ending the client cannot observe, such as a client that hung up.
     */
    public Row awaitGeneration(String generationId) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            flushUsage();
            RowSet<Row> rows = sql("SELECT * FROM generations WHERE id = $1", generationId);
            if (rows.size() == 1) {
                return rows.iterator().next();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no usage row for " + generationId + " within 10 s");
            }
            await(vertx.timer(20));
        }
    }

    /**
     * Waits until {@code condition} holds, checking every 10 ms and failing after 15 s: for outcomes the test cannot
     * observe directly (a pipeline that ended after its client left), never a fixed sleep.
     */
    public void awaitCondition(String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            await(vertx.timer(10));
        }
    }

    public RowSet<Row> sql(String sql, Object... params) {
        return await(node.pool().preparedQuery(sql).execute(Tuple.from(params)));
    }

    /** Usage rows of the account, once everything sent so far is written. */
    public long usageRows(long accountId) {
        flushUsage();
        return sql("SELECT count(*) FROM generations WHERE account_id = $1", accountId).iterator().next().getLong(0);
    }

    public long balance(long accountId) {
        return sql("SELECT coalesce((SELECT balance FROM wallets WHERE account_id = $1), 0)::bigint", accountId).iterator().next().getLong(0);
    }

    /** Σ of the account's ledger entries: the balance as the fold of its history. */
    public long ledgerBalance(long accountId) {
        return sql("SELECT coalesce(sum(amount), 0)::bigint FROM ledger_entries WHERE account_id = $1", accountId)
                .iterator().next().getLong(0);
    }

    /**
     * What the ledger collected for one generation, or 0: its cost, when its usage row names a charge transaction
     * whose customer debit equals the sum of the costs of the usage rows naming it (a batch charges each account
     * once). A generation whose charge does not reconcile fails the test.
     */
    public long chargeFor(String generationId) {
        return chargeFor(this::sql, generationId);
    }

    static long chargeFor(java.util.function.BiFunction<String, Object[], RowSet<Row>> sql, String generationId) {
        RowSet<Row> rows = sql.apply("""
                SELECT g.cost, t.kind, t.amount,
                       (SELECT -sum(e.amount) FROM ledger_entries e WHERE e.txn_id = t.id AND e.book = 'customer')::bigint,
                       (SELECT sum(o.cost) FROM generations o WHERE o.charge_txn_id = t.id)::bigint
                FROM generations g JOIN ledger_transactions t ON t.id = g.charge_txn_id
                WHERE g.id = $1""", new Object[] {generationId});
        if (rows.size() == 0) {
            return 0;
        }
        Row row = rows.iterator().next();
        assertThat(row.getString(1)).as("kind of the transaction collecting %s", generationId).isEqualTo("charge");
        assertThat(row.getLong(3)).as("customer debit of the charge collecting %s", generationId)
                .isEqualTo(row.getLong(2)).isEqualTo(row.getLong(4));
        return row.getLong(0);
    }

    /** True when every ledger transaction sums to zero and wallets equal the fold of their entries. */
    public void assertLedgerBalances() {
        long unbalanced = sql("""
                SELECT count(*) FROM (SELECT txn_id FROM ledger_entries GROUP BY txn_id HAVING sum(amount) <> 0) t""")
                .iterator().next().getLong(0);
        long drifted = sql("""
                SELECT count(*) FROM wallets w
                WHERE w.balance <> (SELECT coalesce(sum(amount), 0) FROM ledger_entries e WHERE e.account_id = w.account_id)""")
                .iterator().next().getLong(0);
        long total = sql("SELECT coalesce(sum(amount), 0)::bigint FROM ledger_entries").iterator().next().getLong(0);
        // every charge is exactly the usage rows that name it, and every priced usage row names a charge
        long unreconciled = sql("""
                SELECT count(*) FROM ledger_transactions t
                WHERE t.kind = 'charge'
                  AND t.amount <> (SELECT coalesce(sum(g.cost), 0) FROM generations g WHERE g.charge_txn_id = t.id)""")
                .iterator().next().getLong(0);
        long uncollected = sql("SELECT count(*) FROM generations WHERE cost > 0 AND charge_txn_id IS NULL")
                .iterator().next().getLong(0);
        if (unbalanced != 0 || drifted != 0 || total != 0 || unreconciled != 0 || uncollected != 0) {
            throw new AssertionError("ledger does not balance: " + unbalanced + " unbalanced transactions, " + drifted
                    + " wallets differ from their entries, global sum " + total + ", " + unreconciled
                    + " charges differ from their usage rows, " + uncollected + " priced usage rows without a charge");
        }
    }
}
