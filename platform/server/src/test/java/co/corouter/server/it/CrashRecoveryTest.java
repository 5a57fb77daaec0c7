package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.storage.Database;
import co.corouter.testkit.upstream.Behaviour;
import co.corouter.testkit.upstream.FakeOpenAiUpstream;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of a node under load, {@code -Dcrash.rounds} times (20 by default; {@code scripts/crash/run.sh} runs
 * 100; a failure names its seed, rerun it with {@code -Dcrash.seed}). Every node is a separate JVM ({@code java -cp
 * <the test classpath> co.corouter.server.Main --conf DIR}, so the test runs in the {@code test} phase, before the
 * shaded jar exists) on a PostgreSQL of the test's own (sweeping is global: other test classes' leases must not be in
 * the counts) and one fake OpenAI-compatible upstream in this JVM. A survivor node lives through the whole test; each
 * round a victim node serves concurrent streaming and whole completions of three accounts (one rich, one kept near
 * empty, one fresh), the survivor serves the same accounts, an idempotent grant races the crash, and the victim gets
 * SIGKILL after a random number of answers. The next victims boot (from a CDS archive a warm-up node wrote) while the
 * current one is under load. Node logs and the numbers of every round are in {@code target/crash-logs/}.
 *
 * <p><b>What a crash may lose, and what it may not</b> (read off the code: {@code RecordStage}, {@code UsageBacklog},
 * {@code MeteringVerticle}, {@code UsageRepository.settleBatch}, {@code LedgerRepository}). A request's usage row is
 * queued in memory before its client gets the answer; metering writes the queue in batches, each batch ONE transaction
 * holding the rows, their charge transactions (balanced entries, the wallet debited) and the node's lease rows cut by
 * what they charged. So a kill loses exactly the rows that were queued or in an uncommitted batch — answers the
 * client may hold in full, never charged: the operator's loss, never the customer's — and the credit reserved for
 * them stays in the dead node's lease rows. Those expire {@code billing.lease_ttl_seconds} after the node's last
 * heartbeat, and a live node's sweep deletes them and lowers {@code wallets.leased} by what they held, once; the
 * balance is untouched by it. A committed batch is never lost nor applied twice (nothing retries a dead node's
 * batch), and no charge exists without its rows.
 *
 * <p>Asserted in one snapshot after every crash, after recovery and after the last node's stop:
 * <ul>
 *   <li>every ledger transaction's entries sum to zero; each charge transaction equals the costs of the usage rows
 *       that name it, and every priced row names one (no charge doubled, none without its rows, no row uncharged);</li>
 *   <li>per account: Σ charges = Σ generations.cost; wallets.balance = Σ its customer entries = grants + top-ups −
 *       charges − refunds (claw-backs), never negative; wallets.leased = Σ its lease rows, within the balance;</li>
 * </ul>
 * after every crash: the grant that raced it (one idempotency key, sent to the victim, then again to the survivor)
 * is in the ledger exactly once, and the retry is a replay whenever the victim had answered 201; after recovery: no
 * lease row of a killed node is left, and after the survivor's graceful stop (SIGTERM) none at all, no credit leased;
 * at the end: no generation id was answered twice; every usage row belongs to the account that made the request, and
 * none to a refused one; every answer the survivor completed has its row at the cost its client was told, and so
 * does every completed answer of a victim whose row was written (the others are counted, as lost with the crash); no
 * node answered anything but 200 or 402, or logged an ERROR; there are no more usage rows than upstream calls.
 */
class CrashRecoveryTest {

    static final String ADMIN_TOKEN = "crash-admin-token-0123456789";
    static final String UPSTREAM_KEY = "sk-upstream-crash";
    static final int LEASE_TTL_SECONDS = 5;
    static final int VICTIM_WORKERS = 8;
    static final int SURVIVOR_WORKERS = 1;
    static final int MAX_KILL_AFTER_ANSWERS = 120;
    /** Victims booting while the current one is under load (a boot takes longer than a round's load). */
    static final int BOOTING_AHEAD = Integer.getInteger("crash.booting", 2);
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path temp;

    static Database database;
    static Vertx vertx;
    static Pool pool;
    static FakeOpenAiUpstream upstream;
    static Path conf;
    static Path logs;
    static NodeProcess.Launcher nodes;

