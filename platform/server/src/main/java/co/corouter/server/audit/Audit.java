package co.corouter.server.audit;

import co.corouter.plugin.api.audit.AuditSink;
import co.corouter.server.common.Metrics;
import co.corouter.server.config.ServerOptions.AuditOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.util.Map;
import java.util.Optional;

/** The audit context assembled: its configuration service, its delivery, its tee stage. */
public final class Audit {

    /** What must be done off the event loop at boot: the sinks' schemas read, the key-encryption key loaded. */
    public record Prepared(AuditSinks sinks, SecretBox box) {
    }

    private final AuditService service;
    private final AuditLog log;

    private Audit(AuditService service, AuditLog log) {
        this.service = service;
        this.log = log;
    }

    /** Blocking. */
    public static Prepared prepare(AuditOptions options, Map<String, AuditSink> factories) {
        return new Prepared(AuditSinks.load(factories), SecretBox.load(Optional.ofNullable(options.kekEnv()),
                options.kekFile(), Optional.ofNullable(options.previousKekEnv()), options.previousKekFiles()));
    }

    public static Audit create(Vertx vertx, AuditOptions options, Prepared prepared, Pool pool, Metrics metrics) {
        AuditConfigs configs = new AuditConfigs(pool);
        SsrfGuard guard = SsrfGuard.create(vertx, GuardOptions.parse(options.guard()));
        AuditService service = new AuditService(vertx, configs, prepared.sinks(), prepared.box(), guard,
                options.fileRoot(), options.testTimeoutMillis());
        AuditLog log = new AuditLog(configs, service, new Spool(vertx, options.spoolDir(), prepared.box()),
                new AuditLog.Limits(options.batchMaxRecords(), options.batchMaxBytes(), options.flushIntervalMillis(),
                        options.spoolMaxBytes(), options.writeTimeoutMillis(), options.retryMaxMillis()), metrics);
        service.attach(log);
        return new Audit(service, log);
    }

    public Future<String> deploy(Vertx vertx) {
        return vertx.deployVerticle(log);
    }

    public AuditContract.Recorder recorder() {
        return log;
    }

    public AuditContract.Configs configs() {
        return service;
    }

    public AuditTeeStage teeStage() {
        return new AuditTeeStage(log);
    }
}
