package co.corouter.server.billing;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.plugin.api.payment.Money;
import co.corouter.plugin.api.payment.PaymentEvent;
import co.corouter.server.billing.BillingContract.Collected;
import co.corouter.server.billing.BillingContract.Movement;
import co.corouter.server.billing.BillingContract.Settlement;
import co.corouter.server.billing.BillingContract.UsageCharge;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.payments.OrderBook;
import co.corouter.server.payments.OrderBook.Applied;
import co.corouter.server.storage.Database;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Random sequences of everything that moves money — grants, top-ups (re-delivered, mismatched, paid late), usage
 * charges, refunds and disputes (full, partial, before their payment), cancelled reservations, lease expiry, node
 * crashes and restarts, operator settlement — run against the real {@link LedgerRepository} and {@link OrderBook} on
 * a real PostgreSQL of its own (sweeping expired leases is global). After every step one query reads the account's
 * books, and they must balance and agree with {@link Model}, a plain-Java statement of what each movement should do.
 */
class MoneyPropertyTest {

    static final String PROCESSOR = "creem-property";
    static final String PRODUCT = "prod_credits";
    static final String USD = "USD";
    /** Long enough that no lease expires unless a step expires it. */
    static final int TTL = 3600;
    static final int NODE_SLOTS = 3;
    /**
     * Sequences run side by side in each try, each on its own account and thread, so the database and the test keep
     * both of a CI machine's cores busy: 2,500 tries are 10,000 sequences.
     */
    static final int SEQUENCES_PER_TRY = 4;

    static Path dataDir;
    static Database database;
    static Vertx vertx;
    static Pool pool;
    /** The checks' own connections, where their one statement is planned once, with the account as a parameter. */
    static Pool checks;
    static ExecutorService sequences;
    static LedgerRepository ledger;
    static OrderBook orderBook;
    static final AtomicLong ids = new AtomicLong();
    static int triesStarted;