    @BeforeAll
    static void startDatabaseAndUpstream() throws Exception {
        database = Database.embedded(temp.resolve("pg"));
        vertx = Vertx.vertx();
        pool = database.pool(vertx, 4);
        upstream = CorouterNode.await(new FakeOpenAiUpstream().requireApiKey(UPSTREAM_KEY).recordRequests(false)
                .behaveFor("gpt-fast", Behaviour.normal().chunks(3).completionTokens(6))
                .behaveFor("gpt-slow", Behaviour.normal().chunks(10).intervalMs(15).delayMs(20).completionTokens(12))
                .start(vertx));
        logs = Path.of("target", "crash-logs");
        if (Files.isDirectory(logs)) {
            try (var old = Files.list(logs)) {
                for (Path file : old.toList()) {
                    Files.delete(file);
                }
            }
        }
        Files.createDirectories(logs);
        conf = writeConf(temp.resolve("conf"));
        nodes = new NodeProcess.Launcher(conf, logs, temp.resolve("var"))
                .jvmOption("-Dlogback.configurationFile=" + conf.resolve("logback.xml"))
                .env("COROUTER_ADMIN_TOKEN", ADMIN_TOKEN).env("FAKE_UPSTREAM_KEY", UPSTREAM_KEY);
    }

    @AfterAll
    static void stopEverything() throws Exception {
        if (nodes != null) {
            nodes.close();
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

    /** corouter.yaml, models.yaml (JSON is YAML), a quiet logback config, a plugins dir with only the openai plugin. */
    static Path writeConf(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path plugins = Files.createDirectories(temp.resolve("plugins"));
        Path built = Path.of(System.getProperty("corouter.test.plugins", "target/test-plugins"));
        Files.copy(built.resolve("corouter-provider-openai.jar"), plugins.resolve("corouter-provider-openai.jar"));
        var connect = database.connectOptions();
        JsonObject config = new JsonObject()
                .put("node", new JsonObject().put("data_dir", temp.resolve("var").toString()))
                .put("http", new JsonObject().put("host", "127.0.0.1").put("port", 0).put("event_loops", 2)
                        .put("upstream_timeout_ms", 10_000))
                .put("database", new JsonObject().put("url", "postgresql://" + connect.getUser() + "@"
                        + connect.getHost() + ":" + connect.getPort() + "/" + connect.getDatabase())
                        .put("pool_size", 6))
                .put("admin", new JsonObject().put("token_env", "COROUTER_ADMIN_TOKEN"))
                .put("plugins", new JsonObject().put("dir", plugins.toAbsolutePath().toString()))
                // small slices: the load extends leases again and again, so kills land between and inside extensions
                .put("billing", new JsonObject().put("lease_slice_usd", "0.01")
                        .put("lease_ttl_seconds", LEASE_TTL_SECONDS))
                .put("metering", new JsonObject().put("batch_size", 50).put("flush_interval_ms", 50))
                .put("routing", new JsonObject().put("retries", 0).put("breaker_max_failures", 10_000)
                        .put("breaker_min_requests", 1_000_000))
                .put("providers", new JsonObject().put("fake", new JsonObject().put("type", "openai")
                        .put("config", new JsonObject().put("base_url", upstream.baseUrl())
                                .put("api_key_env", "FAKE_UPSTREAM_KEY"))));
        Files.writeString(dir.resolve("corouter.yaml"), config.encodePrettily());
        JsonObject models = new JsonObject().put("models", new JsonArray()
                .add(model("fake/fast", "gpt-fast", "2.00", "10.00"))
                .add(model("fake/slow", "gpt-slow", "3.00", "15.00")));
        Files.writeString(dir.resolve("models.yaml"), models.encodePrettily());
        Files.writeString(dir.resolve("logback.xml"), """
                <configuration>
                  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
                    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n</pattern></encoder>
                  </appender>
                  <logger name="io.netty" level="WARN"/>
                  <logger name="org.flywaydb" level="WARN"/>
                  <root level="INFO"><appender-ref ref="STDOUT"/></root>
                </configuration>
                """);
        return dir;
    }

    static JsonObject model(String id, String upstreamModel, String prompt, String completion) {
        return new JsonObject().put("id", id).put("name", id).put("provider", "fake")
                .put("upstream_model", upstreamModel).put("context_length", 8192).put("max_output_tokens", 256)
                .put("pricing", new JsonObject().put("prompt_per_million", prompt)
                        .put("completion_per_million", completion))
                .put("supported_parameters", new JsonArray().add("max_tokens").add("stream"));
    }

    @Test
    void killingANodeUnderLoadLosesNoWrittenUsageDoublesNoChargeAndItsLeasesComeBack() throws Exception {
        int rounds = Integer.getInteger("crash.rounds", 20);
        long seed = Long.getLong("crash.seed", new SecureRandom().nextLong());
        Random random = new Random(seed);
        long started = System.nanoTime();
        Report report = new Report(seed);

        // a first node records the classes a node loads (start-up and both kinds of request) in a CDS archive, which
        // it writes as it exits; the survivor and the first victim boot meanwhile, later victims from the archive
        Path dump = temp.resolve("corouter.jsa");
        NodeProcess warmUp = launch("warm-up", "-XX:ArchiveClassesAtExit=" + dump);
        NodeProcess survivor = launch("survivor");
        warmUp.awaitReady();
        Account rich = createAccount(warmUp, "rich", "50.00");
        // a limit the load never reaches, so the rich key's requests hold and settle key-limit holds across the kills
        expect(200, admin(warmUp, "PATCH", "/admin/keys/" + rich.keyId(), new JsonObject().put("limit_usd", "45.00")));
        Account poor = createAccount(warmUp, "poor", "0.03");
        List<Outcome> outcomes = new ArrayList<>();
        Random warm = new Random(seed);
        for (String model : List.of("fake/fast", "fake/slow")) {
            for (boolean stream : List.of(false, true)) {
                Outcome outcome = chat(-1, warmUp, model, stream, rich, warm);
                assertThat(outcome.complete).as("the warm-up node's answer (%s, stream %s)", model, stream).isTrue();
                outcomes.add(outcome);
            }
        }
        CompletableFuture<Process> warmUpExit = warmUp.terminate().whenComplete((exited, failure) -> {
            if (Files.isRegularFile(dump)) {
                archive = dump;
            }
        });
        ArrayDeque<NodeProcess> booting = new ArrayDeque<>();
        booting.add(launch("victim-0"));
        survivor.awaitReady();

        List<String> killed = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            long roundStarted = System.nanoTime();
            for (int ahead = round + booting.size(); ahead < Math.min(rounds, round + 1 + BOOTING_AHEAD); ahead++) {
                booting.add(launch("victim-" + ahead));
            }
            NodeProcess victim = booting.poll();
            victim.awaitReady();
            Account fresh = createAccount(survivor, "fresh-" + round, "0.02");
            Round result = crashRound(round, random, survivor, victim, List.of(rich, poor, fresh), poor);
            killed.add(victim.nodeId);
            outcomes.addAll(result.outcomes);
            Snapshot snapshot = snapshot();
            report.round(result, snapshot, killed, System.nanoTime() - roundStarted);
            snapshot.assertBalanced("after crash " + round + " (seed " + seed + ")");
        }

        // recovery: the survivor's sweep returns every lease of the dead nodes once their TTL has passed
        NodeProcess.awaitCondition("the leases of every killed node are swept",
                Duration.ofSeconds(4L * LEASE_TTL_SECONDS + 20), () -> leaseRows(killed) == 0);
        NodeProcess.awaitCondition("the key-limit leases of every killed node are swept",
                Duration.ofSeconds(4L * LEASE_TTL_SECONDS + 20), () -> keyLimitLeaseRows(killed) == 0);
        Snapshot recovered = snapshot();
        recovered.assertBalanced("after recovery (seed " + seed + ")");
        assertThat(recovered.leaseRowsByNode.keySet()).as("only the survivor leases credit")
                .allMatch(node -> node.equals(survivor.nodeId));

        assertThat(warmUpExit.get(60, TimeUnit.SECONDS).isAlive()).as("the warm-up node stopped on SIGTERM").isFalse();
        report.survivorCpu = survivor.process.toHandle().info().totalCpuDuration().orElse(Duration.ZERO);
        survivor.stopGracefully();
        Snapshot end = snapshot();
        end.assertBalanced("after the survivor's stop (seed " + seed + ")");
        assertThat(end.leaseRowsByNode).as("lease rows after the last node stopped").isEmpty();
        assertThat(end.accounts.values()).as("credit still leased after the last node stopped")
                .allMatch(book -> book.leased == 0);
        assertKeyLimitRecovered(rich, end);
        assertAnswersMatchRows(outcomes, end, report);
        assertThat(upstream.requestCount()).as("usage rows never outnumber the upstream calls")
                .isGreaterThanOrEqualTo(end.rows.size());
        report.finish(rounds, end, upstream.requestCount(), System.nanoTime() - started);
        assertThat(nodes.launched().stream().flatMap(node -> node.errors().stream()).toList())
                .as("errors the nodes logged").isEmpty();
    }

    /** CPU time of this JVM (the load, the fake upstream, the assertions), nanoseconds. */
    static long testCpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** The warm-up node's CDS archive once it is complete, else null. */
    static volatile Path archive;

    /** A node, booted from the warm-up node's CDS archive once there is one. */
    static NodeProcess launch(String name, String... jvmOptions) throws IOException {
        Path shared = archive;
        List<String> options = new ArrayList<>();
        if (shared != null) {
            options.add("-XX:SharedArchiveFile=" + shared);
        }
        options.addAll(List.of(jvmOptions));
        return nodes.launch(name, options.toArray(String[]::new));
    }

    /** Whether the node booted from the warm-up node's CDS archive. */
    static boolean fromArchive(NodeProcess node) {
        return node.command.stream().anyMatch(option -> option.startsWith("-XX:SharedArchiveFile="));
    }

    static boolean victim(NodeProcess node) {
        return node.name.startsWith("victim");
    }

    /**
     * One crash: load on the victim and the survivor, a grant racing the kill, SIGKILL after a random number of the
     * victim's answers (its workers stop starting requests first, so what is cut is what was in flight), then the
     * grant retried on the survivor while the survivor's load goes on.
     */
    Round crashRound(int round, Random random, NodeProcess survivor, NodeProcess victim, List<Account> accounts,
            Account toppedUp) throws Exception {
        int killAfter = 1 + random.nextInt(MAX_KILL_AFTER_ANSWERS);
        int grantAfter = 1 + random.nextInt(killAfter);
        String grantKey = "crash-top-up-" + round;
        JsonObject grant = new JsonObject().put("amount_usd", "0.01").put("reason", "top-up racing crash " + round)
                .put("idempotency_key", grantKey);
        ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
        AtomicInteger victimAnswers = new AtomicInteger();
        CompletableFuture<Void> killMoment = new CompletableFuture<>();
        CompletableFuture<HttpResponse<String>> grantOnVictim = new CompletableFuture<>();
        Load onVictim = new Load();
        Load onSurvivor = new Load();
        for (int w = 0; w < VICTIM_WORKERS; w++) {
            Random own = new Random(random.nextLong());
            onVictim.start("crash-victim-load-" + round + "-" + w, () -> {
                outcomes.add(chat(round, victim, pickModel(own), own.nextBoolean(), pick(own, accounts), own));
                int answers = victimAnswers.incrementAndGet();
                if (answers == grantAfter) {
                    admin(victim, "POST", "/admin/accounts/" + toppedUp.id + "/credits", grant)
                            .whenComplete((response, failure) -> {
                                if (failure != null) {
                                    grantOnVictim.completeExceptionally(failure);
                                } else {
                                    grantOnVictim.complete(response);
                                }
                            });
                }
                if (answers >= killAfter) {
                    killMoment.complete(null);
                }
            });
        }
        for (int w = 0; w < SURVIVOR_WORKERS; w++) {
            Random own = new Random(random.nextLong());
            onSurvivor.start("crash-survivor-load-" + round + "-" + w, () -> outcomes.add(
                    chat(round, survivor, pickModel(own), own.nextBoolean(), pick(own, accounts), own)));
        }
        Boolean victimGranted = null;
        boolean retryReplayed;
        long leasedByVictim;
        Duration victimCpu;
        try {
            killMoment.get(60, TimeUnit.SECONDS);
            onVictim.stopped = true;
            victimCpu = victim.process.toHandle().info().totalCpuDuration().orElse(Duration.ZERO);
            victim.kill();
            onVictim.join();
            leasedByVictim = sql("SELECT coalesce(sum(amount), 0)::bigint FROM leases WHERE node_id = $1",
                    victim.nodeId).iterator().next().getLong(0);

            // the grant's client does not know whether the victim committed it: it sends it again, elsewhere
            try {
                victimGranted = grantOnVictim.get(30, TimeUnit.SECONDS).statusCode() == 201;
            } catch (ExecutionException cut) {
                // killed before it answered: it may or may not have committed
            }
            HttpResponse<String> retried = admin(survivor, "POST", "/admin/accounts/" + toppedUp.id + "/credits",
                    grant).get(30, TimeUnit.SECONDS);
            assertThat(retried.statusCode()).as("the grant retried on the survivor").isEqualTo(201);
            retryReplayed = new JsonObject(retried.body()).getBoolean("replayed");
            if (Boolean.TRUE.equals(victimGranted)) {
                assertThat(retryReplayed).as("the retry of a grant the victim committed is a replay").isTrue();
            }
        } finally {
            onVictim.stopped = true;
            onSurvivor.stopped = true;
            victim.kill();
            onVictim.join();
            onSurvivor.join();
        }
        List<Row> grants = rows(sql("SELECT amount FROM ledger_transactions WHERE idempotency_key = $1", grantKey));
        assertThat(grants).as("ledger transactions of the grant that raced crash %d", round).hasSize(1);
        assertThat(grants.get(0).getLong(0)).isEqualTo(10_000_000L);
        return new Round(round, victim, killAfter, List.copyOf(outcomes), leasedByVictim, victimGranted,
                retryReplayed, victimCpu);
    }

    static String pickModel(Random random) {
        return random.nextBoolean() ? "fake/fast" : "fake/slow";
    }

    static Account pick(Random random, List<Account> accounts) {
        int roll = random.nextInt(10);
        return accounts.get(roll < 5 ? 0 : roll < 8 ? 1 : 2);
    }

    /** One chat completion; what the client saw of it. Never throws: a dead node is an outcome. */
    static Outcome chat(int round, NodeProcess node, String model, boolean stream, Account account, Random random) {
        boolean onVictim = victim(node);
        JsonObject body = new JsonObject().put("model", model).put("stream", stream).put("max_tokens",
                16 + random.nextInt(49)).put("messages", new JsonArray().add(new JsonObject().put("role", "user")
                .put("content", "crash round " + round)));
        HttpRequest request = HttpRequest.newBuilder(URI.create(node.baseUrl() + "/v1/chat/completions"))
                .header("Authorization", "Bearer " + account.key).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body.encode())).build();
        String[] generationId = new String[1];
        int[] status = {-1};
        try {
            HttpResponse<String> response = HTTP.send(request, info -> {
                status[0] = info.statusCode();
                generationId[0] = info.headers().firstValue("X-Generation-Id").orElse(null);
                return HttpResponse.BodySubscribers.ofString(StandardCharsets.UTF_8);
            });
            long cost = response.statusCode() == 200 ? billedCost(response.body(), stream) : -1;
            return new Outcome(round, onVictim, account.id, generationId[0], response.statusCode(), cost >= 0, cost,
                    null);
        } catch (IOException e) {
            return new Outcome(round, onVictim, account.id, generationId[0], status[0], false, -1,
                    e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(round, onVictim, account.id, generationId[0], status[0], false, -1, "interrupted");
        }
    }

