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
 * Collects usage records and writes them to PostgreSQL in batches (with their ledger charges): at most one
 * statement in flight, a batch every {@code flush_interval_ms} or every {@code batch_size} records, whichever
 * comes first. A failed batch is kept and retried with back-off; nothing is dropped. {@link #stop()} writes
 * what is left before the verticle goes.
 */
public final class MeteringVerticle extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(MeteringVerticle.class);
    private static final long MAX_BACKOFF_MILLIS = 5_000;

    private final String nodeId;
    private final UsageRepository repository;
    private final MeteringOptions options;
    private List<UsageRecord> pending = new ArrayList<>();
    private final List<Promise<Void>> flushWaiters = new ArrayList<>();
    private final List<MessageConsumer<?>> consumers = new ArrayList<>();
    private boolean writing;
    private long timer = -1;
    private long backoffMillis;

    public MeteringVerticle(String nodeId, UsageRepository repository, MeteringOptions options) {
        this.nodeId = nodeId;
        this.repository = repository;
        this.options = options;
    }

    @Override
    public Future<?> start() {
        consumers.add(vertx.eventBus().<UsageRecord>localConsumer(MeteringContract.USAGE, this::record));
        consumers.add(vertx.eventBus().<Object>localConsumer(MeteringContract.FLUSH, this::flushRequested));
        return Future.all(consumers.stream().map(MessageConsumer::completion).toList());
    }

    @Override
    public Future<?> stop() {
        return Future.all(consumers.stream().map(MessageConsumer::unregister).toList())
                .compose(v -> drain())
                .onFailure(e -> log.error("usage rows could not be written on stop: {}", e.toString()));
    }

    private void record(Message<UsageRecord> message) {
        pending.add(message.body());
        if (!writing) {
            if (pending.size() >= options.batchSize()) {
                write();
            } else if (timer < 0) {
                timer = vertx.setTimer(options.flushIntervalMillis(), id -> {
                    timer = -1;
                    write();
                });
            }
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
        if (pending.isEmpty() && !writing) {
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
        if (pending.isEmpty()) {
            completeWaiters();
            return;
        }
        List<UsageRecord> batch;
        if (pending.size() <= options.batchSize()) {
            batch = pending;
            pending = new ArrayList<>();
        } else {
            batch = new ArrayList<>(pending.subList(0, options.batchSize()));
            pending = new ArrayList<>(pending.subList(options.batchSize(), pending.size()));
        }
        writing = true;
        repository.settleBatch(batch, nodeId).onComplete(result -> {
            writing = false;
            if (result.succeeded()) {
                backoffMillis = 0;
                if (pending.isEmpty()) {
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
            timer = vertx.setTimer(backoffMillis, id -> {
                timer = -1;
                write();
            });
        });
    }

    private void completeWaiters() {
        List<Promise<Void>> waiters = new ArrayList<>(flushWaiters);
        flushWaiters.clear();
        waiters.forEach(Promise::tryComplete);
    }
}
