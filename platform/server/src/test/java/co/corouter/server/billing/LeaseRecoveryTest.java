package co.corouter.server.billing;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.accounts.AccountRepository;
import co.corouter.server.storage.Database;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LedgerRepository}'s lease statements against a real PostgreSQL of its own (sweeping is global, so a shared
 * database would let other test classes' leases into the counts): what a crashed node held comes back, what a live
 * node holds stays, and no interleaving of leases ever hands out more than an account's balance.
 */
class LeaseRecoveryTest {

    static final int TTL = 60;

    @TempDir
    static Path dataDir;

    static Database database;
    static Vertx vertx;
    static Pool pool;
    static LedgerRepository ledger;
    static AccountRepository accounts;

    @BeforeAll
    static void startDatabase() {
        database = Database.embedded(dataDir.resolve("pg"));
        vertx = Vertx.vertx();
        pool = database.pool(vertx, 64);
        ledger = new LedgerRepository(pool);
        accounts = new AccountRepository(pool);
    }

    @AfterAll
    static void stopDatabase() throws Exception {
        if (pool != null) {
            await(pool.close());
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        if (database != null) {
            database.close();
        }
    }

    static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("awaiting a future failed: " + e, e);
        }
    }

    static RowSet<Row> sql(String sql, Object... params) {
        return await(pool.preparedQuery(sql).execute(Tuple.from(params)));
    }

    static long single(String sql, Object... params) {
        return sql(sql, params).iterator().next().getLong(0);
    }

    static long account(long balance) {
        long id = await(accounts.createAccount("lease-test-" + UUID.randomUUID()));
        if (balance > 0) {
            await(ledger.grant(id, balance, "test credit", "test:" + UUID.randomUUID()));
        }
        return id;
    }

    static String node() {
        return "node-" + UUID.randomUUID();
    }

    static long balance(long accountId) {
        return single("SELECT coalesce((SELECT balance FROM wallets WHERE account_id = $1), 0)::bigint", accountId);
    }

    static long leased(long accountId) {
        return single("SELECT coalesce((SELECT leased FROM wallets WHERE account_id = $1), 0)::bigint", accountId);
    }

    static long leaseRows(long accountId) {
        return single("SELECT coalesce(sum(amount), 0)::bigint FROM leases WHERE account_id = $1", accountId);
    }

    /** The lease row of a node, or -1 when there is none. */
    static long leaseOf(String node, long accountId) {
        RowSet<Row> rows = sql("SELECT amount FROM leases WHERE node_id = $1 AND account_id = $2", node, accountId);
        return rows.size() == 0 ? -1 : rows.iterator().next().getLong(0);
    }

    /** What a node that stopped renewing looks like once its TTL has passed. */
    static void crash(String node) {
        sql("UPDATE leases SET expires_at = now() - interval '1 second' WHERE node_id = $1", node);
    }

    /** wallets.leased is exactly what the lease rows hold, and never more than the balance. */
    static void assertLeasesAccountedFor(long accountId, String context) {
        assertThat(leased(accountId)).as(context + ": wallets.leased = Σ lease rows").isEqualTo(leaseRows(accountId));
        assertThat(leased(accountId)).as(context + ": leased within the balance").isBetween(0L, balance(accountId));
    }

    @Test
    void aCrashedNodesLeasesGoBackToTheirAccountsWhileALiveNodesLeaseStays() {
        long shared = account(1_000);
        long other = account(500);
        String crashed = node();
        String secondCrashed = node();
        String live = node();
        assertThat(await(ledger.lease(crashed, shared, 400, 1, TTL))).isEqualTo(400);
        assertThat(await(ledger.lease(secondCrashed, shared, 100, 1, TTL))).isEqualTo(100);
        assertThat(await(ledger.lease(crashed, other, 500, 1, TTL))).isEqualTo(500);
        assertThat(await(ledger.lease(live, shared, 300, 1, TTL))).isEqualTo(300);
        assertThat(leased(shared)).isEqualTo(800);
        crash(crashed);
        crash(secondCrashed);

        assertThat(await(ledger.sweepExpired())).as("accounts released").isEqualTo(2);

        assertThat(leaseOf(crashed, shared)).isEqualTo(-1);
        assertThat(leaseOf(secondCrashed, shared)).isEqualTo(-1);
        assertThat(leaseOf(crashed, other)).isEqualTo(-1);
        assertThat(leaseOf(live, shared)).isEqualTo(300);
        assertThat(leased(shared)).isEqualTo(300);
        assertThat(leased(other)).isZero();
        assertThat(balance(shared)).isEqualTo(1_000);
        assertLeasesAccountedFor(shared, "after the sweep");
        assertLeasesAccountedFor(other, "after the sweep");

        assertThat(await(ledger.sweepExpired())).as("a second sweep finds nothing").isZero();
        assertThat(leased(shared)).isEqualTo(300);
        assertThat(await(ledger.lease(node(), shared, 10_000, 1, TTL))).as("the recovered credit is free again")
                .isEqualTo(700);
    }

    @Test
    void aLeaseNeverGrantsMoreThanTheFreeCreditAndNothingWhenLessThanNeedIsFree() {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        long accountId = account(random.nextInt(5_000) + 1);
        List<String> nodes = List.of(node(), node(), node());
        Map<String, Long> held = new HashMap<>(Map.of(nodes.get(0), 0L, nodes.get(1), 0L, nodes.get(2), 0L));
        for (int step = 0; step < 120; step++) {
            String context = "seed " + seed + ", step " + step;
            String node = nodes.get(random.nextInt(nodes.size()));
            long free = balance(accountId) - leased(accountId);
            switch (random.nextInt(4)) {
                case 0, 1 -> {
                    long want = 1 + random.nextInt(3_000);
                    long need = 1 + random.nextInt((int) Math.min(want, 3_000));
                    long granted = await(ledger.lease(node, accountId, want, need, TTL));
                    long expected = free >= need && free > 0 ? Math.min(want, free) : 0;
                    assertThat(granted).as(context + ": lease(want " + want + ", need " + need + ") with " + free
                            + " free").isEqualTo(expected);
                    held.merge(node, granted, Long::sum);
                }
                case 2 -> {
                    long amount = random.nextInt((int) (long) held.get(node) + 1);
                    await(ledger.release(node, accountId, amount));
                    held.merge(node, -amount, Long::sum);
                }
                default -> await(ledger.grant(accountId, 1 + random.nextInt(2_000), "top-up",
                        "test:" + UUID.randomUUID()));
            }
            for (String n : nodes) {
                assertThat(Math.max(0, leaseOf(n, accountId))).as(context + ": lease row of " + n)
                        .isEqualTo(held.get(n));
            }
            assertLeasesAccountedFor(accountId, context);
        }
    }

    @Test
    void fiftyConcurrentLeasesOfOneAccountTogetherLeaseExactlyTheBalanceAndNeverMore() {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        long accountId = account(20_000);
        List<String> nodes = List.of(node(), node(), node(), node(), node());
        List<Future<Long>> leases = new ArrayList<>();
        long wanted = 0;
        for (int i = 0; i < 50; i++) {
            long want = 200 + random.nextInt(1_500);
            wanted += want;
            leases.add(ledger.lease(nodes.get(i % nodes.size()), accountId, want, 1, TTL));
        }
        await(Future.all(leases));
        long granted = leases.stream().mapToLong(Future::result).sum();

        assertThat(wanted).as("seed " + seed + ": the leases ask for more than the balance").isGreaterThan(20_000);
        assertThat(granted).as("seed " + seed + ": Σ granted").isEqualTo(20_000);
        assertThat(leased(accountId)).isEqualTo(20_000);
        assertLeasesAccountedFor(accountId, "seed " + seed);
    }

    @Test
    void concurrentLeasesThatEachNeedMoreThanIsLeftAreRefusedWithoutOverleasing() {
        long accountId = account(10_000);
        List<Future<Long>> leases = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            leases.add(ledger.lease(node(), accountId, 3_000, 3_000, TTL));
        }
        await(Future.all(leases));
        List<Long> granted = leases.stream().map(Future::result).toList();

        assertThat(granted).as("each lease is all of what it wants or nothing").allMatch(g -> g == 0 || g == 3_000);
        assertThat(granted.stream().filter(g -> g == 3_000).count()).isEqualTo(3);
        assertThat(leased(accountId)).isEqualTo(9_000);
        assertLeasesAccountedFor(accountId, "after 50 leases of 3000");
    }

    @Test
    void releaseAllReturnsEveryLeaseOfTheNodeAndNoOtherNodes() {
        long first = account(1_000);
        long second = account(2_000);
        long third = account(3_000);
        String stopping = node();
        String staying = node();
        await(ledger.lease(stopping, first, 600, 1, TTL));
        await(ledger.lease(stopping, second, 2_000, 1, TTL));
        await(ledger.lease(stopping, third, 1, 1, TTL));
        await(ledger.lease(staying, first, 250, 1, TTL));

        await(ledger.releaseAll(stopping));

        assertThat(sql("SELECT 1 FROM leases WHERE node_id = $1", stopping).size()).isZero();
        assertThat(leased(first)).isEqualTo(250);
        assertThat(leased(second)).isZero();
        assertThat(leased(third)).isZero();
        assertThat(leaseOf(staying, first)).isEqualTo(250);
        for (long accountId : List.of(first, second, third)) {
            assertLeasesAccountedFor(accountId, "account " + accountId);
        }
        await(ledger.releaseAll(stopping));
        assertThat(leased(first)).as("releasing twice changes nothing").isEqualTo(250);
    }

    @Test
    void aHeartbeatRenewsAndReportsOnlyTheAccountsWhoseLeaseRowsStillExist() {
        long kept = account(1_000);
        long lost = account(1_000);
        String node = node();
        await(ledger.lease(node, kept, 100, 1, 5));
        await(ledger.lease(node, lost, 100, 1, 5));
        sql("UPDATE leases SET expires_at = now() - interval '1 second' WHERE node_id = $1 AND account_id = $2",
                node, lost);
        assertThat(await(ledger.sweepExpired())).isEqualTo(1);

        List<Long> renewed = await(ledger.heartbeat(node, TTL));

        assertThat(renewed).containsExactly(kept);
        long secondsLeft = single("SELECT extract(epoch FROM expires_at - now())::bigint FROM leases "
                + "WHERE node_id = $1 AND account_id = $2", node, kept);
        assertThat(secondsLeft).as("renewed to the new TTL").isBetween(TTL - 5L, (long) TTL);
        assertThat(await(ledger.heartbeat(node(), TTL))).as("a node without leases").isEmpty();
        assertThat(leased(lost)).isZero();
        assertLeasesAccountedFor(kept, "after the heartbeat");
    }
}