    /** The cost a complete answer reports (nano-USD), or -1 when the answer is incomplete or an error. */
    static long billedCost(String body, boolean stream) {
        JsonObject usage = null;
        if (!stream) {
            usage = new JsonObject(body).getJsonObject("usage");
        } else {
            boolean done = false;
            for (String line : body.split("\n")) {
                if (!line.startsWith("data: ")) {
                    continue;
                }
                String data = line.substring(6).trim();
                if (data.equals("[DONE]")) {
                    done = true;
                } else {
                    JsonObject chunk = new JsonObject(data);
                    if (chunk.containsKey("error")) {
                        return -1;
                    }
                    if (chunk.getJsonObject("usage") != null) {
                        usage = chunk.getJsonObject("usage");
                    }
                }
            }
            if (!done) {
                return -1;
            }
        }
        if (usage == null || usage.getValue("cost") == null) {
            return -1;
        }
        return new BigDecimal(usage.getValue("cost").toString()).movePointRight(9)
                .setScale(0, RoundingMode.UNNECESSARY).longValueExact();
    }

    /** What clients were told against what the database holds, once everything has settled. */
    static void assertAnswersMatchRows(List<Outcome> outcomes, Snapshot end, Report report) {
        Set<String> seen = new HashSet<>();
        for (Outcome outcome : outcomes) {
            if (outcome.generationId == null) {
                continue;
            }
            assertThat(seen.add(outcome.generationId)).as("generation id %s answered twice", outcome.generationId)
                    .isTrue();
            GenerationRow row = end.rows.get(outcome.generationId);
            if (row != null) {
                assertThat(row.accountId).as("account of the usage row of %s", outcome.generationId)
                        .isEqualTo(outcome.accountId);
            }
            if (outcome.complete) {
                if (!outcome.onVictim || row != null) {
                    assertThat(row).as("the usage row of %s, answered complete by the %s in round %d",
                            outcome.generationId, outcome.onVictim ? "victim" : "survivor", outcome.round).isNotNull();
                    assertThat(row.cost).as("the cost of %s against what its client was told", outcome.generationId)
                            .isEqualTo(outcome.cost);
                } else {
                    report.lostWithCrash++;
                }
            } else if (outcome.onVictim && row != null && outcome.error != null) {
                report.cutButWritten++;
            }
            if ((outcome.status == 402 || outcome.status == 400 || outcome.status == 401) && row != null) {
                throw new AssertionError("a refused request left a usage row: " + outcome.generationId);
            }
        }
        for (Outcome outcome : outcomes) {
            if (!outcome.onVictim) {
                assertThat(outcome.status).as("the survivor's answer in round %d (%s)", outcome.round, outcome.error)
                        .isIn(200, 402);
            } else if (outcome.status != -1) {
                assertThat(outcome.status).as("a victim's answer before its death, round %d", outcome.round)
                        .isIn(200, 402);
            }
        }
        report.rowsWithoutAnId = end.rows.keySet().stream().filter(id -> !seen.contains(id)).count();
    }

