package co.corouter.server.audit;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditRecord;
import co.corouter.server.common.Metrics;
import co.corouter.server.pipeline.Exchange;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivery of audit records, one instance per node, its state confined to its own context (actor-style).
 *
 * <p>Per opted-in account a channel collects records in memory (bounded: a batch is cut at
 * {@code batch_max_records} or {@code batch_max_bytes}, or after {@code flush_interval_ms}), seals each batch into
 * the {@link Spool} and hands the spooled batches to the account's destination one at a time, in order; a failed
 * write is retried with exponential backoff (up to {@code retry_max_ms}) with the same batch id, so nothing is lost
 * or reordered while the sink is down, across restarts too. When an account's spool would pass
 * {@code spool_max_bytes}, the batch is dropped and counted, and the count and the last error are reported to the
 * account's configuration row (the audit page) and to the metrics. Turning audit off stops new records and lets the
 * spool drain; erasing the account deletes its spool undelivered.
 */
public final class AuditLog extends VerticleBase implements AuditContract.Recorder {

    private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
    private static final char[] BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz".toCharArray();

    /** Limits of the delivery. */
    public record Limits(int batchMaxRecords, long batchMaxBytes, long flushIntervalMillis, long spoolMaxBytes,
                         long writeTimeoutMillis, long retryMaxMillis) {
    }

    private final AuditConfigs configs;
    private final AuditService service;
    private final Spool spool;
    private final Limits limits;
    private final Set<Long> optedIn = ConcurrentHashMap.newKeySet();
    private final Map<Long, Channel> channels = new HashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final AtomicLong spooledBytes = new AtomicLong();
    private final Counter delivered;
    private final Counter dropped;
    private volatile Context home;
    private MessageConsumer<JsonObject> changes;
    private long ticker = -1;

    AuditLog(AuditConfigs configs, AuditService service, Spool spool, Limits limits, Metrics metrics) {
        this.configs = configs;
        this.service = service;
        this.spool = spool;
        this.limits = limits;
        this.delivered = metrics.counter("corouter_audit_records", "audit records", "outcome", "delivered");
        this.dropped = metrics.counter("corouter_audit_records", "audit records", "outcome", "dropped");
        metrics.registry().gauge("corouter_audit_spool_bytes", spooledBytes, AtomicLong::get);
    }

    @Override
    public Future<?> start() {
        home = context;
        changes = vertx.eventBus().consumer(AuditContract.CONFIG_CHANGED,
                message -> reload(message.body().getLong("account_id")));
        return changes.completion()
                .compose(v -> Future.all(spool.scan(), configs.all()))
                .compose(both -> {
                    Map<Long, List<Spool.File>> spooled = both.resultAt(0);
                    List<AuditConfigs.Stored> stored = both.resultAt(1);
                    List<Future<Void>> purges = new ArrayList<>();
                    Map<Long, AuditConfigs.Stored> byAccount = new HashMap<>();
                    stored.forEach(s -> byAccount.put(s.accountId(), s));
                    spooled.forEach((account, files) -> {
                        if (!byAccount.containsKey(account)) {
                            purges.add(spool.purge(account)); // erased while this node was down
                        }
                    });
                    for (AuditConfigs.Stored s : stored) {
                        List<Spool.File> files = spooled.getOrDefault(s.accountId(), List.of());
                        if (s.enabled() || !files.isEmpty()) {
                            Channel channel = channel(s.accountId());
                            channel.configure(s);
                            files.forEach(channel::queued);
                            channel.pump();
                        }
                    }
                    return Future.all(purges).compose(v -> service.rewrapOld(stored)).onSuccess(count -> {
                        if (count > 0) {
                            log.info("re-wrapped the audit credentials of {} accounts under the current key", count);
                        }
                    });
                })
                .onSuccess(v -> ticker = vertx.setPeriodic(limits.flushIntervalMillis(), id -> tick()));
    }

