package co.corouter.server.metering;

import co.corouter.server.config.ServerOptions.MeteringOptions;
import co.corouter.server.metering.MeteringContract.UsageRecord;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains the node's {@link UsageBacklog} and writes the records to PostgreSQL in batches (with their ledger
 * charges): at most one statement in flight, a batch every {@code flush_interval_ms} or every {@code batch_size}
 * records, whichever comes first. A batch that fails for a transient reason (connection, timeout) is kept and retried with
 * back-off. A batch the database refuses as data (a constraint) is retried row by row, so one bad row cannot hold
 * up the others; a row refused on its own keeps its metadata at cost 0, marked 'charge_failed', and is logged.
 * {@link #stop()} writes what is left before the verticle goes. After each committed batch, every row's metadata is
 * published to its account's console feed ({@link MeteringContract#CONSOLE_FEED_PREFIX}).
 */
public final class MeteringVerticle extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(MeteringVerticle.class);
    private static final long MAX_BACKOFF_MILLIS = 5_000;

    private final String nodeId;
    private final UsageRepository repository;
    private final MeteringOptions options;
    private final UsageBacklog backlog;
    private List<UsageRecord> pending = new ArrayList<>();
    private final List<Promise<Void>> flushWaiters = new ArrayList<>();
    /** Rows of a refused batch, written one at a time ahead of everything else. */
    private final java.util.ArrayDeque<UsageRecord> isolating = new java.util.ArrayDeque<>();
    private final List<MessageConsumer<?>> consumers = new ArrayList<>();
    private boolean writing;
    /** The rows in {@code pending} may already be in the database: the last write's outcome is unknown. */
    private boolean maybeWritten;
    private long timer = -1;
    private long backoffMillis;

    public MeteringVerticle(String nodeId, UsageRepository repository, MeteringOptions options, UsageBacklog backlog) {
        this.nodeId = nodeId;
        this.repository = repository;
        this.options = options;
        this.backlog = backlog;
    }

    @Override
    public Future<?> start() {
        io.vertx.core.Context own = context;
        backlog.onFirstOffer(() -> own.runOnContext(v -> recordsArrived()));
        consumers.add(vertx.eventBus().<Object>localConsumer(MeteringContract.FLUSH, this::flushRequested));
        return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
    }

    @Override
    public Future<?> stop() {
        return Future.all(consumers.stream().map(MessageConsumer::unregister).toList())
                .compose(v -> drain())
                .onFailure(e -> log.error("usage rows could not be written on stop: {}", e.toString()));
    }

    /** The first record after a drain arrived: write within the flush interval (sooner once a batch is full). */
    private void recordsArrived() {
        if (writing) {
            return; // the write in flight looks at the queue when it completes
        }
        topUp();
        if (pending.size() >= options.batchSize()) {
            write();
        } else if (timer < 0 && !pending.isEmpty()) {
            timer = vertx.setTimer(options.flushIntervalMillis(), id -> {
                timer = -1;
                write();
            });
        }
    }

    /** Moves queued records into {@code pending}, up to one batch. */
    private void topUp() {
        if (pending.size() < options.batchSize()) {
            backlog.drainTo(pending, options.batchSize() - pending.size());
        }
    }

    private void flushRequested(Message<Object> message) {
        drain().onComplete(result -> {
            if (result.succeeded()) {
                message.reply(null);
            } else {
                message.fail(503, "usage could not be written");
            }
        });
    }

    /** Completes when everything received so far is written. */
    private Future<Void> drain() {
        if (pending.isEmpty() && isolating.isEmpty() && !writing && !backlog.queued()) {
            return Future.succeededFuture();
        }
        Promise<Void> done = Promise.promise();
        flushWaiters.add(done);
        if (!writing) {
            write();
        }
        return done.future();
    }

    private void write() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
            timer = -1;
        }
        topUp();
        if (pending.isEmpty() && isolating.isEmpty()) {
            completeWaiters();
            return;
        }
        List<UsageRecord> batch;
        boolean isolated = !isolating.isEmpty();
        if (isolated) {
            batch = new ArrayList<>(List.of(isolating.poll()));
        } else if (pending.size() <= options.batchSize()) {
            batch = pending;
            pending = new ArrayList<>();
        } else {
            batch = new ArrayList<>(pending.subList(0, options.batchSize()));
            pending = new ArrayList<>(pending.subList(options.batchSize(), pending.size()));
        }
        writing = true;
        boolean unsure = maybeWritten || isolated;
        repository.settleBatch(batch, nodeId, unsure).onComplete(result -> {
            writing = false;
            if (result.failed() && refusedAsData(result.cause())) {
                if (batch.size() > 1) {
                    log.error("the database refused a batch of {} usage rows ({}); writing them one by one",
                            batch.size(), result.cause().getMessage());
                    isolating.addAll(batch);
                    write();
                    return;
                }
                UsageRecord row = batch.get(0);
                log.error("[{}] the ledger refused this request's charge of {} nano-USD ({}); its usage row is kept "
                        + "at cost 0 as charge_failed", row.generationId(), row.cost(), result.cause().getMessage());
                writing = true;
                repository.recordUncollected(row).onComplete(kept -> {
                    writing = false;
                    backlog.written(1);
                    if (kept.failed()) {
                        log.error("[{}] its usage row could not be kept either: {}", row.generationId(),
                                kept.cause().getMessage());
                    }
                    write();
                });
                return;
            }
            if (result.succeeded()) {
                publish(result.result());
                backlog.written(batch.size());
                backoffMillis = 0;
                if (!isolated) {
                    maybeWritten = false;
                }
                topUp();
                if (!isolating.isEmpty()) {
                    write();
                } else if (pending.isEmpty()) {
                    completeWaiters();
                } else if (pending.size() >= options.batchSize() || !flushWaiters.isEmpty()) {
                    write();
                } else {
                    timer = vertx.setTimer(options.flushIntervalMillis(), id -> {
                        timer = -1;
                        write();
                    });
                }
                return;
            }
            backoffMillis = Math.min(MAX_BACKOFF_MILLIS, Math.max(50, backoffMillis * 2));
            log.error("writing {} usage rows failed, retrying in {} ms: {}", batch.size(), backoffMillis,
                    result.cause().toString());
            batch.addAll(pending);
            pending = batch;
            maybeWritten = true;
            timer = vertx.setTimer(backoffMillis, id -> {
                timer = -1;
                write();
            });
        });
    }

    /** The console's live feed: one message per written row, to its account's address. */
    private void publish(UsageRepository.Settled settled) {
        io.vertx.core.eventbus.EventBus bus = vertx.eventBus();
        for (UsageRecord row : settled.written()) {
            Long balance = settled.balances().get(row.accountId());
            bus.publish(MeteringContract.consoleFeed(row.accountId()), new io.vertx.core.json.JsonObject()
                    .put("type", "generation")
                    .put("generation", GenerationView.of(row))
                    .put("balance_usd", balance == null ? null : co.corouter.server.common.Money.toUsdText(balance)));
        }
    }

    /** Integrity or data errors (SQLSTATE classes 22 and 23): retrying the same rows cannot succeed. */
    private static boolean refusedAsData(Throwable failure) {
        if (failure instanceof io.vertx.pgclient.PgException pg && pg.getSqlState() != null) {
            return pg.getSqlState().startsWith("23") || pg.getSqlState().startsWith("22");
        }
        return false;
    }

    private void completeWaiters() {
        List<Promise<Void>> waiters = new ArrayList<>(flushWaiters);
        flushWaiters.clear();
        waiters.forEach(Promise::tryComplete);
    }
}