    record GenerationRow(long accountId, long cost) {
    }

    record Book(long accountId, long balance, long leased, long customerEntries, long credited, long charged,
            long clawedBack, long usageCost, long leaseRows, long rows) {
    }

    /** The ledger, wallets, leases and usage rows in one REPEATABLE READ snapshot. */
    record Snapshot(Map<Long, Book> accounts, long unbalancedTransactions, long unreconciledCharges,
            long uncollectedRows, long chargeFailedRows, Map<String, Long> leaseRowsByNode,
            Map<String, GenerationRow> rows) {

        void assertBalanced(String when) {
            assertThat(unbalancedTransactions).as(when + ": ledger transactions whose entries do not sum to 0")
                    .isZero();
            assertThat(unreconciledCharges).as(when + ": charges that differ from the usage rows naming them")
                    .isZero();
            assertThat(uncollectedRows).as(when + ": priced usage rows without a charge").isZero();
            for (Book book : accounts.values()) {
                String account = when + ", account " + book.accountId;
                assertThat(book.charged).as(account + ": Σ charges = Σ usage cost").isEqualTo(book.usageCost);
                assertThat(book.balance).as(account + ": balance = Σ customer entries")
                        .isEqualTo(book.customerEntries);
                assertThat(book.balance).as(account + ": balance = grants + top-ups − charges − claw-backs")
                        .isEqualTo(book.credited - book.charged - book.clawedBack);
                assertThat(book.balance).as(account + ": balance never negative").isNotNegative();
                assertThat(book.leased).as(account + ": wallets.leased = Σ lease rows").isEqualTo(book.leaseRows);
                assertThat(book.leased).as(account + ": leased within the balance").isBetween(0L, book.balance);
            }
        }
    }