    /** Spools what is still in memory, reports the counts, closes the destinations. */
    @Override
    public Future<?> stop() {
        vertx.cancelTimer(ticker);
        List<Future<?>> flushes = new ArrayList<>();
        for (Channel channel : channels.values()) {
            flushes.add(channel.flush());
        }
        return Future.join(flushes).transform(v -> {
            List<Future<?>> closing = new ArrayList<>();
            for (Channel channel : channels.values()) {
                closing.add(channel.report());
                closing.add(channel.closeDestination());
            }
            return Future.join(closing);
        }).transform(v -> changes.unregister());
    }

    @Override
    public boolean optedIn(long accountId) {
        return optedIn.contains(accountId);
    }

    @Override
    public void record(Exchange exchange, boolean complete) {
        AuditRecord record = AuditRecords.of(exchange, complete);
        long accountId = exchange.principal().accountId();
        Context target = home;
        if (target != null) {
            target.runOnContext(v -> offer(accountId, record));
        }
    }

    /** This node's queue of an account (the audit page's "waiting to be delivered"). */
    public Future<JsonObject> localStatus(long accountId) {
        Context target = home;
        if (target == null) {
            return Future.succeededFuture(new JsonObject());
        }
        return Future.future(promise -> target.runOnContext(v -> {
            Channel channel = channels.get(accountId);
            promise.complete(new JsonObject()
                    .put("queued_records", channel == null ? 0 : channel.pending.size())
                    .put("spooled_batches", channel == null ? 0 : channel.queue.size())
                    .put("spooled_records", channel == null ? 0
                            : channel.queue.stream().mapToLong(Spool.File::records).sum())
                    .put("spool_bytes", channel == null ? 0 : channel.spoolBytes));
        }));
    }

    private void offer(long accountId, AuditRecord record) {
        Channel channel = channels.get(accountId);
        if (channel == null || !channel.enabled) {
            return; // audit was turned off while the request ran
        }
        channel.add(record);
    }

    private void tick() {
        for (Channel channel : List.copyOf(channels.values())) {
            if (!channel.pending.isEmpty()) {
                channel.flush();
            }
            channel.report();
        }
    }

    private void reload(long accountId) {
        configs.find(accountId).onComplete(found -> {
            if (found.failed()) {
                log.warn("reloading the audit configuration of account {} failed: {}", accountId,
                        found.cause().toString());
                return;
            }
            AuditConfigs.Stored stored = found.result();
            Channel channel = channels.get(accountId);
            if (stored == null) {
                optedIn.remove(accountId);
                if (channel != null) {
                    channel.erase();
                } else {
                    spool.purge(accountId);
                }
                return;
            }
            if (channel == null) {
                if (!stored.enabled()) {
                    return;
                }
                channel = channel(accountId);
            }
            channel.configure(stored);
            channel.pump();
        });
    }

    private Channel channel(long accountId) {
        return channels.computeIfAbsent(accountId, Channel::new);
    }

    private String batchId() {
        char[] id = new char[26];
        for (int i = 0; i < id.length; i++) {
            id[i] = BASE36[random.nextInt(36)];
        }
        return new String(id);
    }

    /** How many spooled batches of an account are kept in memory for delivery. */
    private static final int KEPT_BATCHES = 2;

    /** One account's delivery. Confined to the log's context. */
    private final class Channel {

        final long accountId;
        boolean enabled;
        AuditConfigs.Stored config;
        Future<AuditDestination> destination;
        final List<AuditRecord> pending = new ArrayList<>();
        long pendingBytes;
        final ArrayDeque<Spool.File> queue = new ArrayDeque<>();
        /**
         * The batches of the queue's head still in memory: sealed into the spool (which stays the durable copy) and
         * handed to the destination as they are, so the normal path never reads a batch back and opens it. Dropped on
         * a failure: a retry reads the spool.
         */
        final Map<Spool.File, AuditBatch> kept = new HashMap<>();
        long spoolBytes;
        boolean writing;
        long retryTimer = -1;
        long backoffMillis;
        /**
         * Completes when the last spool write has: each waits for the one before, so batches join the queue in the
         * order they were cut. A bare promise, so nothing of a batch stays reachable once it is spooled (a
         * composed future would keep its mapper, and with it the records, for as long as it is the latest).
         */
        Future<Void> spooling = Future.succeededFuture();
        long deliveredDelta;
        long droppedDelta;
        String lastError;
        OffsetDateTime lastErrorAt;
        OffsetDateTime lastDeliveredAt;
        boolean erased;

