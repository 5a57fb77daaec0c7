package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.storage.Database;
import co.corouter.testkit.s3.S3MockServer;
import co.corouter.testkit.upstream.Behaviour;
import co.corouter.testkit.upstream.FakeOpenAiUpstream;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The privacy policy's §1 (issue 12, deliverable 6), proved from outside a real node: request and response content
 * goes nowhere by default. Two accounts send prompts carrying a canary of their own (in the text, in a system message
 * with a non-Latin-1 character, and as a JSON key) and get answers carrying another: whole, streamed, a stream the
 * client hangs up on, a request the node refuses, an upstream error that echoes the prompt, a long prompt counted on
 * a worker thread, Anthropic's count_tokens. Account A has no audit; account B opted in to its own S3 bucket, and its
 * requests come first, so the node's last requests before the heap dump are A's. Afterwards A's canaries are in none
 * of: PostgreSQL (pg_dump, every row of every table and sequence, the data files and WAL on disk), the node's log (at
 * DEBUG), its files (the audit spool among them, also while the bucket is down and B's records wait there), the
 * console's live usage feed, the usage and operator APIs, the bucket, and a heap dump of the node taken after the
 * requests; B's canaries are in its bucket and, in plaintext, in none of those either. A canary found in the heap is
 * explained by {@link HeapDumpHolders}: the chain of objects that holds it.
 *
 * <p>The node runs in a JVM of its own ({@link NodeProcess}): this JVM holds the canaries, so its heap proves nothing.
 * Its database is an embedded PostgreSQL of this test; the upstream (a fake OpenAI) and the bucket (S3Mock) are the
 * test's. Every scan asserts it had something to scan, and the scanner is shown to find each canary in each encoding;
 * the bucket and a string the node holds (B's bucket prefix, from a request body) are positive controls of the real
 * sources. What it does not claim: the process's raw memory is clean. Read through {@code /proc/<pid>/mem} it
 * still holds both accounts' canaries, in heap space freed but not yet reused and in anonymous native memory (where
 * Netty's pooled direct buffers live); a core dump or swap would too. The figures are printed and written to
 * {@code target/canary-logs/summary.txt}, the node's log to {@code target/canary-logs/canary-node.log}.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class CanaryTest {

    static final String ADMIN_TOKEN = "privacy-admin-token-0123456789";
    static final String UPSTREAM_KEY = "sk-upstream-privacy";
    static final String MODEL = "fake/model";
    static final String BUCKET = "customer-audit";
    static final String PASSWORD = "correct horse battery staple";
    static final Path LOGS = Path.of("target", "canary-logs");
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    static Path temp;

    static Database database;
    static Vertx vertx;
    static Pool pool;
    static FakeOpenAiUpstream upstream;
    static S3MockServer s3;
    static NodeProcess.Launcher nodes;
    static NodeProcess node;
    static Path dataDir;
    static Path workDir;

    @BeforeAll
    static void start() throws Exception {
        CompletableFuture<S3MockServer> s3Starting = CompletableFuture.supplyAsync(
                () -> S3MockServer.builder().bucket(BUCKET).start());
        database = Database.embedded(temp.resolve("pg"));
        vertx = Vertx.vertx();
        pool = database.pool(vertx, 2);
        upstream = CorouterNode.await(new FakeOpenAiUpstream().requireApiKey(UPSTREAM_KEY).recordRequests(false)
                .start(vertx));
        dataDir = temp.resolve("node-data");
        workDir = temp.resolve("node-work");
        Path conf = writeConf(temp.resolve("conf"));
        nodes = new NodeProcess.Launcher(conf, LOGS, workDir)
                .jvmOption("-Dlogback.configurationFile=" + productionLogback())
                .env("COROUTER_LOG_LEVEL", "DEBUG")
                .env("COROUTER_ADMIN_TOKEN", ADMIN_TOKEN)
                .env("FAKE_UPSTREAM_KEY", UPSTREAM_KEY)
                .env("COROUTER_AUDIT_KEK", CorouterNode.AUDIT_KEK);
        node = nodes.launch("canary-node");
        node.awaitReady();
        s3 = s3Starting.get(120, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        if (nodes != null) {
            nodes.close();
        }
        if (s3 != null) {
            s3.close();
        }
        if (pool != null) {
            CorouterNode.await(pool.close());
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        if (database != null) {
            database.close();
        }
    }

    /** The logback configuration a deployment runs with (its root level from {@code COROUTER_LOG_LEVEL}). */
    static Path productionLogback() throws Exception {
        URL config = CanaryTest.class.getResource("/logback.xml");
        assertThat(config).as("the main logback.xml on the test classpath").isNotNull();
        assertThat(config.getProtocol()).isEqualTo("file");
        return Path.of(config.toURI());
    }

    /** corouter.yaml and models.yaml (JSON is YAML); the plugins dir holds the openai and audit-s3 plugins only. */
    static Path writeConf(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path plugins = Files.createDirectories(temp.resolve("plugins"));
        Path built = Path.of(System.getProperty("corouter.test.plugins", "target/test-plugins"));
        for (String jar : List.of("corouter-provider-openai.jar", "corouter-audit-s3.jar")) {
            Files.copy(built.resolve(jar), plugins.resolve(jar));
        }
        var connect = database.connectOptions();
        JsonObject config = new JsonObject()
                .put("node", new JsonObject().put("data_dir", dataDir.toString()))
                .put("http", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("event_loops", 2)
                        .put("upstream_timeout_ms", 10_000))
                .put("database", new JsonObject().put("url", "postgresql://" + connect.getUser() + "@"
                        + connect.getHost() + ":" + connect.getPort() + "/" + connect.getDatabase())
                        .put("pool_size", 4))
                .put("admin", new JsonObject().put("token_env", "COROUTER_ADMIN_TOKEN"))
                .put("plugins", new JsonObject().put("dir", plugins.toAbsolutePath().toString()))
                .put("metering", new JsonObject().put("batch_size", 50).put("flush_interval_ms", 20))
                .put("routing", new JsonObject().put("retries", 0))
                .put("audit", new JsonObject().put("flush_interval_ms", 50).put("retry_max_ms", 400)
                        .put("guard", new JsonObject().put("allow_http", true)
                                .put("allow_list", new JsonArray().add("127.0.0.1/32"))))
                .put("providers", new JsonObject().put("fake", new JsonObject().put("type", "openai")
                        .put("config", new JsonObject().put("base_url", upstream.baseUrl())
                                .put("api_key_env", "FAKE_UPSTREAM_KEY"))));
        Files.writeString(dir.resolve("corouter.yaml"), config.encodePrettily());
        JsonObject models = new JsonObject().put("models", new JsonArray().add(new JsonObject().put("id", MODEL)
                .put("name", "Fake upstream model").put("provider", "fake").put("upstream_model", "gpt-fake")
                .put("context_length", 8192).put("max_output_tokens", 256)
                .put("pricing", new JsonObject().put("prompt_per_million", "2.00")
                        .put("completion_per_million", "10.00"))
                .put("supported_parameters", new JsonArray().add("max_tokens").add("stream").add("temperature"))));
        Files.writeString(dir.resolve("models.yaml"), models.encodePrettily());
        return dir;
    }

    /** "canary-" and 24 random letters and digits. */
    static String canary() {
        return "canary-" + random(24);
    }

    static String random(int length) {
        String alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < length; i++) {
            text.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return text.toString();
    }

    /**
     * A signed-in console user's account and its key, with canaries of its own: one in what it asks, one in what it
     * is answered. {@code requests}: the generation ids of its requests that carried them; {@code metered}: those
     * that reached the upstream, so have a usage row.
     */
    record Customer(String name, String who, ConsoleClient console, long accountId, String key, String asked,
            String answered, List<String> requests, List<String> metered) {
    }

    /** {@code who}: how the report names the customer. */
    static Customer signUp(String name, String who) {
        String email = name + "-" + System.nanoTime() + "@example.com";
        ConsoleClient console = new ConsoleClient(() -> node.port, CanaryTest::send);
        expect(201, console.signUp(email, PASSWORD));
        long accountId = sql("UPDATE users SET email_verified_at = now() WHERE email_normalized = $1 "
                + "RETURNING account_id", email).iterator().next().getLong(0);
        expect(200, console.login(email, PASSWORD));
        admin("POST", "/admin/accounts/" + accountId + "/credits",
                new JsonObject().put("amount_usd", "5.00").put("reason", "test credit"), 201);
        String key = new JsonObject(expect(201, console.post("/api/keys", new JsonObject().put("name", name))).body())
                .getString("key");
        return new Customer(name, who, console, accountId, key, canary(), canary(), new ArrayList<>(),
                new ArrayList<>());
    }

    /** Opts the customer in to audit into {@link #BUCKET} under {@code prefix}, through the console. */
    static void optIn(Customer customer, String prefix) {
        JsonObject body = new JsonObject().put("sink", "s3").put("config", new JsonObject().put("bucket", BUCKET)
                .put("prefix", prefix).put("region", "us-east-1").put("endpoint", s3.endpoint())
                .put("path_style", true).put("access_key_id", "corouter-test")
                .put("secret_access_key", "s3-secret-" + random(12)));
        JsonObject saved = new JsonObject(expect(200, customer.console().send("PUT", "/api/audit", body)).body());
        assertThat(saved.getBoolean("enabled")).isTrue();
    }

    /**
     * A chat request with the customer's canary in its system message (and a non-Latin-1 ✓), in its question, and as
     * a key (JSON parsers cache the names they read).
     */
    static JsonObject chat(Customer customer, boolean stream) {
        return chat(customer, stream, "What is " + customer.asked() + "?");
    }

    static JsonObject chat(Customer customer, boolean stream, String question) {
        return new JsonObject().put("model", MODEL).put("stream", stream).put("max_tokens", 64)
                .put("metadata", new JsonObject().put(customer.asked(), "tag"))
                .put("messages", new JsonArray()
                        .add(new JsonObject().put("role", "system")
                                .put("content", "Keep " + customer.asked() + " to yourself ✓"))
                        .add(new JsonObject().put("role", "user").put("content", question)));
    }

    /** A question of about 20 KB: the node counts its tokens on a worker thread rather than its event loop. */
    static String longQuestion(Customer customer) {
        return "What is " + customer.asked() + "? " + "Tell me everything about it. ".repeat(700);
    }

    /** The upstream answers with the customer's answer canary whole in each of {@code chunks} stream deltas. */
    static Behaviour answering(Customer customer, int chunks) {
        return Behaviour.normal().content((" ✓ " + customer.answered()).repeat(chunks)).chunks(chunks)
                .completionTokens(3 * chunks);
    }

    static String whole(Customer customer) {
        upstream.behave(answering(customer, 4));
        HttpResponse<String> response = expect(200, completion(customer.key(), chat(customer, false).encode()));
        assertThat(response.body()).as("the answer the client got").contains(customer.answered());
        return metered(customer, response);
    }

    static String streamed(Customer customer) {
        upstream.behave(answering(customer, 4));
        HttpResponse<String> response = expect(200, completion(customer.key(), chat(customer, true).encode()));
        assertThat(response.body()).as("the stream the client got").contains(customer.answered())
                .endsWith("data: [DONE]\n\n");
        return metered(customer, response);
    }

    /** A stream the client resets once it has read an event carrying the answer's canary. */
    static String hungUp(Customer customer) throws IOException {
        upstream.behave(answering(customer, 40).intervalMs(50));
        byte[] body = chat(customer, true).encode().getBytes(StandardCharsets.UTF_8);
        String id;
        try (RawHttp client = new RawHttp(node.port)) {
            client.send(RawHttp.postHead("/v1/chat/completions", customer.key(), body.length)).send(body);
            RawHttp.StreamHead head = client.readStreamHead();
            assertThat(head.status()).isEqualTo(200);
            id = head.header("X-Generation-Id");
            String event;
            do {
                event = client.readEvent();
            } while (event != null && !event.contains(customer.answered()));
            assertThat(event).as("an event carrying the answer's canary before the hang-up").isNotNull();
            client.reset();
        }
        customer.requests().add(id);
        customer.metered().add(id);
        return id;
    }

    /** A request the node refuses (its temperature is the canary): no upstream call, no usage row. */
    static String refused(Customer customer) {
        HttpResponse<String> response = expect(400, completion(customer.key(),
                chat(customer, false).put("temperature", customer.asked()).encode()));
        String id = response.headers().firstValue("X-Generation-Id").orElseThrow();
        customer.requests().add(id);
        return id;
    }

    /** An upstream that refuses the request with a message quoting the prompt, as real providers do. */
    static String echoedByUpstream(Customer customer) {
        upstream.behave(Behaviour.error(400)
                .errorMessage("Invalid 'messages[1].content': '" + customer.asked() + "' is not allowed"));
        HttpResponse<String> response = completion(customer.key(), chat(customer, false).encode());
        assertThat(response.statusCode()).as(response.body()).isBetween(400, 599);
        return metered(customer, response);
    }

    /** A long prompt whose usage the upstream does not report: the node counts it, on a worker thread. */
    static String estimated(Customer customer) {
        upstream.behave(answering(customer, 4).omitUsage());
        HttpResponse<String> response = expect(200, completion(customer.key(),
                chat(customer, false, longQuestion(customer)).encode()));
        assertThat(response.body()).contains(customer.answered());
        return metered(customer, response);
    }

    /** Anthropic's count_tokens on a long body (counted on a worker thread); nothing is metered or recorded. */
    static void countTokens(Customer customer) {
        JsonObject body = new JsonObject().put("model", MODEL).put("max_tokens", 64)
                .put("metadata", new JsonObject().put(customer.asked(), "tag"))
                .put("system", "Keep " + customer.asked() + " to yourself ✓")
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user")
                        .put("content", longQuestion(customer))));
        HttpResponse<String> response = expect(200, send(HttpRequest.newBuilder(URI.create(node.baseUrl()
                + "/v1/messages/count_tokens")).header("x-api-key", customer.key())
                .header("anthropic-version", "2023-06-01").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.encode()))));
        assertThat(new JsonObject(response.body()).getInteger("input_tokens")).isGreaterThan(1000);
    }

    static String metered(Customer customer, HttpResponse<String> response) {
        String id = response.headers().firstValue("X-Generation-Id").orElseThrow();
        customer.requests().add(id);
        customer.metered().add(id);
        return id;
    }

    @Test
    void theContentOfAnAccountWithoutAuditIsNowhereAndOfAnOptedInAccountOnlyInItsOwnBucket() throws Exception {
        long started = System.nanoTime();
        Customer a = signUp("plain", "A (no audit)");
        Customer b = signUp("audited", "B (audit)");
        // B's bucket prefix: the node keeps it in memory, having parsed it from a request body, as it would a prompt
        String kept = "kept-" + random(24) + "/";
        optIn(b, kept);
        List<CanaryScanner> scans = new ArrayList<>();
        CanaryScanner spool;
        try (Feed feed = new Feed()) {
            feed.subscribe(a);
            feed.subscribe(b);
            // B first: the requests the node served last, before the heap dump, are A's
            for (Customer customer : List.of(b, a)) {
                whole(customer);
                streamed(customer);
                hungUp(customer);
                refused(customer);
                echoedByUpstream(customer);
                estimated(customer);
                countTokens(customer);
            }
            NodeProcess.awaitCondition("B's records so far in its bucket", Duration.ofSeconds(30),
                    () -> bucket(kept).keySet().containsAll(b.requests()));

            // the bucket down: B's records wait in the spool, sealed
            s3.stopForOutage();
            CompletableFuture<S3MockServer> back;
            try {
                int before = b.requests().size();
                for (Customer customer : List.of(b, a)) {
                    whole(customer);
                    streamed(customer);
                }
                int waiting = b.requests().size() - before;
                NodeProcess.awaitCondition("B's records of the outage in the spool", Duration.ofSeconds(15),
                        () -> auditStatus(b).getLong("spooled_records", 0L) == waiting);
                spool = scanSpool(a, b);
            } finally {
                back = CompletableFuture.supplyAsync(s3::restart);
            }
            NodeProcess.awaitCondition("the usage row of every metered request", Duration.ofSeconds(30),
                    () -> usageRows(a, b) == a.metered().size() + b.metered().size());
            NodeProcess.awaitCondition("the feed's message about every metered request", Duration.ofSeconds(30),
                    () -> Stream.concat(a.metered().stream(), b.metered().stream()).allMatch(feed::mentions));
            back.get(120, TimeUnit.SECONDS);
            NodeProcess.awaitCondition("every record of B in its bucket", Duration.ofSeconds(30),
                    () -> bucket(kept).keySet().containsAll(b.requests()));
            NodeProcess.awaitCondition("B's spool drained", Duration.ofSeconds(15),
                    () -> auditStatus(b).getLong("spooled_batches", -1L) == 0);
            scans.add(feed.scan(labels(a, b)));
        }
        long requestsDone = System.nanoTime();

        Map<String, String> canaries = labels(a, b);
        Map<String, String> withControl = new LinkedHashMap<>(canaries);
        withControl.put(kept, "B's bucket prefix (held by the node: the heap's control)");
        scans.add(usageApi(canaries, a, b));
        Path heapDump = heapDump();
        CanaryScanner heap = new CanaryScanner("heap dump of the node", withControl).scanFile(heapDump);
        scans.add(heap);
        // the rest once the node has stopped as a deployment stops: its last writes are in the log, files and tables
        node.stopGracefully();
        CorouterNode.await(pool.query("CHECKPOINT").execute()); // what the database holds, on disk
        Optional<Path> pgDump = pgDump();
        pgDump.ifPresent(dump -> scans.add(new CanaryScanner("pg_dump", canaries).scanFile(dump)));
        CanaryScanner tables = sqlDump(canaries);
        scans.add(tables);
        scans.add(new CanaryScanner("PostgreSQL data files and WAL", canaries).scanTree(temp.resolve("pg")));
        CanaryScanner log = new CanaryScanner("node log (DEBUG)", canaries).scanFile(node.log);
        scans.add(log);
        scans.add(new CanaryScanner("node data and working dirs", canaries).scanTree(dataDir).scanTree(workDir));
        scans.add(spool);
        CanaryScanner bucketOfB = new CanaryScanner("B's bucket (gunzipped)", canaries);
        bucket(kept).forEach((id, line) -> bucketOfB.scan(id, line));
        CanaryScanner wholeBucket = new CanaryScanner("the whole bucket, raw and gunzipped", canaries);
        s3.keys(BUCKET).forEach(key -> wholeBucket.scan(key, s3.object(BUCKET, key).orElseThrow().body()));
        CanaryScanner control = scannerControl(canaries);
        long scansDone = System.nanoTime();

        report(scans, bucketOfB, wholeBucket, control, heapDump, started, requestsDone, scansDone);
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(control.found().keySet()).as("the scanner finds every canary it looks for")
                .containsAll(canaries.values());
        soft.assertThat(control.found().values().stream().mapToInt(Set::size).sum())
                .as("... in each of its %d encodings", CanaryScanner.ENCODINGS.size())
                .isEqualTo(canaries.size() * CanaryScanner.ENCODINGS.size());
        soft.assertThat(bucketOfB.found().keySet()).as("B's canaries are in its bucket")
                .contains(label(b, true), label(b, false));
        soft.assertThat(wholeBucket.found().keySet()).as("A's canaries are not in the bucket")
                .doesNotContain(label(a, true), label(a, false));
        soft.assertThat(heap.found().keySet()).as("the heap dump shows what the node holds")
                .contains(withControl.get(kept));
        soft.assertThat(Files.size(heapDump)).as("the heap dump's size").isGreaterThan(16L << 20);
        soft.assertThat(tables.items()).as("rows dumped").isGreaterThan(100);
        soft.assertThat(Files.readString(node.log)).as("the node's log").contains("listening on")
                .contains(" DEBUG ");
        soft.assertThat(spool.items()).as("spooled files of B during the outage").isPositive();
        for (CanaryScanner scan : scans) {
            Map<String, Set<String>> found = new LinkedHashMap<>(scan.found());
            found.remove(withControl.get(kept));
            soft.assertThat(scan.bytes()).as("bytes scanned in %s", scan.source()).isPositive();
            soft.assertThat(found).as("canaries found in %s%s", scan.source(), scan == heap
                    ? holders(heapDump, canaries, found.keySet()) : "").isEmpty();
        }
        soft.assertAll();
    }

    /** Who holds each found canary in the heap dump, for the failure message. */
    static String holders(Path heapDump, Map<String, String> canaries, Set<String> found) {
        Map<String, byte[]> patterns = new LinkedHashMap<>();
        canaries.forEach((canary, label) -> {
            if (found.contains(label)) {
                for (Charset encoding : CanaryScanner.ENCODINGS) {
                    patterns.put(label + " in " + encoding.name(), canary.getBytes(encoding));
                }
            }
        });
        if (patterns.isEmpty()) {
            return "";
        }
        StringBuilder text = new StringBuilder("; held by:");
        try {
            HeapDumpHolders.of(heapDump, patterns, 14, 6).forEach((pattern, chains) -> {
                text.append("\n  ").append(pattern).append(':');
                chains.forEach(chain -> text.append("\n    ").append(chain));
            });
        } catch (RuntimeException unreadable) { // the explanation must not hide the failure it explains
            text.append(" (the heap dump could not be read: ").append(unreadable).append(')');
        }
        return text.toString();
    }

    /** The labels of both customers' canaries, by canary. */
    static Map<String, String> labels(Customer a, Customer b) {
        Map<String, String> labels = new LinkedHashMap<>();
        for (Customer customer : List.of(a, b)) {
            labels.put(customer.asked(), label(customer, true));
            labels.put(customer.answered(), label(customer, false));
        }
        return labels;
    }

    static String label(Customer customer, boolean asked) {
        return customer.who() + (asked ? ": prompt canary" : ": answer canary");
    }

    /** The spool while the bucket is down: B's batches are there, A has none, and neither's canary is readable. */
    static CanaryScanner scanSpool(Customer a, Customer b) throws IOException {
        Path root = dataDir.resolve("audit-spool");
        assertThat(root.resolve(Long.toString(a.accountId()))).as("A's spool").doesNotExist();
        List<Path> files;
        try (Stream<Path> listed = Files.list(root.resolve(Long.toString(b.accountId())))) {
            files = listed.filter(path -> path.toString().endsWith(".spool")).toList();
        }
        assertThat(files).as("B's spooled batches").isNotEmpty();
        return new CanaryScanner("audit spool during the outage", labels(a, b)).scanTree(root);
    }

    /** Every record under {@code prefix} in the bucket, a JSON line by generation id. */
    static Map<String, String> bucket(String prefix) {
        Map<String, String> records = new LinkedHashMap<>();
        for (String key : s3.keys(BUCKET)) {
            if (!key.startsWith(prefix) || key.contains("corouter-probe-")) {
                continue;
            }
            byte[] gz = s3.object(BUCKET, key).orElseThrow().body();
            String lines;
            try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
                lines = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            for (String line : lines.split("\n")) {
                if (!line.isEmpty()) {
                    records.put(new JsonObject(line).getString("generation_id"), line);
                }
            }
        }
        return records;
    }

    static JsonObject auditStatus(Customer customer) {
        return new JsonObject(admin("GET", "/admin/accounts/" + customer.accountId() + "/audit", null, 200))
                .getJsonObject("status");
    }

    static long usageRows(Customer a, Customer b) {
        List<String> ids = new ArrayList<>(a.metered());
        ids.addAll(b.metered());
        return sql("SELECT count(*) FROM generations WHERE id = ANY($1::text[])", (Object) ids.toArray(String[]::new))
                .iterator().next().getLong(0);
    }

    /** {@code jcmd <pid> GC.heap_dump}: live objects only, after a full collection. */
    static Path heapDump() throws Exception {
        Path dump = temp.resolve("node.hprof");
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        assertThat(jcmd).as("jcmd of the JDK running the tests").isExecutable();
        Process process = new ProcessBuilder(jcmd.toString(), Long.toString(node.pid()), "GC.heap_dump",
                dump.toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("jcmd ended").isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        assertThat(dump).as(output).isRegularFile();
        return dump;
    }

    /** pg_dump of the node's database, when a pg_dump of the server's major version is installed. */
    static Optional<Path> pgDump() throws Exception {
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            candidates.add(Path.of(dir, "pg_dump"));
        }
        candidates.add(Path.of("/usr/lib/postgresql/15/bin/pg_dump"));
        Optional<Path> binary = candidates.stream().filter(Files::isExecutable).findFirst();
        if (binary.isEmpty()) {
            System.out.println("pg_dump: none installed; the SQL dump of every table stands alone");
            return Optional.empty();
        }
        var connect = database.connectOptions();
        Path dump = temp.resolve("pg_dump.sql");
        Process process = new ProcessBuilder(binary.get().toString(), "--no-password", "-h", connect.getHost(),
                "-p", Integer.toString(connect.getPort()), "-U", connect.getUser(), "-f", dump.toString(),
                connect.getDatabase()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("pg_dump ended").isTrue();
        assertThat(process.exitValue()).as("pg_dump: %s", output).isZero();
        assertThat(Files.size(dump)).as("pg_dump's output").isGreaterThan(10_000);
        return Optional.of(dump);
    }

    /** Every row of every table of every schema (system catalogs included), as text, and every sequence. */
    static CanaryScanner sqlDump(Map<String, String> canaries) {
        CanaryScanner scan = new CanaryScanner("SQL dump (every table, every schema)", canaries);
        List<String> tables = new ArrayList<>();
        sql("SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables "
                + "WHERE table_type = 'BASE TABLE'").forEach(row -> tables.add(row.getString(0)));
        assertThat(tables).contains("public.generations", "public.audit_configs", "pg_catalog.pg_statistic");
        for (String table : tables) {
            for (Row row : sql("SELECT t::text FROM " + table + " t")) {
                String text = row.getString(0);
                scan.scan(table, text == null ? "" : text);
            }
        }
        List<String> sequences = new ArrayList<>();
        sql("SELECT quote_ident(sequence_schema) || '.' || quote_ident(sequence_name) "
                + "FROM information_schema.sequences")
                .forEach(row -> sequences.add(row.getString(0)));
        for (String sequence : sequences) {
            sql("SELECT last_value::text FROM " + sequence).forEach(row -> scan.scan(sequence, row.getString(0)));
        }
        return scan;
    }

    /** What the console, the API and the operator (its API, the metrics) show of both accounts' usage. */
    static CanaryScanner usageApi(Map<String, String> canaries, Customer... customers) {
        CanaryScanner scan = new CanaryScanner("usage API (console, /v1, /admin)", canaries);
        for (Customer customer : customers) {
            for (String path : List.of("/api/generations?limit=200", "/api/activity", "/api/dashboard",
                    "/api/privacy/export", "/api/audit")) {
                scan.scan(path, expect(200, customer.console().get(path)).body());
            }
            for (String id : customer.metered()) {
                scan.scan("/api/generations/" + id, expect(200, customer.console().get("/api/generations/" + id))
                        .body());
                scan.scan("/v1/generation?id=" + id, expect(200, send(HttpRequest.newBuilder(URI.create(
                        node.baseUrl() + "/v1/generation?id=" + id)).header("Authorization", "Bearer "
                        + customer.key()))).body());
            }
            for (String path : List.of("/generations", "/audit", "")) {
                scan.scan("/admin/accounts/:id" + path, admin("GET", "/admin/accounts/" + customer.accountId() + path,
                        null, 200));
            }
        }
        scan.scan("/metrics", admin("GET", "/metrics", null, 200));
        return scan;
    }

    /** The scanner on a file holding each canary in each encoding, astride its chunk boundaries too. */
    static CanaryScanner scannerControl(Map<String, String> canaries) throws IOException {
        Path file = temp.resolve("control.bin");
        try (var out = Files.newOutputStream(file)) {
            byte[] noise = new byte[CanaryScanner.CHUNK - 11]; // the first canary straddles the first chunk's end
            RANDOM.nextBytes(noise);
            for (String canary : canaries.keySet()) {
                for (Charset encoding : CanaryScanner.ENCODINGS) {
                    out.write(noise);
                    out.write(canary.getBytes(encoding));
                    noise = new byte[100];
                    RANDOM.nextBytes(noise);
                }
            }
        }
        return new CanaryScanner("scanner control", canaries).scanFile(file);
    }

    static void report(List<CanaryScanner> scans, CanaryScanner bucketOfB, CanaryScanner wholeBucket,
            CanaryScanner control, Path heapDump, long started, long requestsDone, long scansDone) throws IOException {
        StringBuilder text = new StringBuilder();
        text.append(String.format("canary test: requests and delivery %.1f s, scans %.1f s; heap dump %.1f MB%n",
                (requestsDone - started) / 1e9, (scansDone - requestsDone) / 1e9, Files.size(heapDump) / 1e6));
        for (CanaryScanner scan : scans) {
            text.append(scan).append('\n');
        }
        text.append(bucketOfB).append('\n').append(wholeBucket).append('\n').append(control).append('\n');
        for (CanaryScanner scan : scans) {
            scan.found().forEach((label, where) -> text.append("  ").append(scan.source()).append(": ").append(label)
                    .append(" in ").append(where.stream().limit(12).toList()).append('\n'));
        }
        System.out.print(text);
        Files.createDirectories(LOGS);
        Files.writeString(LOGS.resolve("summary.txt"), text);
    }

    /** The console's live usage feed through the SockJS bridge, as a browser gets it; every frame kept. */
    static final class Feed implements AutoCloseable {
        final WebSocketClient client = vertx.createWebSocketClient();
        final WebSocket socket;
        final ConcurrentLinkedQueue<String> frames = new ConcurrentLinkedQueue<>();

        Feed() {
            socket = CorouterNode.await(client.connect(node.port, "127.0.0.1", "/api/eventbus/websocket"));
            socket.handler(data -> frames.add(data.toString(StandardCharsets.UTF_8)));
        }

        /**
         * Registers to the customer's feed with a bridge token. A registration is not acknowledged, so the customer
         * makes plain completions until one of them arrives.
         */
        void subscribe(Customer customer) {
            JsonObject grant = new JsonObject(expect(200, customer.console().get("/api/bridge-token")).body());
            CorouterNode.await(socket.writeTextMessage(new JsonObject().put("type", "register")
                    .put("address", grant.getString("address"))
                    .put("headers", new JsonObject().put("token", grant.getString("token"))).encode()));
            upstream.behave(Behaviour.normal());
            for (int attempt = 0; attempt < 10; attempt++) {
                String id = expect(200, completion(customer.key(), new JsonObject().put("model", MODEL)
                        .put("max_tokens", 8).put("messages", new JsonArray().add(new JsonObject()
                                .put("role", "user").put("content", "hello"))).encode()))
                        .headers().firstValue("X-Generation-Id").orElseThrow();
                if (NodeProcess.within(Duration.ofSeconds(3), () -> mentions(id))) {
                    return;
                }
            }
            throw new AssertionError("no message on " + grant.getString("address") + " after 10 completions: "
                    + frames);
        }

        boolean mentions(String generationId) {
            return frames.stream().anyMatch(frame -> frame.contains(generationId));
        }

        CanaryScanner scan(Map<String, String> canaries) {
            CanaryScanner scan = new CanaryScanner("console usage feed (SockJS frames)", canaries);
            frames.forEach(frame -> scan.scan("a frame", frame));
            return scan;
        }

        @Override
        public void close() {
            CorouterNode.await(socket.close());
            CorouterNode.await(client.close());
        }
    }

    static HttpResponse<String> completion(String key, String body) {
        return send(HttpRequest.newBuilder(URI.create(node.baseUrl() + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    static String admin(String method, String path, JsonObject body, int status) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(node.baseUrl() + path))
                .header("Authorization", "Bearer " + ADMIN_TOKEN).header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body.encode())));
        return expect(status, response).body();
    }

    static HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static HttpResponse<String> expect(int status, HttpResponse<String> response) {
        assertThat(response.statusCode()).as("%s %s: %s", response.request().method(), response.request().uri(),
                response.body()).isEqualTo(status);
        return response;
    }

    static RowSet<Row> sql(String sql, Object... params) {
        return CorouterNode.await(pool.preparedQuery(sql).execute(Tuple.from(params)));
    }
}