    static Snapshot snapshot() {
        return CorouterNode.await(pool.withTransaction(conn -> conn
                .query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute()
                .compose(v -> readSnapshot(conn))));
    }

    /** Set-based (one pass over each table): the ledger's txn_id indexes are BRIN, no good for a lookup per row. */
    private static Future<Snapshot> readSnapshot(SqlConnection conn) {
        Future<Map<Long, Book>> books = conn.query("""
                WITH entries AS (
                    SELECT account_id, sum(amount) AS total FROM ledger_entries WHERE book = 'customer'
                    GROUP BY account_id
                ), movements AS (
                    SELECT account_id,
                           sum(amount) FILTER (WHERE kind IN ('grant', 'topup')) AS credited,
                           sum(amount) FILTER (WHERE kind = 'charge') AS charged,
                           sum(amount) FILTER (WHERE kind = 'refund') AS clawed_back
                    FROM ledger_transactions GROUP BY account_id
                ), usage AS (
                    SELECT account_id, sum(cost) AS cost, count(*) AS rows FROM generations GROUP BY account_id
                ), leased AS (
                    SELECT account_id, sum(amount) AS amount FROM leases GROUP BY account_id
                )
                SELECT a.id, coalesce(w.balance, 0)::bigint, coalesce(w.leased, 0)::bigint,
                       coalesce(e.total, 0)::bigint, coalesce(m.credited, 0)::bigint, coalesce(m.charged, 0)::bigint,
                       coalesce(m.clawed_back, 0)::bigint, coalesce(u.cost, 0)::bigint, coalesce(l.amount, 0)::bigint,
                       coalesce(u.rows, 0)
                FROM accounts a
                LEFT JOIN wallets w ON w.account_id = a.id
                LEFT JOIN entries e ON e.account_id = a.id
                LEFT JOIN movements m ON m.account_id = a.id
                LEFT JOIN usage u ON u.account_id = a.id
                LEFT JOIN leased l ON l.account_id = a.id
                ORDER BY a.id""").execute()
                .map(rows -> {
                    Map<Long, Book> map = new LinkedHashMap<>();
                    rows.forEach(r -> map.put(r.getLong(0), new Book(r.getLong(0), r.getLong(1), r.getLong(2),
                            r.getLong(3), r.getLong(4), r.getLong(5), r.getLong(6), r.getLong(7), r.getLong(8),
                            r.getLong(9))));
                    return map;
                });
        Future<Row> globals = conn.query("""
                WITH sums AS (
                    SELECT t.id, t.kind, t.amount, sum(e.amount) AS entries
                    FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.txn_id = t.id
                    GROUP BY t.id
                ), collected AS (
                    SELECT charge_txn_id, sum(cost) AS cost FROM generations WHERE charge_txn_id IS NOT NULL
                    GROUP BY charge_txn_id
                )
                SELECT
                  (SELECT count(*) FROM sums WHERE entries IS NULL OR entries <> 0),
                  (SELECT count(*) FROM sums s LEFT JOIN collected c ON c.charge_txn_id = s.id
                   WHERE s.kind = 'charge' AND s.amount <> coalesce(c.cost, 0)),
                  (SELECT count(*) FROM generations WHERE cost > 0 AND charge_txn_id IS NULL),
                  (SELECT count(*) FROM generations WHERE error_code = 'charge_failed')""").execute()
                .map(rows -> rows.iterator().next());
        Future<Map<String, Long>> leases = conn.query(
                        "SELECT node_id, sum(amount)::bigint FROM leases GROUP BY node_id").execute()
                .map(rows -> {
                    Map<String, Long> map = new HashMap<>();
                    rows.forEach(r -> map.put(r.getString(0), r.getLong(1)));
                    return map;
                });
        Future<Map<String, GenerationRow>> generations = conn.query("SELECT id, account_id, cost FROM generations")
                .execute()
                .map(rows -> {
                    Map<String, GenerationRow> map = new HashMap<>();
                    rows.forEach(r -> map.put(r.getString(0), new GenerationRow(r.getLong(1), r.getLong(2))));
                    return map;
                });
        return Future.all(books, globals, leases, generations).map(all -> {
            Row g = globals.result();
            return new Snapshot(books.result(), g.getLong(0), g.getLong(1), g.getLong(2), g.getLong(3),
                    leases.result(), generations.result());
        });
    }