        Channel(long accountId) {
            this.accountId = accountId;
        }

        void configure(AuditConfigs.Stored stored) {
            boolean newDestination = config == null || !stored.sinkType().equals(config.sinkType())
                    || !stored.config().equals(config.config())
                    || !java.util.Arrays.equals(stored.secrets(), config.secrets());
            config = stored;
            enabled = stored.enabled();
            if (enabled) {
                optedIn.add(accountId);
            } else {
                optedIn.remove(accountId);
                flush(); // what was recorded before audit was turned off still goes out
            }
            if (newDestination && destination != null) {
                closeDestination();
            }
            retireIfDone();
        }

        void add(AuditRecord record) {
            pending.add(record);
            pendingBytes += record.json().length();
            if (pending.size() >= limits.batchMaxRecords() || pendingBytes >= limits.batchMaxBytes()) {
                flush();
            }
        }

        /** Cuts a batch of what is pending and spools it, or drops it (counted) when the spool is full. */
        Future<Void> flush() {
            if (pending.isEmpty()) {
                return Future.succeededFuture();
            }
            List<AuditRecord> records = List.copyOf(pending);
            long bytes = pendingBytes;
            pending.clear();
            pendingBytes = 0;
            if (spoolBytes + bytes > limits.spoolMaxBytes()) {
                drop(records.size(), "the spool is full (" + limits.spoolMaxBytes() + " bytes): "
                        + records.size() + " records were dropped");
                return Future.succeededFuture();
            }
            spoolBytes += bytes; // held at once, so batches cut while this one is written see it
            spooledBytes.addAndGet(bytes);
            AuditBatch batch = new AuditBatch(accountId, batchId(), records.get(0).at(), records);
            io.vertx.core.Promise<Void> spooled = io.vertx.core.Promise.promise();
            Future<Void> previous = spooling;
            spooling = spooled.future();
            previous.onComplete(ignored -> spool(batch, bytes).onComplete(spooled));
            return spooled.future();
        }

        private Future<Void> spool(AuditBatch batch, long bytes) {
            List<AuditRecord> records = batch.records();
            return spool.write(batch).map(file -> {
                spoolBytes += file.bytes() - bytes;
                spooledBytes.addAndGet(file.bytes() - bytes);
                if (erased) {
                    spool.purge(accountId);
                    return null;
                }
                if (queue.size() < KEPT_BATCHES) {
                    kept.put(file, batch); // on its way out now: delivered from memory, not read back and opened
                }
                queue.add(file);
                pump();
                return (Void) null;
            }).recover(e -> {
                spoolBytes -= bytes;
                spooledBytes.addAndGet(-bytes);
                drop(records.size(), "the spool could not be written: " + e.getClass().getSimpleName());
                log.error("spooling {} audit records of account {} failed: {}", records.size(), accountId,
                        e.toString());
                return Future.succeededFuture();
            });
        }

        /** A batch found in the spool at start-up. */
        void queued(Spool.File file) {
            queue.add(file);
            spoolBytes += file.bytes();
            spooledBytes.addAndGet(file.bytes());
        }

