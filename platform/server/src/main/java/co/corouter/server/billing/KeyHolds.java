package co.corouter.server.billing;

import io.vertx.core.Future;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's holds on limited keys: takes and settles them through the {@link KeyLimitRepository}, remembers which
 * are in flight so the heartbeat renews exactly those, and retries settlements the database refused. A hold whose
 * request is no longer known here (the node crashed, or the reservation's answer was lost) is not renewed, expires
 * after the lease TTL and is released by any node's sweep. Safe to call from any event loop.
 */
public final class KeyHolds {

    private static final Logger log = LoggerFactory.getLogger(KeyHolds.class);

    private final KeyLimitRepository repository;
    private final String nodeId;
    private final int ttlSeconds;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    /** request id → what it cost, for settlements to retry. */
    private final Map<String, Long> unsettled = new ConcurrentHashMap<>();

    public KeyHolds(KeyLimitRepository repository, String nodeId, int ttlSeconds) {
        this.repository = repository;
        this.nodeId = nodeId;
        this.ttlSeconds = ttlSeconds;
    }

    /** True when the hold was taken; false when the key's period cannot cover it. */
    public Future<Boolean> hold(String requestId, long keyId, OffsetDateTime periodStart, long amount, long limit) {
        inFlight.add(requestId); // before the statement: a heartbeat while it runs renews the row it creates
        return repository.reserve(requestId, nodeId, ttlSeconds, keyId, periodStart, amount, limit)
                .andThen(result -> {
                    if (result.failed() || !result.result()) {
                        inFlight.remove(requestId); // if it did commit after all, the row expires and is swept
                    }
                });
    }

    /**
     * Settles a request's hold. When the database fails, the hold stays in flight (renewed, so the key keeps counting
     * it as held) and the heartbeat retries; the statement is idempotent, so a retry never counts twice.
     */
    public Future<Void> settle(String requestId, long charged) {
        return repository.settle(requestId, charged)
                .onSuccess(v -> inFlight.remove(requestId))
                .onFailure(e -> unsettled.put(requestId, charged));
    }

    /** Retries refused settlements, then renews the holds still in flight. */
    public Future<Void> heartbeat() {
        unsettled.forEach((requestId, charged) -> repository.settle(requestId, charged).onSuccess(v -> {
            unsettled.remove(requestId);
            inFlight.remove(requestId);
        }));
        if (inFlight.isEmpty()) {
            return Future.succeededFuture();
        }
        return repository.renew(nodeId, ttlSeconds, inFlight.toArray(String[]::new));
    }

    /** Releases every node's expired holds; logs what it gave back. */
    public Future<Long> sweep() {
        return repository.sweepExpired().onSuccess(released -> {
            if (released > 0) {
                log.info("released {} nano-USD of expired key-limit holds", released);
            }
        });
    }

    /** Holds this node has in flight (for tests and metrics). */
    public int inFlight() {
        return inFlight.size();
    }
}
