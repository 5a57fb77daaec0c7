package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.common.Money;
import co.corouter.server.metering.Tokenizer;
import co.corouter.testkit.upstream.Behaviour;
import co.corouter.testkit.upstream.RecordedRequest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A client that hangs up, at every stage of the pipeline, against a real node, a real ledger and a hostile fake
 * upstream: before any provider call nothing is called and nothing charged; a stream is cancelled upstream at once
 * and billed for the prompt and what was produced; a whole completion runs to its end and is billed in full.
 */
class CancellationTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream().build();

    static final Tokenizer TOKENIZER = new Tokenizer();

    CorouterNode.Account account;

    @BeforeEach
    void freshAccountAndUpstream() {
        account = NODE.newAccount("20.00");
        NODE.upstream().reset().requireApiKey("sk-upstream-test");
    }

    static String body(String content, boolean stream) {
        return new JsonObject().put("model", CorouterNode.FAKE_MODEL).put("stream", stream).put("max_tokens", 50)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", content)))
                .encode();
    }

    static long costOf(int prompt, int completion) {
        return Money.cost(prompt, 2_000_000_000L, completion, 10_000_000_000L);
    }

    RawHttp post(String body) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        RawHttp client = new RawHttp(NODE.port());
        client.send(RawHttp.postHead("/v1/chat/completions", account.key(), bytes.length)).send(bytes);
        return client;
    }

    long refused(String reason) {
        var counter = NODE.node().metrics().registry().find("corouter_requests_refused_total").tag("reason", reason)
                .counter();
        return counter == null ? 0 : (long) counter.count();
    }

    /** Waits (bounded) until the node has no request in flight: every pipeline, stopped or not, has ended. */
    void awaitIdle() {
        NODE.awaitCondition("no request in flight", () -> NODE.node().edge().inFlight() == 0);
    }

    List<Row> generationsOfAccount() {
        NODE.flushUsage();
        List<Row> rows = new ArrayList<>();
        NODE.sql("SELECT * FROM generations WHERE account_id = $1 ORDER BY created_at", account.id()).forEach(rows::add);
        return rows;
    }

    /** Blocks every query on {@code table} until the returned connection rolls back. */
    SqlConnection lock(String sql, Object... params) {
        SqlConnection conn = CorouterNode.await(NODE.node().pool().getConnection());
        CorouterNode.await(conn.query("BEGIN").execute());
        CorouterNode.await(conn.preparedQuery(sql).execute(io.vertx.sqlclient.Tuple.from(params)));
        return conn;
    }

    void release(SqlConnection conn) {
        CorouterNode.await(conn.query("ROLLBACK").execute());
        CorouterNode.await(conn.close());
    }

    void awaitBlockedQuery(String fragment) {
        NODE.awaitCondition("a query waiting on a lock (" + fragment + ")", () -> NODE.sql("""
                SELECT count(*) FROM pg_stat_activity
                WHERE wait_event_type = 'Lock' AND position($1 in query) > 0""", fragment)
                .iterator().next().getLong(0) > 0);
    }

    /**
     * Sends a request while {@code lockSql} holds a lock, waits until the node's query that names {@code blocked} waits
     * on it, resets the connection, releases the lock and waits for the pipeline to end.
     */
    void hangUpWhileBlocked(String blocked, String lockSql, Object... params) throws Exception {
        SqlConnection lock = lock(lockSql, params);
        try {
            int connections = NODE.node().edge().connections();
            RawHttp client = post(body("hello", false));
            awaitBlockedQuery(blocked);
            client.reset();
            // the node must have seen the reset before the lock goes: else the query's answer may overtake it
            NODE.awaitCondition("the node saw the reset", () -> NODE.node().edge().connections() <= connections);
        } finally {
            release(lock);
        }
        awaitIdle();
    }

    @Test
    void aClientThatLeavesWhileItsKeyIsLookedUpCostsNothingAndReachesNoUpstream() throws Exception {
        long before = refused("client_closed");
        hangUpWhileBlocked("api_keys", "LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE");

        assertThat(NODE.upstream().requestCount()).isZero();
        assertThat(generationsOfAccount()).isEmpty();
        assertThat(NODE.balance(account.id())).isEqualTo(20 * Money.NANOS_PER_USD);
        assertThat(refused("client_closed")).isEqualTo(before + 1);
        NODE.assertLedgerBalances();
    }

    @Test
    void aClientThatLeavesDuringALeaseExtensionCostsNothingAndLosesNoCredit() throws Exception {
        CorouterNode.Account fresh = NODE.newAccount("1.00");
        account = fresh;
        // the key is cached, so only the lease extension is outstanding when the client leaves
        assertThat(NODE.get("/v1/credits", fresh.key()).statusCode()).isEqualTo(200);
        hangUpWhileBlocked("leases", "SELECT balance FROM wallets WHERE account_id = $1 FOR UPDATE", fresh.id());

        assertThat(NODE.upstream().requestCount()).isZero();
        assertThat(generationsOfAccount()).isEmpty();
        assertThat(NODE.balance(fresh.id())).isEqualTo(Money.NANOS_PER_USD);
        long leased = NODE.sql("SELECT leased FROM wallets WHERE account_id = $1", fresh.id()).iterator().next()
                .getLong(0);
        assertThat(NODE.node().creditBook().available(fresh.id())).as("the lease is back in the node's book, whole")
                .isEqualTo(leased);
        NODE.assertLedgerBalances();
    }

    @Test
    void aWholeCompletionWhoseClientLeftRunsToItsEndAndIsBilledInFull() throws Exception {
        NODE.upstream().behave(Behaviour.normal().delayMs(300).promptTokens(11).completionTokens(7));
        RawHttp client = post(body("hello", false));
        NODE.awaitCondition("the upstream received the request", () -> NODE.upstream().requestCount() == 1);
        client.reset();
        RecordedRequest upstream = NODE.upstream().lastRequest();
        CorouterNode.await(upstream.responseEnded());
        awaitIdle();

        assertThat(upstream.wasAnsweredInFull()).isTrue();
        List<Row> rows = generationsOfAccount();
        assertThat(rows).hasSize(1);
        Row row = rows.get(0);
        assertThat(row.getInteger("status")).isEqualTo(200);
        assertThat(row.getBoolean("cancelled")).isTrue();
        assertThat(row.getBoolean("usage_estimated")).isFalse();
        assertThat(row.getInteger("prompt_tokens")).isEqualTo(11);
        assertThat(row.getInteger("completion_tokens")).isEqualTo(7);
        assertThat(row.getLong("cost")).isEqualTo(costOf(11, 7)).isEqualTo(NODE.chargeFor(row.getString("id")));
        JsonObject generation = new JsonObject(NODE.get("/v1/generation?id=" + row.getString("id"), account.key())
                .body()).getJsonObject("data");
        assertThat(generation.getBoolean("cancelled")).isTrue();
        NODE.assertLedgerBalances();
    }

    @Test
    void aStreamWhoseClientLeftBeforeTheFirstTokenIsCancelledUpstreamAndBilledForItsPrompt() throws Exception {
        NODE.upstream().behave(Behaviour.normal().delayMs(2_000).chunks(5));
        String body = body("hello there", true);
        RawHttp client = post(body);
        NODE.awaitCondition("the upstream received the request", () -> NODE.upstream().requestCount() == 1);
        client.reset();
        RecordedRequest upstream = NODE.upstream().lastRequest();
        CorouterNode.await(upstream.connectionClosed());
        awaitIdle();

        assertThat(upstream.wasAnsweredInFull()).isFalse();
        Row row = generationsOfAccount().get(0);
        int prompt = TOKENIZER.countChatPrompt(Buffer.buffer(body));
        assertThat(row.getInteger("status")).isEqualTo(499);
        assertThat(row.getBoolean("cancelled")).isTrue();
        assertThat(row.getBoolean("usage_estimated")).isTrue();
        assertThat(row.getInteger("prompt_tokens")).isEqualTo(prompt).isPositive();
        assertThat(row.getInteger("completion_tokens")).isZero();
        assertThat(row.getLong("cost")).isEqualTo(costOf(prompt, 0)).isEqualTo(NODE.chargeFor(row.getString("id")));
        NODE.assertLedgerBalances();
    }

    /** One cancelled stream: what the client saw before it hung up. */
    record Cancelled(String marker, String generationId, int contentEventsSeen, long rowAfterNanos, String body) {
    }

    @Test
    void aThousandStreamsCancelledAtRandomPointsAreEachBilledForWhatWasProducedWithinFiveSeconds() throws Exception {
        NODE.upstream().behave(Behaviour.normal().content(" hello".repeat(60)).chunks(60).intervalMs(10));
        int streams = 1_000;
        ExecutorService clients = Executors.newFixedThreadPool(40);
        List<Future<Cancelled>> attempts = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            String marker = "stream-" + i;
            int cancelAfter = ThreadLocalRandom.current().nextInt(1, 40);
            attempts.add(clients.submit(() -> cancelAfter(marker, cancelAfter)));
        }
        List<Cancelled> cancelled = new ArrayList<>();
        for (Future<Cancelled> attempt : attempts) {
            cancelled.add(attempt.get(300, TimeUnit.SECONDS));
        }
        clients.shutdown();

        Map<String, RecordedRequest> upstreamByMarker = new ConcurrentHashMap<>();
        for (RecordedRequest request : NODE.upstream().requests()) {
            String content = request.body().getJsonArray("messages").getJsonObject(0).getString("content");
            upstreamByMarker.put(content, request);
        }
        assertThat(upstreamByMarker).hasSize(streams);
        long charged = 0;
        int cutOff = 0;
        for (Cancelled c : cancelled) {
            assertThat(c.rowAfterNanos()).as("row of %s written within 5 s of the hang-up", c.marker())
                    .isBetween(0L, TimeUnit.SECONDS.toNanos(5));
            Row row = NODE.awaitGeneration(c.generationId());
            RecordedRequest upstream = upstreamByMarker.get(c.marker());
            // the upstream either saw its connection closed (cancelled) or had finished before the hang-up arrived
            CorouterNode.await(io.vertx.core.Future.any(upstream.connectionClosed(), upstream.responseEnded()));
            int completion = row.getInteger("completion_tokens");
            int prompt = row.getInteger("prompt_tokens");
            if (row.getInteger("status") == 499) {
                cutOff++;
                assertThat(upstream.wasConnectionClosed()).as("%s cancelled upstream", c.marker()).isTrue();
                assertThat(row.getBoolean("cancelled")).isTrue();
                assertThat(row.getBoolean("usage_estimated")).isTrue();
                assertThat(completion).as("completion tokens of %s", c.marker())
                        .isBetween(c.contentEventsSeen(), upstream.contentEventsWritten());
                assertThat(prompt).isEqualTo(TOKENIZER.countChatPrompt(Buffer.buffer(c.body())));
            } else {
                assertThat(row.getInteger("status")).as("%s finished before its client left", c.marker())
                        .isEqualTo(200);
                assertThat(upstream.wasAnsweredInFull()).isTrue();
            }
            assertThat(row.getLong("cost")).isEqualTo(costOf(prompt, completion))
                    .isEqualTo(NODE.chargeFor(c.generationId()));
            charged += row.getLong("cost");
        }
        assertThat(cutOff).as("streams cut off by their client").isGreaterThan(streams * 9 / 10);
        assertThat(NODE.upstream().requestCount()).isEqualTo(streams);
        assertThat(NODE.balance(account.id())).isEqualTo(20 * Money.NANOS_PER_USD - charged);
        NODE.assertLedgerBalances();
    }

    Cancelled cancelAfter(String marker, int contentEvents) throws Exception {
        String body = body(marker, true);
        try (RawHttp client = post(body)) {
            RawHttp.StreamHead head = client.readStreamHead();
            int seen = 0;
            while (seen < contentEvents) {
                String event = client.readEvent();
                if (event == null) {
                    break;
                }
                if (event.contains("\"content\":\" hello\"")) {
                    seen++;
                }
            }
            client.reset();
            long hungUp = System.nanoTime();
            String id = head.header("x-generation-id");
            // the usage row as metering writes it on its own (no forced flush), polled until 5 s have passed
            long rowAfter = -1;
            while (System.nanoTime() - hungUp < TimeUnit.SECONDS.toNanos(5)) {
                if (NODE.sql("SELECT 1 FROM generations WHERE id = $1", id).size() == 1) {
                    rowAfter = System.nanoTime() - hungUp;
                    break;
                }
                CorouterNode.await(NODE.vertx().timer(20));
            }
            return new Cancelled(marker, id, seen, rowAfter, body);
        }
    }

    @Test
    void aThreeMegabytePromptWhoseClientResetsAtOnceIsNeverServedForFree() throws Exception {
        NODE.upstream().behave(Behaviour.normal().promptTokens(750_007).completionTokens(5));
        String filler = "x".repeat(3 * 1024 * 1024);
        for (int attempt = 0; attempt < 4; attempt++) {
            byte[] bytes = body("probe-" + attempt + " " + filler, false).getBytes(StandardCharsets.UTF_8);
            long accepted = NODE.node().edge().accepted();
            int open = NODE.node().edge().connections();
            RawHttp client = new RawHttp(NODE.port());
            client.send(RawHttp.postHead("/v1/chat/completions", account.key(), bytes.length)).send(bytes);
            client.reset();
            // the node took the connection and has finished with it, whatever it made of the request
            NODE.awaitCondition("the probe's connection is accepted", () -> NODE.node().edge().accepted() > accepted);
            NODE.awaitCondition("the probe is over", () -> NODE.node().edge().connections() <= open
                    && NODE.node().edge().inFlight() == 0);
        }
        for (RecordedRequest upstream : NODE.upstream().requests()) {
            CorouterNode.await(upstream.responseEnded());
        }
        awaitIdle();

        int reached = NODE.upstream().requestCount();
        List<Row> rows = generationsOfAccount();
        assertThat(rows).as("a usage row for every call that reached the upstream, and only for those")
                .hasSize(reached);
        for (Row row : rows) {
            assertThat(row.getInteger("prompt_tokens")).isEqualTo(750_007);
            assertThat(row.getLong("cost")).as("billed in full, as the upstream bills us").isEqualTo(costOf(750_007, 5))
                    .isEqualTo(NODE.chargeFor(row.getString("id")));
        }
        assertThat(NODE.balance(account.id())).isEqualTo(20 * Money.NANOS_PER_USD - reached * costOf(750_007, 5));
        NODE.assertLedgerBalances();
    }
}