    /** The lease rows the nodes still have. */
    static long leaseRows(List<String> nodes) {
        return sql("SELECT count(*) FROM leases WHERE node_id = ANY($1::text[])", (Object) nodes.toArray(String[]::new))
                .iterator().next().getLong(0);
    }

    static RowSet<Row> sql(String sql, Object... params) {
        return CorouterNode.await(pool.preparedQuery(sql).execute(Tuple.from(params)));
    }

    static List<Row> rows(RowSet<Row> rows) {
        List<Row> list = new ArrayList<>();
        rows.forEach(list::add);
        return list;
    }

    /** An account and its key; the key never appears in a message. */
    record Account(long id, String key, long keyId) {
        @Override
        public String toString() {
            return "account " + id;
        }
    }

    static long keyLimitLeaseRows(List<String> nodes) {
        return sql("SELECT count(*) FROM key_limit_leases WHERE node_id = ANY($1::text[])",
                (Object) nodes.toArray(String[]::new)).iterator().next().getLong(0);
    }

    /**
     * After the last node stopped, the limited key's period is leased to no node: every lease of a killed node was
     * swept back, the others returned on stop. Its spend is exactly what its usage rows were charged: the spend and
     * the charge are written by the same transaction, so an answer that died with its node is in neither.
     */
    static void assertKeyLimitRecovered(Account account, Snapshot end) {
        Row period = sql("SELECT spent, reserved FROM key_limit_usage WHERE api_key_id = $1", account.keyId())
                .iterator().next();
        long leases = sql("SELECT count(*) FROM key_limit_leases WHERE api_key_id = $1", account.keyId()).iterator()
                .next().getLong(0);
        long charged = sql("SELECT coalesce(sum(cost), 0)::bigint FROM generations WHERE api_key_id = $1",
                account.keyId()).iterator().next().getLong(0);
        assertThat(leases).as("key-limit lease rows left").isZero();
        assertThat(period.getLong("reserved")).as("key-limit credit still leased").isZero();
        assertThat(period.getLong("spent")).as("the key's spend against its charged rows").isEqualTo(charged);
        System.out.printf("limited key: spent %d nano-USD, exactly what its rows were charged%n",
                period.getLong("spent"));
    }

