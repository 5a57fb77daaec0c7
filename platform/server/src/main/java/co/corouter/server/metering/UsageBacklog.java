package co.corouter.server.metering;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How many usage records the node has accepted but not yet written: a gauge metering keeps and ingress reads. When
 * the database falls behind, ingress refuses new requests (503) rather than let unwritten usage — unbilled money —
 * pile up in memory without bound.
 */
public final class UsageBacklog {

    private final AtomicLong unwritten = new AtomicLong();
    private final long limit;

    public UsageBacklog(long limit) {
        this.limit = limit;
    }

    void accepted() {
        unwritten.incrementAndGet();
    }

    void written(int rows) {
        unwritten.addAndGet(-rows);
    }

    public long size() {
        return unwritten.get();
    }

    /** True when usage is so far behind that new requests must wait. */
    public boolean full() {
        return unwritten.get() >= limit;
    }
}