        /** Hands the oldest spooled batch to the destination, unless one is being written or a retry is waiting. */
        void pump() {
            if (writing || erased || retryTimer != -1 || queue.isEmpty() || config == null) {
                return;
            }
            writing = true;
            Spool.File head = queue.peek();
            AuditBatch inMemory = kept.remove(head);
            Future<AuditBatch> batchOf = inMemory != null ? Future.succeededFuture(inMemory) : spool.read(head);
            destination().compose(d -> batchOf.compose(batch -> d.write(batch)
                    .timeout(limits.writeTimeoutMillis(), TimeUnit.MILLISECONDS).map(batch.records().size())))
                    .onComplete(done -> {
                        writing = false;
                        if (erased) {
                            return;
                        }
                        if (done.succeeded()) {
                            queue.poll();
                            spoolBytes -= head.bytes();
                            spooledBytes.addAndGet(-head.bytes());
                            spool.delete(head).onFailure(e -> log.warn("deleting a delivered audit batch failed: {}",
                                    e.toString()));
                            int count = done.result();
                            deliveredDelta += count;
                            delivered.increment(count);
                            lastDeliveredAt = OffsetDateTime.now(ZoneOffset.UTC);
                            backoffMillis = 0;
                            if (!retireIfDone()) {
                                pump();
                            }
                        } else {
                            failed(done.cause());
                        }
                    });
        }

        private void failed(Throwable cause) {
            kept.clear();
            String reason = AuditService.reason(cause);
            if (!(cause instanceof co.corouter.plugin.api.audit.AuditException)) {
                destination = null; // opening failed or the client broke: open afresh on the retry
            }
            error(reason);
            backoffMillis = Math.min(limits.retryMaxMillis(), Math.max(250, backoffMillis * 2));
            log.warn("audit delivery of account {} failed ({} batches waiting), retry in {} ms: {}", accountId,
                    queue.size(), backoffMillis, reason);
            retryTimer = vertx.setTimer(backoffMillis, id -> {
                retryTimer = -1;
                pump();
            });
        }

        private Future<AuditDestination> destination() {
            if (destination == null) {
                AuditConfigs.Stored stored = config;
                destination = Future.<JsonObject>future(p -> p.complete(service.openConfig(stored)))
                        .compose(full -> service.open(accountId, stored.sinkType(), full));
                destination.onFailure(e -> destination = null);
            }
            return destination;
        }

        Future<Void> closeDestination() {
            Future<AuditDestination> open = destination;
            destination = null;
            if (open == null) {
                return Future.succeededFuture();
            }
            return open.compose(AuditDestination::close).otherwiseEmpty().mapEmpty();
        }

        /** A channel whose audit is off and whose spool has drained is closed. True when it was. */
        boolean retireIfDone() {
            if (enabled || !pending.isEmpty() || !queue.isEmpty() || writing) {
                return false;
            }
            channels.remove(accountId);
            report();
            closeDestination();
            return true;
        }

        void erase() {
            erased = true;
            enabled = false;
            pending.clear();
            if (retryTimer != -1) {
                vertx.cancelTimer(retryTimer);
            }
            spooledBytes.addAndGet(-spoolBytes);
            spoolBytes = 0;
            queue.clear();
            kept.clear();
            channels.remove(accountId);
            closeDestination();
            spool.purge(accountId).onFailure(e -> log.error("deleting the audit spool of erased account {} failed: {}",
                    accountId, e.toString()));
        }

        private void drop(int count, String reason) {
            droppedDelta += count;
            dropped.increment(count);
            error(reason);
            log.warn("audit records of account {} dropped: {}", accountId, reason);
        }

        private void error(String reason) {
            lastError = reason;
            lastErrorAt = OffsetDateTime.now(ZoneOffset.UTC);
        }

        /** Adds this node's counts since the last report to the account's row. */
        Future<Void> report() {
            if (erased || deliveredDelta == 0 && droppedDelta == 0 && lastErrorAt == null) {
                return Future.succeededFuture();
            }
            long d = deliveredDelta;
            long x = droppedDelta;
            String error = lastError;
            OffsetDateTime errorAt = lastErrorAt;
            deliveredDelta = 0;
            droppedDelta = 0;
            lastErrorAt = null;
            return configs.report(accountId, d, x, error, errorAt, lastDeliveredAt).recover(e -> {
                deliveredDelta += d; // reported with the next tick
                droppedDelta += x;
                if (lastErrorAt == null) {
                    lastErrorAt = errorAt;
                    lastError = error;
                }
                return Future.succeededFuture();
            });
        }
    }
}