    /** An account with {@code usd} of credit and one key, through the node's operator API. */
    static Account createAccount(NodeProcess node, String name, String usd) throws Exception {
        long id = new JsonObject(expect(201, admin(node, "POST", "/admin/accounts",
                new JsonObject().put("name", "crash-" + name + "-" + System.nanoTime())))).getLong("id");
        expect(201, admin(node, "POST", "/admin/accounts/" + id + "/credits",
                new JsonObject().put("amount_usd", usd).put("reason", "crash test credit")));
        JsonObject key = new JsonObject(expect(201, admin(node, "POST", "/admin/accounts/" + id + "/keys",
                new JsonObject().put("label", "crash"))));
        return new Account(id, key.getString("key"), key.getLong("id"));
    }

    static String expect(int status, CompletableFuture<HttpResponse<String>> call) throws Exception {
        HttpResponse<String> response = call.get(30, TimeUnit.SECONDS);
        if (response.statusCode() != status) {
            throw new AssertionError(response.request().uri().getPath() + " answered " + response.statusCode() + ": "
                    + response.body());
        }
        return response.body();
    }

    static CompletableFuture<HttpResponse<String>> admin(NodeProcess node, String method, String path,
            JsonObject body) {
        return HTTP.sendAsync(HttpRequest.newBuilder(URI.create(node.baseUrl() + path))
                .header("Authorization", "Bearer " + ADMIN_TOKEN).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).method(method, HttpRequest.BodyPublishers.ofString(body.encode()))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Worker threads that repeat one request until stopped; each has one request in flight at a time. */
    static final class Load {
        volatile boolean stopped;
        final List<Thread> workers = new ArrayList<>();

        void start(String name, Runnable request) {
            Thread worker = new Thread(() -> {
                while (!stopped) {
                    request.run();
                }
            }, name);
            worker.setDaemon(true);
            workers.add(worker);
            worker.start();
        }

        void join() throws InterruptedException {
            for (Thread worker : workers) {
                worker.join(30_000);
                assertThat(worker.isAlive()).as("load worker %s ended", worker.getName()).isFalse();
            }
        }
    }

    /** One request as its client saw it: a complete answer has a reported cost (nano-USD), a cut one an error. */
    record Outcome(int round, boolean onVictim, long accountId, String generationId, int status, boolean complete,
            long cost, String error) {
    }

    record Round(int round, NodeProcess victim, int killAfter, List<Outcome> outcomes, long leasedByVictim,
            Boolean victimGranted, boolean retryReplayed, Duration victimCpu) {
    }

    /** Numbers per round and in total, printed and written to {@code target/crash-logs/summary.txt}. */
    static final class Report {
        final long seed;
        final StringBuilder text = new StringBuilder();
        long lostWithCrash;
        long cutButWritten;
        long rowsWithoutAnId;
        Duration survivorCpu = Duration.ZERO;

        Report(long seed) {
            this.seed = seed;
            text.append("crash test, seed ").append(seed).append('\n');
        }

        void round(Round round, Snapshot snapshot, List<String> killed, long nanos) {
            List<Outcome> victim = round.outcomes.stream().filter(Outcome::onVictim).toList();
            List<Outcome> survivor = round.outcomes.stream().filter(o -> !o.onVictim).toList();
            long written = victim.stream().filter(o -> o.generationId != null && snapshot.rows.containsKey(
                    o.generationId)).count();
            long deadHolding = killed.stream().filter(snapshot.leaseRowsByNode::containsKey).count();
            String line = String.format("round %3d (%4.1f s): victim pid %d (%.1f s CPU%s) killed after %3d answers: "
                            + "%3d complete, %2d 402, %d 5xx, %d cut by the kill, %3d usage rows written; survivor "
                            + "%3d complete, %2d 402; the victim held %d nano-USD in leases; the racing grant: %s on "
                            + "the victim, %s on the survivor; %d dead nodes hold leases; %d usage rows in all%n",
                    round.round, nanos / 1e9, round.victim.pid(), round.victimCpu.toMillis() / 1e3,
                    fromArchive(round.victim) ? ", CDS" : "", round.killAfter,
                    count(victim, o -> o.complete), count(victim, o -> o.status == 402),
                    count(victim, o -> o.status >= 500), count(victim, o -> o.error != null), written,
                    count(survivor, o -> o.complete), count(survivor, o -> o.status == 402), round.leasedByVictim,
                    round.victimGranted == null ? "cut" : round.victimGranted ? "201" : "refused",
                    round.retryReplayed ? "replayed" : "granted", deadHolding, snapshot.rows.size());
            text.append(line);
            System.out.print(line);
            write();
        }

        static long count(List<Outcome> outcomes, Predicate<Outcome> which) {
            return outcomes.stream().filter(which).count();
        }

        void finish(int rounds, Snapshot end, int upstreamCalls, long nanos) {
            StringBuilder books = new StringBuilder();
            end.accounts.values().forEach(b -> books.append(String.format("  account %d: balance %d = %d credited − "
                    + "%d charged (%d usage rows)%n", b.accountId, b.balance, b.credited, b.charged, b.rows)));
            String line = String.format("%d rounds in %.1f s (CPU: this JVM %.1f s, the survivor %.1f s): %d usage "
                            + "rows (%d charge_failed), %d upstream calls; %d complete answers of victims lost with "
                            + "their crash, %d cut answers whose rows were written, %d rows whose client saw no "
                            + "headers%n%s",
                    rounds, nanos / 1e9, testCpu() / 1e9, survivorCpu.toMillis() / 1e3, end.rows.size(),
                    end.chargeFailedRows, upstreamCalls, lostWithCrash, cutButWritten, rowsWithoutAnId, books);
            text.append(line);
            System.out.print(line);
            write();
        }

        /** The summary so far, kept current so that a failed run shows the rounds before it. */
        void write() {
            try {
                Files.writeString(logs.resolve("summary.txt"), text);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
