package co.corouter.plugin.api.audit;

import io.vertx.core.Future;

/**
 * One account's open audit destination.
 *
 * <p><b>Threading.</b> Methods are called on a Vert.x event loop and must return at once; do I/O asynchronously
 * (a Vert.x client, or an SDK's async client whose callbacks complete the future). Never block.
 *
 * <p><b>Delivery.</b> The host calls {@link #write} with at most one batch in flight per destination, in order, and
 * calls it again with the same {@link AuditBatch#batchId()} when a write failed or timed out. A destination should
 * make a repeated batch harmless (S3: the object key is derived from the batch id, so a retry overwrites the same
 * object); where the destination cannot (a Kafka topic), records carry their generation id as the de-duplication
 * key. Complete the future only when the destination has durably accepted the whole batch.
 *
 * <p><b>Errors.</b> Fail futures with {@link AuditException}, its kind chosen truthfully, its message free of
 * credentials and of record content.
 *
 * @since 1.6.0
 */
public interface AuditDestination {

    /**
     * Proves the configuration works end to end: writes a small probe (an object, a message, a file) and, where the
     * destination allows it, deletes it again. The console refuses to save a configuration whose test fails.
     */
    Future<Void> test();

    /** Writes one batch; see the class comment for ordering and retries. */
    Future<Void> write(AuditBatch batch);

    /** Releases clients and flushes what the destination buffers. Called once. */
    default Future<Void> close() {
        return Future.succeededFuture();
    }
}