    @BeforeContainer
    static void startDatabase() throws IOException {
        dataDir = Files.createTempDirectory("corouter-money-pg");
        database = Database.embedded(dataDir.resolve("pg"));
        vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(2));
        // synchronous_commit only decides whether a commit waits for its WAL flush: what transactions see, their locks
        // and constraints stay the same. Cached statements (the check is long) are planned once, not per step
        PgConnectOptions connect = database.connectOptions().setCachePreparedStatements(true)
                .setPreparedStatementCacheSqlLimit(8192).addProperty("synchronous_commit", "off");
        // the embedded server's Unix socket, where there is one: a fifth less CPU per statement than loopback TCP
        if (vertx.isNativeTransportEnabled() && Files.exists(Path.of("/tmp/.s.PGSQL." + connect.getPort()))) {
            connect.setHost("/tmp");
        }
        pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(2 * SEQUENCES_PER_TRY)).connectingTo(connect)
                .using(vertx).build();
        checks = PgBuilder.pool().with(new PoolOptions().setMaxSize(SEQUENCES_PER_TRY))
                .connectingTo(new PgConnectOptions(connect).addProperty("plan_cache_mode", "force_generic_plan"))
                .using(vertx).build();
        // the product never reads entries by transaction (a BRIN index serves its backstop trigger); the per-step
        // check does, and without an index it would scan every sequence's entries
        sql("CREATE INDEX ledger_entries_txn_lookup ON ledger_entries (txn_id)");
        ledger = new LedgerRepository(pool);
        orderBook = new OrderBook(pool, ledger);
        sequences = Executors.newFixedThreadPool(SEQUENCES_PER_TRY, runnable -> {
            Thread thread = new Thread(runnable, "money-sequence");
            thread.setDaemon(true);
            return thread;
        });
    }

    @AfterContainer
    static void stopDatabase() throws Exception {
        if (sequences != null) {
            sequences.shutdownNow();
        }
        if (checks != null) {
            await(checks.close());
        }
        if (pool != null) {
            await(pool.close());
        }
        if (vertx != null) {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        if (database != null) {
            database.close();
        }
        if (dataDir != null) {
            try (var paths = Files.walk(dataDir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    /**
     * Shrinking is off: shrinking a batch of sequences of mixed steps can run for many minutes in jqwik's distance
     * sorting before its time bound applies. A failure names the account, the step and its sequence, and the seed
     * replays the try.
     */
    @Property(tries = 10_000 / SEQUENCES_PER_TRY, shrinking = ShrinkingMode.OFF, edgeCases = EdgeCasesMode.NONE)
    void everyStepOfEverySequenceKeepsTheBooksBalancedAndAsSpecified(@ForAll("batches") List<Sequence> batch)
            throws InterruptedException {
        triesStarted++;
        if (triesStarted == 25 || triesStarted % 250 == 0) {
            // the statistics autovacuum would keep on a live database: without them plans made while the tables were
            // empty (the ledger trigger's, the check's) scan whole tables, and each try costs more than the last
            sql("ANALYZE ledger_transactions, ledger_entries, payment_orders, payment_events, wallets, leases");
        }
        List<java.util.concurrent.Future<Books>> running = new ArrayList<>();
        for (Sequence sequence : batch) {
            running.add(sequences.submit(sequence::run));
        }
        List<Books> finished = new ArrayList<>();
        for (int i = 0; i < running.size(); i++) {
            Books books;
            try {
                books = running.get(i).get();
            } catch (ExecutionException e) {
                if (e.getCause() instanceof AssertionError failed) {
                    throw new AssertionError("sequence " + (i + 1) + " of the try: " + failed.getMessage(), failed);
                }
                throw new IllegalStateException("sequence " + (i + 1) + " of the try failed: " + e.getCause(),
                        e.getCause());
            }
            finished.add(books);
            List<Step> steps = batch.get(i).steps();
            steps.forEach(step -> Statistics.label("steps").collect(step.getClass().getSimpleName()));
            Statistics.label("sequence length").collect(steps.size());
            books.paths.forEach(path -> Statistics.label("paths").collect(path));
        }
        everyLeaseExpires(finished);
    }

    /**
     * The end of a try: every node of its sequences, live or crashed, stops renewing, and one sweep gives all their
     * leases back; then each account's books are checked once more. No lease outlives its try.
     */
    static void everyLeaseExpires(List<Books> finished) {
        List<String> nodes = new ArrayList<>();
        int expected = 0;
        for (Books books : finished) {
            List<String> own = new ArrayList<>(books.crashed);
            own.addAll(List.of(books.nodes));
            nodes.addAll(own);
            expected += books.model.expire(own);
        }
        sql("UPDATE leases SET expires_at = now() - interval '1 second' WHERE node_id = ANY ($1::text[])",
                (Object) nodes.toArray(String[]::new));
        assertThat(await(ledger.sweepExpired())).as("wallets the final sweep gave credit back to").isEqualTo(expected);
        for (Books books : finished) {
            books.check("after every lease of the try expired");
        }
    }

    /** A fresh account with {@code openingCredit} granted (none when 0) and the steps run against it. */
    record Sequence(long openingCredit, List<Step> steps) {

        /** Runs every step, checking the books after each; returns them for the statistics. */
        Books run() {
            Books books = new Books();
            if (openingCredit > 0) {
                new Grant(openingCredit, false).run(books);
                books.check("after the opening grant");
            }
            for (int i = 0; i < steps.size(); i++) {
                try {
                    steps.get(i).run(books);
                } catch (AssertionError failed) {
                    throw new AssertionError("account " + books.account + ", in step " + (i + 1) + " of "
                            + steps.size() + " (" + steps.get(i) + "): " + failed.getMessage(), failed);
                }
                books.check(new After(i, steps));
            }
            return books;
        }
    }

    /** Names an account and a moment in a failure message, built only when one is reported. */
    record Moment(long account, Object moment) {
        @Override
        public String toString() {
            return "account " + account + ", " + moment;
        }
    }

    /** Names a step in a failure message, built only when one is reported. */
    record After(int index, List<Step> steps) {
        @Override
        public String toString() {
            return "after step " + (index + 1) + " of " + steps.size() + " (" + steps.get(index) + ")";
        }
    }

    // ------------------------------------------------------------------------------------------------ the model

    /**
     * What the books of one account should say, written from the rules rather than from the SQL: credit comes in by
     * grant and top-up; a node may lease only unleased credit of a wallet that is not frozen and charges against its
     * lease; a charge the balance cannot cover without breaking another node's lease is refused whole; a refund or
     * dispute claws back the order's credits in proportion to the amount reversed, never more than the order credited,
     * takes what is neither spent nor leased and leaves the rest owed with the wallet frozen; settling collects debt
     * from unleased credit and unfreezes once nothing is owed.
     */
    static final class Model {
        boolean wallet;
        long balance;
        long owed;
        boolean frozen;
        final TreeMap<String, Long> leases = new TreeMap<>();
        final TreeMap<String, OrderModel> orders = new TreeMap<>();
        long granted;
        long toppedUp;
        long charged;
        long clawedBack;
        long writtenOff;

        long leased() {
            return leases.values().stream().mapToLong(Long::longValue).sum();
        }

        long unleased() {
            return balance - leased();
        }

        void grant(long amount) {
            wallet = true;
            balance += amount;
            granted += amount;
        }

        long lease(String node, long want, long need) {
            long free = unleased();
            if (!wallet || frozen || free <= 0 || free < need) {
                return 0;
            }
            long amount = Math.min(want, free);
            leases.merge(node, amount, Long::sum);
            return amount;
        }

        /** Whether the ledger takes the charge; when it does, the node's lease shrinks by at most what it holds. */
        boolean charge(String node, long amount) {
            long cut = Math.min(leases.getOrDefault(node, 0L), amount);
            long balanceAfter = balance - amount;
            if (!wallet || balanceAfter < 0 || leased() - cut > balanceAfter) {
                return false;
            }
            balance = balanceAfter;
            charged += amount;
            leases.computeIfPresent(node, (n, held) -> held - cut);
            return true;
        }

        void release(String node, long amount) {
            leases.computeIfPresent(node, (n, held) -> held - Math.min(held, amount));
        }

        /** Removes the leases of {@code nodes}; returns how many wallets got credit back (0 or 1: one account). */
        int expire(List<String> nodes) {
            boolean any = false;
            for (String node : nodes) {
                any |= leases.remove(node) != null;
            }
            return any ? 1 : 0;
        }

        OrderModel open(String id, long credits, long priceMinor) {
            OrderModel order = new OrderModel(id, credits, priceMinor);
            orders.put(id, order);
            return order;
        }

        /** A matching payment: credits a pending or expired order once, then applies what was deferred, in order. */
        Paid pay(OrderModel order) {
            if (!order.state.equals("pending") && !order.state.equals("expired")) {
                return new Paid("already_paid", 0, 0, 0);
            }
            order.state = "paid";
            wallet = true;
            balance += order.credits;
            toppedUp += order.credits;
            long taken = 0;
            long debt = 0;
            for (Reversal reversal : order.deferred) {
                Claw claw = clawBack(order, reversal.minor(), reversal.paidMinor());
                taken += claw.taken();
                debt += claw.owed();
            }
            order.deferred.clear();
            return new Paid("credited", order.credits, taken, debt);
        }

        /** A refund or dispute: deferred until the order is paid, then clawed back. */
        Claw reverse(OrderModel order, long minor, Long paidMinor) {
            if (order.state.equals("pending") || order.state.equals("expired")) {
                order.deferred.add(new Reversal(minor, paidMinor));
                return new Claw("deferred", 0, 0);
            }
            return clawBack(order, minor, paidMinor);
        }

        private Claw clawBack(OrderModel order, long minor, Long paidMinor) {
            long basis = paidMinor != null && paidMinor > 0 ? paidMinor : order.priceMinor;
            long share = Math.min(Math.multiplyExact(order.credits, minor) / basis, order.credits);
            long claim = Math.min(share, order.credits - order.clawedBack);
            if (claim <= 0) {
                return new Claw("nothing_left", 0, 0);
            }
            long taken = Math.min(claim, unleased());
            balance -= taken;
            clawedBack += taken;
            owed += claim - taken;
            frozen |= claim > taken;
            order.clawedBack += claim;
            if (order.clawedBack == order.credits) {
                order.state = "refunded";
            }
            return new Claw("clawed_back", taken, claim - taken);
        }

        Settlement settle(boolean writeOff) {
            long before = owed;
            long take = Math.max(Math.min(owed, unleased()), 0);
            balance -= take;
            clawedBack += take;
            long remaining = writeOff ? 0 : owed - take;
            writtenOff += owed - take - remaining;
            owed = remaining;
            frozen &= remaining > 0;
            return new Settlement(before, take, remaining, frozen);
        }
    }

    static final class OrderModel {
        final String id;
        final long credits;
        final long priceMinor;
        String state = "pending";
        long clawedBack;
        final List<Reversal> deferred = new ArrayList<>();

        OrderModel(String id, long credits, long priceMinor) {
            this.id = id;
            this.credits = credits;
            this.priceMinor = priceMinor;
        }
    }

    record Reversal(long minor, Long paidMinor) {
    }

    record Claw(String outcome, long taken, long owed) {
    }

    record Paid(String outcome, long credited, long taken, long owed) {
    }

    // ------------------------------------------------------------------------------------------------ the world

    /** One sequence's account, its nodes as each believes itself to be, and the model of its books. */
    static final class Books {
        final long account = single("INSERT INTO accounts (name) VALUES ($1) RETURNING id", "money-" + next());
        final Model model = new Model();
        final String[] nodes = new String[NODE_SLOTS];
        /** What each node believes it may still charge: its leases less its charges and releases. */
        final Map<String, Long> held = new HashMap<>();
        /** Nodes that crashed: their leases stay until expired and swept. */
        final List<String> crashed = new ArrayList<>();
        final List<String> paths = new ArrayList<>();
        String lastGrantKey;
        long lastGrantAmount;
        UsageCharge lastCharge;
        String lastChargeNode;

        Books() {
            for (int i = 0; i < NODE_SLOTS; i++) {
                nodes[i] = "node-" + next();
            }
        }

        long held(String node) {
            return held.getOrDefault(node, 0L);
        }

        void path(String path) {
            paths.add(path);
        }

        /** One of the live nodes that believe they hold credit, or null when none does. */
        String holding(int index) {
            List<String> holders = java.util.Arrays.stream(nodes).filter(node -> held(node) > 0).toList();
            return holders.isEmpty() ? null : holders.get(index % holders.size());
        }

        /** One of the live nodes with a lease row, or the slot's node when none has. */
        String leaseHolder(int index) {
            List<String> holders = java.util.Arrays.stream(nodes).filter(model.leases::containsKey).toList();
            return holders.isEmpty() ? nodes[index] : holders.get(index % holders.size());
        }

        OrderModel pick(int index, boolean unpaidOnly) {
            List<OrderModel> candidates = model.orders.values().stream()
                    .filter(o -> !unpaidOnly || o.state.equals("pending") || o.state.equals("expired")).toList();
            return candidates.isEmpty() ? null : candidates.get(index % candidates.size());
        }

        /** Every invariant, from one read of the account's books; {@code after} names the moment when one fails. */
        void check(Object moment) {
            Object after = new Moment(account, moment);
            Row row = await(checks.preparedQuery(BOOKS).execute(Tuple.of(account))).iterator().next();
            boolean wallet = row.getInteger("wallets") == 1;
            long balance = wallet ? row.getLong("balance") : 0;
            long leased = wallet ? row.getLong("leased") : 0;
            long owed = wallet ? row.getLong("owed") : 0;
            boolean frozen = wallet && row.getBoolean("frozen");
            long granted = row.getLong("granted");
            long toppedUp = row.getLong("topped_up");
            long charged = row.getLong("charged");
            long clawedBack = row.getLong("clawed_back");

            assertThat(row.getInteger("unbalanced")).as("%s: ledger transactions whose entries do not sum to "
                    + "zero or whose customer entry is not the transaction's amount", after).isZero();
            assertThat(balance).as("%s: wallet balance = Σ customer entries", after)
                    .isEqualTo(row.getLong("customer_entries"));
            assertThat(balance).as("%s: balance = grants + top-ups − charges − claw-backs", after)
                    .isEqualTo(granted + toppedUp - charged - clawedBack);
            assertThat(balance).as("%s: balance ≥ 0", after).isNotNegative();
            assertThat(leased).as("%s: wallets.leased = Σ lease rows", after).isEqualTo(row.getLong("lease_rows"));
            assertThat(leased).as("%s: leased ≤ balance", after).isBetween(0L, balance);
            assertThat(row.getInteger("max_topups_per_order")).as("%s: an order is credited at most once", after)
                    .isLessThanOrEqualTo(1);
            assertThat(row.getInteger("bad_orders")).as("%s: orders clawed back beyond their credits, or "
                    + "credited other than exactly once when paid or refunded", after).isZero();
            assertThat(frozen).as("%s: a wallet is frozen exactly while it owes", after).isEqualTo(owed > 0);
            assertThat(row.getLong("order_claims")).as("%s: what orders clawed back = claw-backs taken + owed "
                    + "+ written off", after).isEqualTo(clawedBack + owed + model.writtenOff);

            assertThat(wallet).as("%s: wallet exists", after).isEqualTo(model.wallet);
            assertThat(new long[] {balance, leased, owed, granted, toppedUp, charged, clawedBack})
                    .as("%s: balance, leased, owed, granted, topped up, charged, clawed back as the model says", after)
                    .containsExactly(model.balance, model.leased(), model.owed, model.granted, model.toppedUp,
                            model.charged, model.clawedBack);
            assertThat(frozen).as("%s: frozen as the model says", after).isEqualTo(model.frozen);
            assertThat(row.getString("leases")).as("%s: lease rows per node", after).isEqualTo(
                    model.leases.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                            .collect(Collectors.joining(",")));
            assertThat(row.getString("orders")).as("%s: orders' state and claw-backs", after).isEqualTo(
                    model.orders.values().stream().map(o -> o.id + ":" + o.state + ":" + o.clawedBack)
                            .collect(Collectors.joining(",")));
        }
    }

    /**
     * The account's books in one statement. Every transaction touched by a sequence is its account's (a customer entry
     * must name its own transaction's account), so checking the account's transactions checks every one it touched.
     */
    static final String BOOKS = """
            WITH txn AS MATERIALIZED (
                SELECT t.id, t.kind, t.amount, t.order_id, count(e.txn_id) AS entries,
                       coalesce(sum(e.amount), 0) AS net,
                       coalesce(sum(e.amount) FILTER (WHERE e.book = 'customer' AND e.account_id = $1), 0) AS customer
                FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.txn_id = t.id
                WHERE t.account_id = $1
                GROUP BY t.id
            ), txns AS (
                SELECT count(*) FILTER (WHERE net <> 0 OR entries <> 2 OR customer <> CASE
                           WHEN kind IN ('grant', 'topup', 'adjustment') THEN amount ELSE -amount END)::int
                           AS unbalanced,
                       coalesce(sum(amount) FILTER (WHERE kind = 'grant'), 0)::bigint AS granted,
                       coalesce(sum(amount) FILTER (WHERE kind = 'topup'), 0)::bigint AS topped_up,
                       coalesce(sum(amount) FILTER (WHERE kind = 'charge'), 0)::bigint AS charged,
                       coalesce(sum(amount) FILTER (WHERE kind = 'refund'), 0)::bigint AS clawed_back
                FROM txn
            ), per_order AS (
                SELECT o.id, o.state, o.credits, o.clawed_back, count(t.id) AS topups,
                       coalesce(sum(t.amount), 0) AS credited
                FROM payment_orders o LEFT JOIN txn t ON t.order_id = o.id AND t.kind = 'topup'
                WHERE o.account_id = $1
                GROUP BY o.id
            ), orders AS (
                SELECT coalesce(max(topups), 0)::int AS max_topups_per_order,
                       count(*) FILTER (WHERE clawed_back > credits
                                           OR topups <> CASE WHEN state IN ('paid', 'refunded') THEN 1 ELSE 0 END
                                           OR (topups = 1 AND credited <> credits))::int AS bad_orders,
                       coalesce(sum(clawed_back), 0)::bigint AS order_claims,
                       coalesce(string_agg(id || ':' || state || ':' || clawed_back, ',' ORDER BY id COLLATE "C"), '')
                           AS orders
                FROM per_order
            ), leases AS (
                SELECT coalesce(sum(amount), 0)::bigint AS lease_rows,
                       coalesce(string_agg(node_id || '=' || amount, ',' ORDER BY node_id COLLATE "C"), '') AS leases
                FROM leases WHERE account_id = $1
            )
            SELECT (w.account_id IS NOT NULL)::int AS wallets, w.balance, w.leased, w.owed,
                   w.frozen_at IS NOT NULL AS frozen,
                   (SELECT coalesce(sum(amount), 0) FROM ledger_entries
                    WHERE book = 'customer' AND account_id = $1)::bigint AS customer_entries,
                   txns.*, orders.*, leases.*
            FROM txns CROSS JOIN orders CROSS JOIN leases LEFT JOIN wallets w ON w.account_id = $1""";

    // ------------------------------------------------------------------------------------------------ the steps

    /** One action of a sequence: a real call against the database, the model's expectation and its check. */
    sealed interface Step {
        void run(Books books);
    }

    /** Operator credit; {@code replay} re-sends the previous grant's idempotency key, which must change nothing. */
    record Grant(long amount, boolean replay) implements Step {
        @Override
        public void run(Books books) {
            if (replay && books.lastGrantKey != null) {
                Movement movement = await(ledger.grant(books.account, books.lastGrantAmount, "property grant",
                        books.lastGrantKey));
                assertThat(movement.replayed()).as("a replayed grant is recognised").isTrue();
                assertThat(movement.balance()).isEqualTo(books.model.balance);
                books.path("grant replayed");
                return;
            }
            String key = "grant:" + next();
            Movement movement = await(ledger.grant(books.account, amount, "property grant", key));
            books.model.grant(amount);
            assertThat(movement.replayed()).isFalse();
            assertThat(movement.balance()).as("balance after the grant").isEqualTo(books.model.balance);
            books.lastGrantKey = key;
            books.lastGrantAmount = amount;
        }
    }

    enum Delivery { PAID, REDELIVERED, PAID_TWICE, MISMATCHED, MISMATCHED_THEN_PAID, NOT_YET_PAID }

    /** A new order and what its processor sends for it. */
    record TopUp(long credits, long priceMinor, Delivery delivery) implements Step {
        @Override
        public void run(Books books) {
            String id = "ord_" + next();
            await(orderBook.insert(new OrderBook.Order(id, books.account, PROCESSOR, "offer", PRODUCT, 1, priceMinor,
                    USD, credits, "pending", null, null, null, 0, null, null)));
            OrderModel order = books.model.open(id, credits, priceMinor);
            switch (delivery) {
                case PAID -> pay(books, order, payment(order, priceMinor));
                case REDELIVERED -> {
                    PaymentEvent event = payment(order, priceMinor);
                    pay(books, order, event);
                    assertThat(apply(event).outcome()).as("a re-delivered payment").isEqualTo("duplicate");
                }
                case PAID_TWICE -> {
                    pay(books, order, payment(order, priceMinor));
                    pay(books, order, payment(order, priceMinor));
                }
                case MISMATCHED -> mismatch(order);
                case MISMATCHED_THEN_PAID -> {
                    mismatch(order);
                    pay(books, order, payment(order, priceMinor));
                }
                case NOT_YET_PAID -> {
                }
            }
        }

        private void mismatch(OrderModel order) {
            Applied applied = apply(payment(order, priceMinor + 1));
            assertThat(applied.outcome()).as("a payment of another amount").isEqualTo("mismatch");
            assertThat(applied.moved()).isFalse();
        }
    }

    /**
     * A payment that arrives for an order still unpaid (a new one when the account has none), maybe after its
     * checkout expired.
     */
    record PayLate(int pick, boolean expireFirst, long creditsIfNoOrder) implements Step {
        @Override
        public void run(Books books) {
            OrderModel order = books.pick(pick, true);
            if (order == null) {
                new TopUp(creditsIfNoOrder, 1 + creditsIfNoOrder / 3, Delivery.NOT_YET_PAID).run(books);
                order = books.pick(0, true);
            }
            if (expireFirst && order.state.equals("pending")) {
                assertThat(await(orderBook.expire(order.id))).isTrue();
                order.state = "expired";
                books.path("paid after its checkout expired");
            }
            if (!order.deferred.isEmpty()) {
                books.path("deferred reversals applied by the payment");
            }
            pay(books, order, payment(order, order.priceMinor));
        }
    }

    enum Reversing { ONCE, REDELIVERED, OTHER_CURRENCY }

    /**
     * A refund or dispute of {@code percent} of what the order cost ({@code taxPercent} on top when the event says
     * what was paid), of any order, paid or not (a new unpaid one when the account has none).
     */
    record Reverse(int pick, PaymentEvent.Type type, int percent, boolean saysPaid, int taxPercent,
                   Reversing reversing, long creditsIfNoOrder) implements Step {
        @Override
        public void run(Books books) {
            OrderModel order = books.pick(pick, false);
            if (order == null) {
                new TopUp(creditsIfNoOrder, 1 + creditsIfNoOrder / 3, Delivery.NOT_YET_PAID).run(books);
                order = books.pick(0, false);
            }
            Long paidMinor = saysPaid ? order.priceMinor + order.priceMinor * taxPercent / 100 : null;
            long basis = paidMinor == null ? order.priceMinor : paidMinor;
            long minor = Math.max(1, basis * percent / 100);
            String currency = reversing == Reversing.OTHER_CURRENCY ? "EUR" : USD;
            String rawType = type.name().toLowerCase(java.util.Locale.ROOT) + ".created";
            PaymentEvent event = new PaymentEvent(eventId(), type, rawType, order.id, null, null, null, PRODUCT, 1,
                    Money.of(minor, currency), paidMinor == null ? null : Money.of(paidMinor, currency), Instant.now());
            Applied applied = apply(event);
            if (reversing == Reversing.OTHER_CURRENCY) {
                assertThat(applied.outcome()).as("a reversal in another currency").isEqualTo("mismatch");
                assertThat(applied.moved()).isFalse();
                return;
            }
            Claw claw = books.model.reverse(order, minor, paidMinor);
            books.path(claw.outcome() + (claw.owed() > 0 ? " with debt" : ""));
            assertThat(applied.outcome()).as("outcome of the " + type).isEqualTo(claw.outcome());
            assertThat(new long[] {applied.clawedBack(), applied.owed()}).as("taken and owed")
                    .containsExactly(claw.taken(), claw.owed());
            if (claw.outcome().equals("clawed_back")) {
                assertThat(applied.frozen()).as("frozen after the claw-back").isEqualTo(books.model.frozen);
                assertThat(applied.orderState()).isEqualTo(order.state);
            }
            if (reversing == Reversing.REDELIVERED) {
                assertThat(apply(event).outcome()).as("a re-delivered " + type).isEqualTo("duplicate");
            }
        }
    }

    /** A node leases up to {@code want} of the account's credit if at least {@code needPercent} of it is free. */
    record Lease(int slot, long want, int needPercent) implements Step {
        @Override
        public void run(Books books) {
            lease(books, books.nodes[slot], want, want * needPercent / 100);
        }
    }

    static long lease(Books books, String node, long want, long need) {
        long granted = await(ledger.lease(node, books.account, want, need, TTL));
        long expected = books.model.lease(node, want, need);
        if (expected == 0 && books.model.frozen) {
            books.path("lease refused: frozen");
        }
        assertThat(granted).as("leased").isEqualTo(expected);
        books.held.merge(node, granted, Long::sum);
        return granted;
    }

    /** A live node that believes it holds credit, else the slot's node once it leased up to {@code want}, else null. */
    static String holderOrLease(Books books, int slot, long want) {
        String node = books.holding(slot);
        if (node != null) {
            return node;
        }
        return lease(books, books.nodes[slot], want, 1) > 0 ? books.nodes[slot] : null;
    }

    /**
     * A usage batch charging {@code percent} of what a node believes it holds (a node with nothing leases first, as a
     * request would); {@code replay}: a node re-sends its last committed batch, whose idempotency key the ledger
     * must refuse.
     */
    record Charge(int slot, int percent, boolean replay, long leaseIfNone) implements Step {
        @Override
        public void run(Books books) {
            if (replay && books.lastCharge != null) {
                Throwable refused = failure(pool.withTransaction(tx -> ledger.collect(tx, books.lastChargeNode,
                        List.of(books.lastCharge))));
                assertThat(sqlState(refused)).as("a replayed batch's charge").isEqualTo("23505");
                books.path("charge replay refused");
                return;
            }
            String node = holderOrLease(books, slot, leaseIfNone);
            if (node == null) {
                books.path("nothing to lease for a charge");
                return;
            }
            long held = books.held(node);
            long amount = Math.max(1, held * percent / 100);
            UsageCharge charge = new UsageCharge(books.account, amount, 1 + percent % 7, "charge:" + next());
            books.held.put(node, held - amount);
            boolean takes = books.model.charge(node, amount);
            Future<Map<Long, Collected>> collected = pool.withTransaction(tx -> ledger.collect(tx, node,
                    List.of(charge)));
            if (takes) {
                assertThat(await(collected).get(books.account).balance()).as("balance after the charge")
                        .isEqualTo(books.model.balance);
                books.lastCharge = charge;
                books.lastChargeNode = node;
            } else {
                assertThat(sqlState(failure(collected))).as("a charge the balance cannot cover").isEqualTo("23514");
                books.path("charge refused by the ledger");
            }
        }
    }

    /** Reservations that ended without cost: a node gives back {@code percent} of what it holds (leasing first). */
    record Cancel(int slot, int percent, long leaseIfNone) implements Step {
        @Override
        public void run(Books books) {
            String node = holderOrLease(books, slot, leaseIfNone);
            if (node == null) {
                books.path("nothing to lease for a reservation");
                return;
            }
            long held = books.held(node);
            long amount = Math.max(1, held * percent / 100);
            await(ledger.release(node, books.account, amount));
            books.model.release(node, amount);
            books.held.put(node, held - amount);
        }
    }

    /**
     * The TTL passes for a live node's leases (one too slow to renew: it still believes it holds them) or for those
     * of every crashed node, and a sweeper runs.
     */
    record ExpireLeases(int slot, boolean ofCrashedNodes) implements Step {
        @Override
        public void run(Books books) {
            List<String> nodes = ofCrashedNodes ? List.copyOf(books.crashed) : List.of(books.leaseHolder(slot));
            if (expire(books, nodes)) {
                books.path(ofCrashedNodes ? "crashed node's lease swept" : "live node's lease swept");
            }
        }
    }

    /**
     * The TTL of {@code nodes}' leases passes and a sweeper runs; returns whether it swept any. One sequence at a time
     * (sweeping is global): each sweep finds exactly the leases its sequence let expire.
     */
    static boolean expire(Books books, List<String> nodes) {
        int swept;
        synchronized (MoneyPropertyTest.class) {
            sql("UPDATE leases SET expires_at = now() - interval '1 second' WHERE node_id = ANY ($1::text[])",
                    (Object) nodes.toArray(String[]::new));
            swept = await(ledger.sweepExpired());
        }
        int expected = books.model.expire(nodes);
        assertThat(swept).as("wallets the sweep gave credit back to").isEqualTo(expected);
        return expected > 0;
    }

    /**
     * A node too slow to renew is taken over: its lease expires and is swept, and another node leases up to
     * {@code want} of what is free — while the slow node still believes it holds its lease and may charge against it.
     */
    record Takeover(int slot, long want) implements Step {
        @Override
        public void run(Books books) {
            String slow = books.leaseHolder(slot);
            if (expire(books, List.of(slow))) {
                books.path("lease taken over");
            }
            int other = (java.util.Arrays.asList(books.nodes).indexOf(slow) + 1) % NODE_SLOTS;
            lease(books, books.nodes[other], want, 1);
        }
    }

    /** A node dies without releasing anything; its slot is taken by a new node. */
    record Crash(int slot) implements Step {
        @Override
        public void run(Books books) {
            books.crashed.add(books.nodes[slot]);
            books.nodes[slot] = "node-" + next();
        }
    }

    /** A node renews its leases and drops what it held where its lease row is gone. */
    record Heartbeat(int slot) implements Step {
        @Override
        public void run(Books books) {
            String node = books.nodes[slot];
            List<Long> renewed = await(ledger.heartbeat(node, TTL));
            boolean holds = books.model.leases.containsKey(node);
            assertThat(renewed).as("accounts whose lease rows the node still has")
                    .isEqualTo(holds ? List.of(books.account) : List.of());
            if (!holds) {
                books.held.remove(node);
            }
        }
    }

    /** A node stops gracefully, releasing all it leased; its slot is taken by a new node. */
    record Stop(int slot) implements Step {
        @Override
        public void run(Books books) {
            String node = books.nodes[slot];
            await(ledger.releaseAll(node));
            books.model.leases.remove(node);
            books.held.remove(node);
            books.nodes[slot] = "node-" + next();
        }
    }

    /** The operator settles the wallet, forgiving what it cannot collect when {@code writeOff}. */
    record Settle(boolean writeOff) implements Step {
        @Override
        public void run(Books books) {
            Future<Settlement> settled = ledger.settle(books.account, writeOff, "settle:" + next());
            if (!books.model.wallet) {
                Throwable refused = failure(settled);
                assertThat(refused).isInstanceOf(ApiException.class);
                assertThat(((ApiException) refused).code()).isEqualTo(ErrorCodes.NOT_FOUND);
                return;
            }
            if (books.model.owed > 0) {
                books.path(writeOff ? "debt settled with a write-off" : "debt settled");
            }
            assertThat(await(settled)).as("the settlement").isEqualTo(books.model.settle(writeOff));
        }
    }

    static PaymentEvent payment(OrderModel order, long minor) {
        return new PaymentEvent(eventId(), PaymentEvent.Type.PAYMENT, "checkout.completed", order.id, null, null,
                null, PRODUCT, 1, Money.of(minor, USD), null, Instant.now());
    }

    static void pay(Books books, OrderModel order, PaymentEvent event) {
        Applied applied = apply(event);
        Paid paid = books.model.pay(order);
        assertThat(applied.outcome()).as("outcome of the payment").isEqualTo(paid.outcome());
        assertThat(new long[] {applied.credited(), applied.clawedBack(), applied.owed()})
                .as("credited, and taken and owed by deferred reversals")
                .containsExactly(paid.credited(), paid.taken(), paid.owed());
    }

    static Applied apply(PaymentEvent event) {
        return await(orderBook.apply(PROCESSOR, event));
    }

    /** Event ids sort in the order they are made, as a processor's deferred events are applied. */
    static String eventId() {
        return String.format("evt_%012d", next());
    }

    // ------------------------------------------------------------------------------------------------ generators

    @Provide
    Arbitrary<List<Sequence>> batches() {
        // most accounts start with some credit, as a customer's does; some start with none
        Arbitrary<Long> openingCredit = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(1, Arbitraries.just(0L)),
                net.jqwik.api.Tuple.of(4, Arbitraries.longs().between(1, 2_000)));
        return Combinators.combine(openingCredit, steps()).as(Sequence::new).list().ofSize(SEQUENCES_PER_TRY);
    }

    Arbitrary<List<Step>> steps() {
        Arbitrary<Integer> slot = Arbitraries.integers().between(0, NODE_SLOTS - 1);
        Arbitrary<Integer> percent = Arbitraries.integers().between(1, 100);
        Arbitrary<Integer> pick = Arbitraries.integers().between(0, 7);
        Arbitrary<Step> grant = Combinators.combine(Arbitraries.longs().between(1, 1_000),
                Arbitraries.of(false, false, false, true)).as(Grant::new);
        Arbitrary<Step> topUp = Combinators.combine(Arbitraries.longs().between(1, 1_000),
                Arbitraries.longs().between(1, 500), Arbitraries.of(Delivery.class)).as(TopUp::new);
        Arbitrary<Step> payLate = Combinators.combine(pick, Arbitraries.of(false, true), Arbitraries.longs()
                .between(1, 1_000)).as(PayLate::new);
        Arbitrary<Step> reverse = Combinators.combine(pick,
                Arbitraries.of(PaymentEvent.Type.REFUND, PaymentEvent.Type.DISPUTE),
                Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(1, Arbitraries.just(100)),
                        net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(1, 150))),
                Arbitraries.of(false, true), Arbitraries.integers().between(0, 25),
                Arbitraries.of(Reversing.ONCE, Reversing.ONCE, Reversing.REDELIVERED, Reversing.OTHER_CURRENCY),
                Arbitraries.longs().between(1, 1_000)).as(Reverse::new);
        Arbitrary<Step> lease = Combinators.combine(slot, Arbitraries.longs().between(1, 1_500),
                Arbitraries.integers().between(0, 100)).as(Lease::new);
        Arbitrary<Step> charge = Combinators.combine(slot, percent, Arbitraries.of(false, false, false, false, true),
                Arbitraries.longs().between(1, 1_500)).as(Charge::new);
        Arbitrary<Step> cancel = Combinators.combine(slot, percent, Arbitraries.longs().between(1, 1_500))
                .as(Cancel::new);
        Arbitrary<Step> expire = Combinators.combine(slot, Arbitraries.of(false, true)).as(ExpireLeases::new);
        Arbitrary<Step> crash = slot.map(Crash::new);
        Arbitrary<Step> heartbeat = slot.map(Heartbeat::new);
        Arbitrary<Step> stop = slot.map(Stop::new);
        Arbitrary<Step> settle = Arbitraries.of(false, true).map(Settle::new);
        Arbitrary<Step> takeover = Combinators.combine(slot, Arbitraries.longs().between(1, 1_500)).as(Takeover::new);
        return Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(3, grant),
                        net.jqwik.api.Tuple.of(4, topUp),
                        net.jqwik.api.Tuple.of(2, payLate),
                        net.jqwik.api.Tuple.of(4, reverse),
                        net.jqwik.api.Tuple.of(5, lease),
                        net.jqwik.api.Tuple.of(5, charge),
                        net.jqwik.api.Tuple.of(2, cancel),
                        net.jqwik.api.Tuple.of(2, expire),
                        net.jqwik.api.Tuple.of(1, takeover),
                        net.jqwik.api.Tuple.of(1, crash),
                        net.jqwik.api.Tuple.of(1, heartbeat),
                        net.jqwik.api.Tuple.of(1, stop),
                        net.jqwik.api.Tuple.of(3, settle))
                .list().ofMinSize(1).ofMaxSize(8).withSizeDistribution(RandomDistribution.uniform());
    }

    // ------------------------------------------------------------------------------------------------ plumbing

    static long next() {
        return ids.incrementAndGet();
    }

    /** Blocks the test thread (never an event loop) until the database answers. */
    static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new AssertionError("the call failed: " + e.getCause(), e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException("awaiting a future failed: " + e, e);
        }
    }

    /** The failure of a call expected to fail. */
    static Throwable failure(Future<?> future) {
        try {
            Object result = future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            throw new AssertionError("expected the call to fail, but it returned " + result);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("awaiting a future failed: " + e, e);
        }
    }

    static String sqlState(Throwable failure) {
        assertThat(failure).isInstanceOf(PgException.class);
        return ((PgException) failure).getSqlState();
    }

    static RowSet<Row> sql(String sql, Object... params) {
        return await(pool.preparedQuery(sql).execute(Tuple.from(params)));
    }

    static long single(String sql, Object... params) {
        return sql(sql, params).iterator().next().getLong(0);
    }
}
