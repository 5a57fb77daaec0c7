package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.Row;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Concurrent requests can never overdraw an account, and the upstream is never called for a refused one. */
class ConcurrencyTest {

    /** 100 completion tokens at $10 per million = $0.001 per request, nothing for the prompt. */
    static final String MODEL = "fake/exact";

    static JsonObject exactModel() {
        return new JsonObject().put("id", MODEL).put("provider", "fake").put("upstream_model", "gpt-exact")
                .put("context_length", 8192).put("max_output_tokens", 1000)
                .put("pricing", new JsonObject().put("prompt_per_million", "0").put("completion_per_million", "10.00"));
    }

    @RegisterExtension
    // what is tested is the credit, not the clock: a slow (loaded) box must not turn queued calls into 504s
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream().model(exactModel())
            .set("http", "upstream_timeout_ms", 30_000).build();

    /** A second node on the same database: the two share nothing but PostgreSQL. */
    @RegisterExtension
    static final CorouterNode OTHER_NODE = CorouterNode.builder().withFakeUpstream().model(exactModel())
            .set("billing", "lease_slice_usd", "0.010").set("http", "upstream_timeout_ms", 30_000).build();

    static final String BODY = new JsonObject().put("model", MODEL).put("max_tokens", 100)
            .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "count")))
            .encode();

    static CompletableFuture<HttpResponse<String>> post(HttpClient client, CorouterNode node, String key) {
        return client.sendAsync(HttpRequest.newBuilder(URI.create(node.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofString(BODY)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void twoNodesOnOneDatabaseTogetherNeverSpendMoreThanTheAccountHolds() throws Exception {
        CorouterNode.Account account = NODE.newAccount("0.100");
        NODE.upstream().reset();
        OTHER_NODE.upstream().reset();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            calls.add(post(client, NODE, account.key()));
            calls.add(post(client, OTHER_NODE, account.key()));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        long ok = 0;
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            int status = call.get().statusCode();
            assertThat(status).as(call.get().body()).isIn(200, 402);
            ok += status == 200 ? 1 : 0;
        }
        // leases are whole requests' worth here, so no credit is stranded on either node
        assertThat(ok).isEqualTo(100L);
        assertThat(NODE.upstream().requestCount() + OTHER_NODE.upstream().requestCount()).isEqualTo((int) ok);

        NODE.flushUsage();
        OTHER_NODE.flushUsage();
        assertThat(NODE.balance(account.id())).isEqualTo(100_000_000L - ok * 1_000_000L).isNotNegative();
        assertThat(NODE.ledgerBalance(account.id())).isEqualTo(NODE.balance(account.id()));
        NODE.assertLedgerBalances();
    }

    @Test
    void twoThousandConcurrentRequestsAgainstCreditForExactlyThousandLetExactlyThousandThrough() throws Exception {
        CorouterNode.Account account = NODE.newAccount("1.000");
        NODE.upstream().reset();
        String body = new JsonObject().put("model", MODEL).put("max_tokens", 100)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "count")))
                .encode();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        // while the stampede runs, the node's free credit and the wallet are sampled: neither may ever go below zero
        java.util.concurrent.atomic.AtomicLong lowestFree = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
        java.util.concurrent.atomic.AtomicLong lowestBalance = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
        java.util.concurrent.atomic.AtomicInteger samples = new java.util.concurrent.atomic.AtomicInteger();
        long sampler = NODE.vertx().setPeriodic(5, id -> {
            lowestFree.accumulateAndGet(NODE.node().creditBook().available(account.id()), Math::min);
            samples.incrementAndGet();
        });
        long walletSampler = NODE.vertx().setPeriodic(50, id -> NODE.node().pool()
                .preparedQuery("SELECT balance FROM wallets WHERE account_id = $1")
                .execute(io.vertx.sqlclient.Tuple.of(account.id()))
                .onSuccess(rows -> rows.forEach(row -> lowestBalance.accumulateAndGet(row.getLong(0), Math::min))));
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            calls.add(client.sendAsync(HttpRequest.newBuilder(URI.create(NODE.baseUrl() + "/chat/completions"))
                    .header("Authorization", "Bearer " + account.key())
                    .header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(60))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        NODE.vertx().cancelTimer(sampler);
        NODE.vertx().cancelTimer(walletSampler);
        assertThat(samples.get()).as("samples of the free credit while the requests ran").isPositive();
        assertThat(lowestFree.get()).as("lowest free credit seen").isNotNegative();
        assertThat(lowestBalance.get()).as("lowest wallet balance seen").isNotNegative();

        int ok = 0;
        int refused = 0;
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            HttpResponse<String> response = call.get();
            if (response.statusCode() == 200) {
                ok++;
                assertThat(new JsonObject(response.body()).getJsonObject("usage").getValue("cost").toString())
                        .isEqualTo("0.001");
            } else {
                assertThat(response.statusCode()).as(response.body()).isEqualTo(402);
                refused++;
            }
        }
        assertThat(ok).isEqualTo(1000);
        assertThat(refused).isEqualTo(1000);
        assertThat(NODE.upstream().requestCount()).as("no upstream call for a refused request").isEqualTo(1000);

        NODE.flushUsage();
        assertThat(NODE.balance(account.id())).isZero();
        assertThat(NODE.ledgerBalance(account.id())).isZero();
        Row charges = NODE.sql("""
                SELECT coalesce(sum(t.amount), 0)::bigint,
                       (SELECT count(*) FROM generations g WHERE g.account_id = $1 AND g.charge_txn_id IS NOT NULL)
                FROM ledger_transactions t WHERE t.account_id = $1 AND t.kind = 'charge'""", account.id())
                .iterator().next();
        assertThat(charges.getLong(1)).as("usage rows collected by a charge").isEqualTo(1000);
        assertThat(charges.getLong(0)).as("Σ charges").isEqualTo(NODE.sql(
                "SELECT sum(cost)::bigint FROM generations WHERE account_id = $1", account.id()).iterator().next()
                .getLong(0));
        long rows = NODE.sql("SELECT count(*) FROM generations WHERE account_id = $1 AND status = 200", account.id())
                .iterator().next().getLong(0);
        assertThat(rows).isEqualTo(1000);
        NODE.assertLedgerBalances();
    }

    /** A request on a connection of its own (connections are spread over the node's event loops in turn). */
    static RawHttp.Response postOnNewConnection(String key) throws Exception {
        byte[] body = BODY.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (RawHttp client = new RawHttp(NODE.port())) {
            client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    + "Authorization: Bearer " + key + "\r\nContent-Length: " + body.length + "\r\n\r\n").send(body);
            return client.read();
        }
    }

    static java.util.Map<String, Double> requestsPerLoop() {
        java.util.Map<String, Double> perLoop = new java.util.TreeMap<>();
        NODE.node().metrics().registry().find("corouter_http_requests_total").counters()
                .forEach(c -> perLoop.put(c.getId().getTag("loop"), c.count()));
        return perLoop;
    }

    @Test
    void creditForExactlyOneRequestIsServedWhicheverEventLoopTheRequestLandsOn() throws Exception {
        java.util.Map<String, Double> before = requestsPerLoop();
        for (int i = 0; i < 2 * CorouterNode.EVENT_LOOPS; i++) {
            CorouterNode.Account account = NODE.newAccount("0.001");
            assertThat(postOnNewConnection(account.key()).status()).as("request %d", i).isEqualTo(200);
            assertThat(postOnNewConnection(account.key()).status()).isEqualTo(402);
            NODE.flushUsage();
            assertThat(NODE.balance(account.id())).isZero();
        }
        java.util.Map<String, Double> after = requestsPerLoop();
        assertThat(after).as("before %s after %s", before, after).hasSize(CorouterNode.EVENT_LOOPS);
        after.forEach((loop, count) -> assertThat(count - before.getOrDefault(loop, 0.0))
                .as("requests served by event loop %s (before %s, after %s)", loop, before, after).isPositive());
        NODE.assertLedgerBalances();
    }

    @Test
    void creditForFourRequestsOnFourEventLoopsServesAllFourAndStrandsNothing() throws Exception {
        CorouterNode.Account account = NODE.newAccount("0.004");
        for (int i = 0; i < 4; i++) {
            RawHttp.Response response = postOnNewConnection(account.key());
            assertThat(response.status()).as(response.body()).isEqualTo(200);
        }
        assertThat(postOnNewConnection(account.key()).status()).isEqualTo(402);
        NODE.flushUsage();
        assertThat(NODE.balance(account.id())).isZero();
        NODE.assertLedgerBalances();
    }
}
