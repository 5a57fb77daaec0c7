package co.corouter.server.metering;

import co.corouter.server.metering.MeteringContract.UsageRecord;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node's usage records between ingress and PostgreSQL: ingress {@link #offer offers} one per finished request
 * from its event loop; metering drains them in batches. A hand-off queue instead of an event-bus message per
 * request: the first record after a drain wakes metering once, later ones cost a queue insert, so a busy node does
 * not pay a cross-thread wake-up (eventfd write, context switch) for every request.
 *
 * <p>It also gauges what is accepted but not yet written: when the database falls behind, ingress refuses new
 * requests (503) rather than let unwritten usage — unbilled money — pile up in memory without bound.
 */
public final class UsageBacklog {

    private final ConcurrentLinkedQueue<UsageRecord> queue = new ConcurrentLinkedQueue<>();
    private final AtomicLong unwritten = new AtomicLong();
    private final AtomicBoolean signalled = new AtomicBoolean();
    private final long limit;
    private volatile Runnable wake = () -> { };

    public UsageBacklog(long limit) {
        this.limit = limit;
    }

    /** Hands one finished request's usage to metering. Thread-safe, never blocks. */
    public void offer(UsageRecord record) {
        queue.add(record);
        unwritten.incrementAndGet();
        if (!signalled.get() && signalled.compareAndSet(false, true)) {
            wake.run();
        }
    }

    /** Metering's wake-up, run (on the offering thread) by the first offer after each {@link #drainTo}. */
    void onFirstOffer(Runnable wake) {
        this.wake = wake;
        if (!queue.isEmpty() && signalled.compareAndSet(false, true)) {
            wake.run();
        }
    }

    /** Moves up to {@code max} queued records into {@code into}; returns how many. Re-arms the wake-up. */
    int drainTo(List<UsageRecord> into, int max) {
        signalled.set(false);
        int moved = 0;
        UsageRecord record;
        while (moved < max && (record = queue.poll()) != null) {
            into.add(record);
            moved++;
        }
        if (!queue.isEmpty()) {
            signalled.set(true); // more is queued: the drainer knows and comes back without a wake-up
        }
        return moved;
    }

    boolean queued() {
        return !queue.isEmpty();
    }

    void written(int rows) {
        unwritten.addAndGet(-rows);
    }

    /** Records accepted and not yet written (queued or in a batch being written). */
    public long size() {
        return unwritten.get();
    }

    /** True when usage is so far behind that new requests must wait. */
    public boolean full() {
        return unwritten.get() >= limit;
    }
}
