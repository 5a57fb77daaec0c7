package co.corouter.server.payments;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the processor, every {@code billing.reconcile_interval_seconds}, about orders still pending after
 * {@code billing.reconcile_after_seconds}: a webhook that came late or never still credits the order (once: the same
 * conditional transition as the webhook's), and an order nobody paid expires. One pass at a time; on several nodes
 * each runs its own, which only costs the processor a few more lookups.
 */
public final class ReconcileJob extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(ReconcileJob.class);

    private final Payments payments;
    private long timer = -1;
    private boolean running;

    public ReconcileJob(Payments payments) {
        this.payments = payments;
    }

    @Override
    public Future<?> start() {
        if (payments.processor() != null) {
            timer = vertx.setPeriodic(payments.options().reconcileIntervalSeconds() * 1000L, id -> pass());
        }
        return Future.succeededFuture();
    }

    private void pass() {
        if (running) {
            return;
        }
        running = true;
        payments.reconcilePending()
                .onSuccess(credited -> {
                    if (credited > 0) {
                        log.info("reconciliation credited {} orders whose webhook had not arrived", credited);
                    }
                })
                .onFailure(e -> log.warn("reconciliation pass failed: {}", e.toString()))
                .onComplete(done -> running = false);
    }

    @Override
    public Future<?> stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        return Future.succeededFuture();
    }
}
