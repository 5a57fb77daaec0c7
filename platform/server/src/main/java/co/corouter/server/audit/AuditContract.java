package co.corouter.server.audit;

import co.corouter.server.pipeline.Exchange;

/**
 * The audit context's contract: what ingress and the other contexts may use of it.
 *
 * <p>Audit is opt-in per account (privacy policy §1). For an opted-in account the pipeline keeps a copy of the bytes
 * it delivers ({@link Exchange#captureDelivered()}), and when the response has ended ingress hands the exchange to the
 * {@link Recorder}, which turns it into one record (request body as received, response as delivered, usage, cost) for
 * the account's own destination. For every other account nothing is copied, built or queued.
 */
public final class AuditContract {

    /**
     * Published (cluster-wide, a JSON body {@code {"account_id": n}}) when an account's audit configuration changed:
     * every node reloads it, so a node starts or stops teeing that account at once.
     */
    public static final String CONFIG_CHANGED = "corouter.audit.config-changed";

    private AuditContract() {
    }

    /** The hot path's view of audit. Safe to call from any event loop. */
    public interface Recorder {

        /** Whether requests of this account are audited; one hash lookup. */
        boolean optedIn(long accountId);

        /**
         * Records one finished exchange that captured its delivered bytes.
         *
         * @param complete whether the response ended normally (false: the client left, or the stream was cut off)
         */
        void record(Exchange exchange, boolean complete);
    }

    /**
     * An account's audit configuration (console {@code /api/audit}, {@code /admin/accounts/:id/audit}). Replies never
     * hold a credential: write-only fields are listed by name in {@code secrets_set}.
     */
    public interface Configs {

        /** {@code {"data": [{"type", "schema"}]}}: the sinks this server offers and their config schemas. */
        io.vertx.core.json.JsonObject sinks();

        /** {@code {configured, enabled, sink, config, secrets_set, updated_at, status}}. */
        io.vertx.core.Future<io.vertx.core.json.JsonObject> get(long accountId);

        /** Runs the sink's test connection for {@code {"sink", "config"}}; 422 with the reason when it fails. */
        io.vertx.core.Future<io.vertx.core.json.JsonObject> test(long accountId, io.vertx.core.json.JsonObject body);

        /** Tests, then saves and enables {@code {"sink", "config"}}; stored credentials may be left out. */
        io.vertx.core.Future<io.vertx.core.json.JsonObject> save(long accountId, io.vertx.core.json.JsonObject body);

        /** Turns audit off: no new records; what is spooled still drains to the destination. 404 if none. */
        io.vertx.core.Future<io.vertx.core.json.JsonObject> disable(long accountId);

        /** Removes the configuration, its credentials and every node's spool of the account (account erasure). */
        io.vertx.core.Future<Void> erase(long accountId);

        /** The configuration for the account's data export, without credentials; null when there is none. */
        io.vertx.core.Future<io.vertx.core.json.JsonObject> export(long accountId);
    }
}
