package co.corouter.server.billing;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.accounts.AccountRepository;
import co.corouter.server.common.ApiException;
import co.corouter.server.config.ServerOptions.BillingOptions;
import co.corouter.server.it.CorouterNode;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The node-level credit book under contention from several event loops at once, against a real PostgreSQL: it never
 * reserves more than the account holds, completes every reservation on the loop that asked, and strands nothing.
 */
class CreditBookTest {

    static final int LOOPS = 4;
    static Vertx vertx;
    static Pool pool;
    static LedgerRepository ledger;
    static AccountRepository accounts;

    @BeforeAll
    static void database() throws Exception {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(LOOPS));
        pool = CorouterNode.sharedDatabase().pool(vertx, 4);
        ledger = new LedgerRepository(pool);
        accounts = new AccountRepository(pool);
    }

    @AfterAll
    static void close() {
        CorouterNode.await(pool.close());
        CorouterNode.await(vertx.close());
    }

    static long account(long balance) {
        long id = CorouterNode.await(accounts.createAccount("book-" + UUID.randomUUID()));
        CorouterNode.await(ledger.grant(id, balance, "test", "book:" + UUID.randomUUID()));
        return id;
    }

    /** Runs {@code attempts} reservations of {@code amount} on each of {@link #LOOPS} event loops at once. */
    static List<Boolean> contend(CreditBook book, long accountId, long amount, int attempts) {
        List<Future<Boolean>> all = new ArrayList<>();
        AtomicInteger wrongThread = new AtomicInteger();
        for (int loop = 0; loop < LOOPS; loop++) {
            Context context = vertx.getOrCreateContext();
            Promise<Void> started = Promise.promise();
            List<Future<Boolean>> mine = new ArrayList<>();
            context.runOnContext(v -> {
                for (int i = 0; i < attempts; i++) {
                    Thread asking = Thread.currentThread();
                    mine.add(book.reserve(accountId, amount).map(reservation -> {
                        if (Thread.currentThread() != asking) {
                            wrongThread.incrementAndGet();
                        }
                        // spent in full, settled a little later on the same loop
                        vertx.setTimer(1 + ThreadLocalRandom.current().nextInt(3),
                                t -> book.settle(reservation, reservation.amount()));
                        return true;
                    }).recover(failure -> {
                        assertThat(failure).isInstanceOf(ApiException.class);
                        return Future.succeededFuture(((ApiException) failure).code() == 402 ? false : null);
                    }));
                }
                started.complete();
            });
            CorouterNode.await(started.future());
            all.addAll(mine);
        }
        List<Boolean> outcomes = new ArrayList<>();
        for (Future<Boolean> outcome : all) {
            outcomes.add(CorouterNode.await(outcome));
        }
        assertThat(wrongThread).as("reservations completed on another loop than the one asking").hasValue(0);
        return outcomes;
    }

    @Test
    void fourLoopsContendingForOneAccountGetExactlyWhatItHoldsAndNothingIsStranded() {
        long accountId = account(1_000);
        CreditBook book = new CreditBook("node-book-" + UUID.randomUUID(), ledger, new BillingOptions(300, 60));

        List<Boolean> outcomes = contend(book, accountId, 7, 100);

        assertThat(outcomes).doesNotContainNull();
        long served = outcomes.stream().filter(Boolean::booleanValue).count();
        assertThat(served).as("every reservable 7 of 1,000 was reserved, none twice").isEqualTo(1_000 / 7);
        CorouterNode.await(vertx.timer(50));
        assertThat(book.available(accountId)).isEqualTo(1_000 % 7);
        long leased = pool.preparedQuery("SELECT leased FROM wallets WHERE account_id = $1")
                .execute(Tuple.of(accountId)).map(rows -> rows.iterator().next().getLong(0))
                .toCompletionStage().toCompletableFuture().join();
        assertThat(leased).as("the whole balance is leased to this node, and held by its one book").isEqualTo(1_000);
        CorouterNode.await(book.close());
    }

    @Test
    void creditForOneReservationIsFoundFromWhicheverLoopAsks() {
        CreditBook book = new CreditBook("node-book-" + UUID.randomUUID(), ledger, new BillingOptions(1_000, 60));
        long accountId = account(50);
        List<Context> contexts = new ArrayList<>();
        for (int loop = 0; loop < LOOPS; loop++) {
            contexts.add(vertx.getOrCreateContext());
        }
        // the first loop leases everything; each later loop still finds the credit the earlier one returned
        for (Context context : contexts) {
            Promise<CreditBook.Reservation> reserved = Promise.promise();
            context.runOnContext(v -> book.reserve(accountId, 50).onComplete(reserved));
            CreditBook.Reservation reservation = CorouterNode.await(reserved.future());
            Promise<Void> settled = Promise.promise();
            context.runOnContext(v -> {
                book.settle(reservation, 0);
                settled.complete();
            });
            CorouterNode.await(settled.future());
        }
        assertThat(book.available(accountId)).isEqualTo(50);
        CorouterNode.await(book.close());
        assertThat(book.available(accountId)).isZero();
    }
}
