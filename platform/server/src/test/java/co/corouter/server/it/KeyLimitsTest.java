package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.billing.LedgerRepository;
import co.corouter.server.common.ApiException;
import co.corouter.server.console.ConsoleUser;
import co.corouter.server.console.data.ConsoleDataApi;
import co.corouter.server.metering.UsageReports;
import co.corouter.testkit.upstream.Behaviour;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Per-key spend limits (OpenRouter's {@code limit} / {@code limit_reset}) on real nodes and PostgreSQL: never exceeded
 * under concurrency on one node or two, each key of an account on its own limit, periods that start afresh at their
 * UTC boundary (moved with an injected clock), expiry, and the limit set from {@code /admin} and from the console.
 * Every request costs exactly $0.001 ({@link ConcurrencyTest#MODEL}: 100 completion tokens at $10 per million).
 */
class KeyLimitsTest {

    static final MovableClock CLOCK = new MovableClock(Instant.now());

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream().model(ConcurrencyTest.exactModel())
            .clock(CLOCK).build();

    /** A second node on the same database, on the system clock. */
    @RegisterExtension
    // the shortest lease TTL (5 s): its heartbeat renews holds every 1.7 s, and its sweep runs every 5 s
    static final CorouterNode OTHER_NODE = CorouterNode.builder().withFakeUpstream()
            .model(ConcurrencyTest.exactModel()).set("billing", "lease_ttl_seconds", 5)
            .set("http", "upstream_timeout_ms", 30_000).build();

    static final long PER_REQUEST = 1_000_000L;
    /** The period of a key whose limit never resets. */
    static final java.time.OffsetDateTime FOREVER = Instant.EPOCH.atOffset(java.time.ZoneOffset.UTC);

    static void setLimit(long keyId, JsonObject settings) {
        NODE.admin("PATCH", "/admin/keys/" + keyId, settings, 200);
    }

    static HttpResponse<String> call(String key) {
        return NODE.chat(key, ConcurrencyTest.BODY);
    }

    static Row period(long keyId) {
        List<Row> rows = new ArrayList<>();
        NODE.sql("SELECT spent, reserved, period_start FROM key_limit_usage WHERE api_key_id = $1 "
                + "ORDER BY period_start DESC", keyId).forEach(rows::add);
        return rows.isEmpty() ? null : rows.get(0);
    }

    /** What the nodes' lease rows hold of the key's periods. */
    static long leased(long keyId) {
        return NODE.sql("SELECT coalesce(sum(amount), 0)::bigint FROM key_limit_leases WHERE api_key_id = $1", keyId)
                .iterator().next().getLong(0);
    }

    /** The period's reserved is what its leases hold, and spent + reserved never exceeds the limit. */
    static void assertPeriodConsistent(long keyId, long limit) {
        Row period = period(keyId);
        assertThat(period.getLong(1)).as("reserved = the nodes' leases").isEqualTo(leased(keyId));
        assertThat(period.getLong(0) + period.getLong(1)).as("spent + leased within the limit")
                .isLessThanOrEqualTo(limit);
    }

    static void assertRefusedByKeyLimit(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(402);
        assertThat(new JsonObject(response.body()).getJsonObject("error").getJsonObject("metadata")
                .getString("limit_source")).isEqualTo("key");
    }

    @Test
    void fiveHundredConcurrentRequestsAgainstALimitForExactlyHundredLetExactlyHundredThrough() throws Exception {
        CLOCK.set(Instant.now());
        CorouterNode.Account account = NODE.newAccount("10.00");
        setLimit(account.keyId(), new JsonObject().put("limit_usd", "0.100"));
        NODE.upstream().reset();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            calls.add(ConcurrencyTest.post(client, NODE, account.key()));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);

        int ok = 0;
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            HttpResponse<String> response = call.get();
            if (response.statusCode() == 200) {
                ok++;
            } else {
                assertRefusedByKeyLimit(response);
            }
        }
        assertThat(ok).isEqualTo(100);
        assertThat(NODE.upstream().requestCount()).as("upstream calls").isEqualTo(100);

        NODE.flushUsage();
        Row period = period(account.keyId());
        assertThat(period.getLong(0)).as("settled usage of the key").isEqualTo(100 * PER_REQUEST);
        assertThat(period.getLong(1)).as("still leased").isZero();
        assertThat(leased(account.keyId())).isZero();
        assertThat(NODE.balance(account.id())).isEqualTo(10_000_000_000L - 100 * PER_REQUEST);
        assertThat(NODE.usageRows(account.id())).isEqualTo(100);
        NODE.assertLedgerBalances();
    }

    @Test
    void twoNodesOnOneDatabaseTogetherNeverSpendMoreThanTheKeysLimit() throws Exception {
        CLOCK.set(Instant.now());
        CorouterNode.Account account = NODE.newAccount("10.00");
        setLimit(account.keyId(), new JsonObject().put("limit_usd", "0.050"));
        NODE.upstream().reset();
        OTHER_NODE.upstream().reset();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            calls.add(ConcurrencyTest.post(client, NODE, account.key()));
            calls.add(ConcurrencyTest.post(client, OTHER_NODE, account.key()));
        }
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
        int ok = 0;
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            if (call.get().statusCode() == 200) {
                ok++;
            } else {
                assertRefusedByKeyLimit(call.get());
            }
        }
        assertThat(ok).isEqualTo(50);
        assertThat(NODE.upstream().requestCount() + OTHER_NODE.upstream().requestCount()).isEqualTo(50);
        NODE.flushUsage();
        OTHER_NODE.flushUsage();
        assertThat(period(account.keyId()).getLong(0)).isEqualTo(50 * PER_REQUEST);
        assertPeriodConsistent(account.keyId(), 50 * PER_REQUEST);
        assertThat(NODE.balance(account.id())).isEqualTo(10_000_000_000L - 50 * PER_REQUEST);
        NODE.assertLedgerBalances();
    }

    static long leaseRowsOf(String node, long keyId) {
        return NODE.sql("SELECT count(*) FROM key_limit_leases WHERE node_id = $1 AND api_key_id = $2", node, keyId)
                .iterator().next().getLong(0);
    }

    @Test
    void aLeaseLeftByANodeThatDiedIsGivenBackToTheKeysPeriodOnceAfterTheLeaseTtl() {
        CLOCK.set(Instant.now());
        CorouterNode.Account account = NODE.newAccount("10.00");
        setLimit(account.keyId(), new JsonObject().put("limit_usd", "0.005"));
        // what a node killed while holding a slice of the key's period leaves behind
        NODE.sql("""
                INSERT INTO key_limit_usage (api_key_id, period_start, spent, reserved) VALUES ($1, $2, 0, $3)""",
                account.keyId(), FOREVER, 3 * PER_REQUEST);
        NODE.sql("""
                INSERT INTO key_limit_leases (node_id, api_key_id, period_start, amount, expires_at)
                VALUES ('killed-node', $1, $2, $3, now() + interval '8 seconds')""",
                account.keyId(), FOREVER, 3 * PER_REQUEST);
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        assertRefusedByKeyLimit(call(account.key()));

        NODE.awaitCondition("the dead node's lease is swept", () -> leaseRowsOf("killed-node", account.keyId()) == 0);
        NODE.flushUsage();
        assertThat(period(account.keyId()).getLong(0)).as("spent").isEqualTo(2 * PER_REQUEST);
        assertThat(period(account.keyId()).getLong(1)).as("leased").isZero();
        for (int i = 0; i < 3; i++) {
            assertThat(call(account.key()).statusCode()).isEqualTo(200);
        }
        assertRefusedByKeyLimit(call(account.key()));
        NODE.flushUsage();
        assertThat(period(account.keyId()).getLong(0)).isEqualTo(5 * PER_REQUEST);
        assertThat(period(account.keyId()).getLong(1)).isZero();
        assertThat(leased(account.keyId())).isZero();
    }

    @Test
    void aRequestInFlightLongerThanTheLeaseTtlKeepsItsLeaseAndIsChargedOnce() {
        CLOCK.set(Instant.now());
        CorouterNode.Account account = NODE.newAccount("10.00");
        setLimit(account.keyId(), new JsonObject().put("limit_usd", "0.001"));
        OTHER_NODE.upstream().reset();
        OTHER_NODE.upstream().behave(Behaviour.normal().delayMs(12_000).completionTokens(100));
        try {
            // the lease would expire 5 s in and OTHER_NODE sweeps every 5 s: at least one sweep runs after that; the heartbeat keeps the lease alive
            HttpResponse<String> slow = OTHER_NODE.chat(account.key(), ConcurrencyTest.BODY);
            assertThat(slow.statusCode()).as(slow.body()).isEqualTo(200);
        } finally {
            OTHER_NODE.upstream().reset();
        }
        OTHER_NODE.flushUsage();
        assertThat(period(account.keyId()).getLong(0)).as("spent").isEqualTo(PER_REQUEST);
        assertThat(period(account.keyId()).getLong(1)).as("leased").isZero();
        assertThat(leased(account.keyId())).isZero();
        assertRefusedByKeyLimit(call(account.key()));
    }

    @Test
    void eachKeyOfAnAccountSpendsAgainstItsOwnLimit() {
        CLOCK.set(Instant.now());
        CorouterNode.Account account = NODE.newAccount("10.00");
        JsonObject second = new JsonObject(NODE.admin("POST", "/admin/accounts/" + account.id() + "/keys",
                new JsonObject().put("label", "second"), 201));
        setLimit(account.keyId(), new JsonObject().put("limit_usd", "0.002").put("limit_reset", "monthly"));
        setLimit(second.getLong("id"), new JsonObject().put("limit_usd", "0.003"));

        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        assertRefusedByKeyLimit(call(account.key()));
        for (int i = 0; i < 3; i++) {
            assertThat(call(second.getString("key")).statusCode()).isEqualTo(200);
        }
        assertRefusedByKeyLimit(call(second.getString("key")));
        NODE.flushUsage();
        assertThat(period(account.keyId()).getLong(0)).isEqualTo(2 * PER_REQUEST);
        assertThat(period(second.getLong("id")).getLong(0)).isEqualTo(3 * PER_REQUEST);

        // removing the limit lets the key spend the account's balance again
        setLimit(account.keyId(), new JsonObject().putNull("limit_usd"));
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        NODE.flushUsage();
        NODE.assertLedgerBalances();
    }

    @Test
    void aDailyLimitStartsAfreshAtMidnightUtcAndNotBefore() {
        CLOCK.set(Instant.parse("2031-01-15T23:58:00Z"));
        CorouterNode.Account account = NODE.newAccount("10.00");
        setLimit(account.keyId(), new JsonObject().put("limit_usd", "0.001").put("limit_reset", "daily"));
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        CLOCK.set(Instant.parse("2031-01-15T23:59:59Z"));
        assertRefusedByKeyLimit(call(account.key()));
        CLOCK.set(Instant.parse("2031-01-16T00:00:00Z"));
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        assertRefusedByKeyLimit(call(account.key()));
        NODE.flushUsage();
        NODE.assertLedgerBalances();
    }

    @Test
    void aWeeklyLimitStartsAfreshOnMondayAtMidnightUtcNotAtOtherMidnights() {
        CLOCK.set(Instant.parse("2031-01-18T12:00:00Z")); // a Saturday
        CorouterNode.Account account = NODE.newAccount("10.00");
        setLimit(account.keyId(), new JsonObject().put("limit_usd", "0.001").put("limit_reset", "weekly"));
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        CLOCK.set(Instant.parse("2031-01-19T00:00:01Z")); // Sunday: the same week
        assertRefusedByKeyLimit(call(account.key()));
        CLOCK.set(Instant.parse("2031-01-19T23:59:59Z"));
        assertRefusedByKeyLimit(call(account.key()));
        CLOCK.set(Instant.parse("2031-01-20T00:00:00Z")); // Monday
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        assertRefusedByKeyLimit(call(account.key()));
    }

    @Test
    void aMonthlyLimitStartsAfreshOnTheFirstAtMidnightUtc() {
        CLOCK.set(Instant.parse("2031-01-30T10:00:00Z"));
        CorouterNode.Account account = NODE.newAccount("10.00");
        setLimit(account.keyId(), new JsonObject().put("limit_usd", "0.002").put("limit_reset", "monthly"));
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        CLOCK.set(Instant.parse("2031-01-31T23:59:59Z"));
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        assertRefusedByKeyLimit(call(account.key()));
        CLOCK.set(Instant.parse("2031-02-01T00:00:00Z"));
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        assertRefusedByKeyLimit(call(account.key()));
    }

    @Test
    void aLimitWithoutResetNeverStartsAfresh() {
        CLOCK.set(Instant.parse("2031-01-31T23:59:00Z"));
        CorouterNode.Account account = NODE.newAccount("10.00");
        setLimit(account.keyId(), new JsonObject().put("limit_usd", "0.001"));
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        CLOCK.set(Instant.parse("2032-03-01T00:00:00Z"));
        assertRefusedByKeyLimit(call(account.key()));
    }

    @Test
    void aKeyPastItsExpiryIsRefusedWith401() {
        CLOCK.set(Instant.parse("2031-05-01T12:00:00Z"));
        CorouterNode.Account account = NODE.newAccount("10.00");
        setLimit(account.keyId(), new JsonObject().put("expires_at", "2031-05-01T13:00:00Z"));
        NODE.upstream().reset();
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        CLOCK.set(Instant.parse("2031-05-01T13:00:00Z"));
        HttpResponse<String> expired = call(account.key());
        assertThat(expired.statusCode()).isEqualTo(401);
        assertThat(new JsonObject(expired.body()).getJsonObject("error").getString("message"))
                .isEqualTo("this API key has expired");
        assertThat(NODE.get("/v1/key", account.key()).statusCode()).isEqualTo(401);
        assertThat(NODE.upstream().requestCount()).isEqualTo(1);
        // clearing the expiry brings it back
        setLimit(account.keyId(), new JsonObject().putNull("expires_at"));
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
    }

    @Test
    void theBalance402SaysItsSourceIsTheBalance() {
        CLOCK.set(Instant.now());
        CorouterNode.Account account = NODE.newAccount("0.001");
        setLimit(account.keyId(), new JsonObject().put("limit_usd", "1.00"));
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        HttpResponse<String> refused = call(account.key());
        assertThat(refused.statusCode()).isEqualTo(402);
        assertThat(new JsonObject(refused.body()).getJsonObject("error").getJsonObject("metadata")
                .getString("limit_source")).isEqualTo("balance");
        // the key's hold of the refused request went back to the node's lease: it still has $0.999 to spend
        NODE.flushUsage();
        Row period = period(account.keyId());
        assertThat(period.getLong(0)).isEqualTo(PER_REQUEST);
        assertPeriodConsistent(account.keyId(), 1_000 * PER_REQUEST);
        JsonObject data = new JsonObject(NODE.get("/v1/key", account.key()).body()).getJsonObject("data");
        assertThat(data.getValue("limit_remaining").toString()).isEqualTo("0.999");
    }

    @Test
    void getKeyReportsTheLimitWhatRemainsTheResetUsageAndExpiry() {
        CLOCK.set(Instant.now());
        CorouterNode.Account account = NODE.newAccount("10.00");
        setLimit(account.keyId(), new JsonObject().put("limit_usd", "0.005").put("limit_reset", "monthly")
                .put("expires_at", "2999-01-01T00:00:00Z"));
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        NODE.flushUsage();
        JsonObject data = new JsonObject(NODE.get("/v1/key", account.key()).body()).getJsonObject("data");
        assertThat(data.getValue("limit").toString()).isEqualTo("0.005");
        assertThat(data.getValue("limit_remaining").toString()).isEqualTo("0.003");
        assertThat(data.getString("limit_reset")).isEqualTo("monthly");
        assertThat(data.getValue("usage").toString()).isEqualTo("0.002");
        assertThat(data.getValue("usage_daily").toString()).isEqualTo("0.002");
        assertThat(data.getValue("usage_weekly").toString()).isEqualTo("0.002");
        assertThat(data.getValue("usage_monthly").toString()).isEqualTo("0.002");
        assertThat(data.getString("expires_at")).isEqualTo("2999-01-01T00:00:00Z");

        CorouterNode.Account unlimited = NODE.newAccount("1.00");
        JsonObject none = new JsonObject(NODE.get("/v1/key", unlimited.key()).body()).getJsonObject("data");
        assertThat(none.containsKey("limit")).isTrue();
        assertThat(none.getValue("limit")).isNull();
        assertThat(none.getValue("limit_remaining")).isNull();
        assertThat(none.getValue("limit_reset")).isNull();
        assertThat(none.getValue("expires_at")).isNull();
        assertThat(none.getValue("usage").toString()).isEqualTo("0");
    }

    @Test
    void theConsoleSetsAKeysLimitAndExpiryAndNamesTheFieldAtFault() {
        CLOCK.set(Instant.now());
        var pool = NODE.node().pool();
        AccountsContract.Accounts accounts = NODE.node().accounts();
        ConsoleDataApi api = ConsoleDataApi.create(NODE.vertx(), pool, new ConsoleDataApi.Services(accounts,
                        (AccountsContract.OwnerKeys) accounts, NODE.node().credits(), new LedgerRepository(pool),
                        new UsageReports(pool), NODE.node().payments(), null),
                (hash, password) -> Future.succeededFuture(false), null, CLOCK);
        CorouterNode.Account account = NODE.newAccount("10.00");
        ConsoleUser user = new ConsoleUser(0, account.id(), 0, "limits@example.com");

        JsonObject updated = CorouterNode.await(api.updateKey(user, account.keyId(), new JsonObject()
                .put("limit_usd", "0.001").put("limit_reset", "daily")));
        assertThat(updated.getString("limit_usd")).isEqualTo("0.001000000");
        assertThat(updated.getString("limit_reset")).isEqualTo("daily");
        assertThat(updated.getValue("expires_at")).isNull();
        assertThat(updated.getBoolean("disabled")).isFalse();
        assertThat(call(account.key()).statusCode()).isEqualTo(200);
        assertRefusedByKeyLimit(call(account.key()));

        JsonObject created = CorouterNode.await(api.createKey(user, new JsonObject().put("name", "ci")
                .put("limit_usd", "0.002").put("limit_reset", "weekly").put("expires_at", "2999-06-01T00:00:00Z")));
        assertThat(created.getString("limit_usd")).isEqualTo("0.002000000");
        assertThat(created.getString("expires_at")).isEqualTo("2999-06-01T00:00:00Z");
        assertThat(call(created.getString("key")).statusCode()).isEqualTo(200);
        assertThat(call(created.getString("key")).statusCode()).isEqualTo(200);
        assertRefusedByKeyLimit(call(created.getString("key")));
        JsonObject listed = CorouterNode.await(api.keys(user)).getJsonArray("data").getJsonObject(1);
        assertThat(listed.getString("limit_reset")).isEqualTo("weekly");

        for (JsonObject bad : List.of(new JsonObject().put("limit_usd", 0.5), new JsonObject().put("limit_usd", "-1"),
                new JsonObject().put("limit_reset", "hourly"), new JsonObject().put("expires_at", "tomorrow"))) {
            String field = bad.fieldNames().iterator().next();
            Throwable failure = failure(api.updateKey(user, account.keyId(), bad));
            assertThat(failure).as(bad.encode()).isInstanceOf(ApiException.class);
            ApiException cause = (ApiException) failure;
            assertThat(cause.code()).isEqualTo(400);
            assertThat(cause.metadata().getJsonObject("fields").containsKey(field)).as(bad.encode()).isTrue();
        }
        // another account's key is not found
        CorouterNode.Account other = NODE.newAccount("1.00");
        Throwable notFound = failure(api.updateKey(user, other.keyId(), new JsonObject().put("limit_usd", "1")));
        assertThat(((ApiException) notFound).code()).isEqualTo(404);
    }

    static Throwable failure(Future<?> future) {
        Throwable failure = future.toCompletionStage().toCompletableFuture().handle((v, e) -> e).join();
        return failure instanceof java.util.concurrent.CompletionException wrapped ? wrapped.getCause() : failure;
    }
}
