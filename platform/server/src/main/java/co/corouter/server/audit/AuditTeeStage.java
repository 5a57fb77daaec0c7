package co.corouter.server.audit;

import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Stage;
import io.vertx.core.Future;

/**
 * Stage "audit tee", right after authentication: for an account that opted in to audit, the exchange starts keeping
 * a copy of what it delivers. For every other account it is one hash lookup and nothing else.
 */
public final class AuditTeeStage implements Stage {

    private final AuditContract.Recorder recorder;

    public AuditTeeStage(AuditContract.Recorder recorder) {
        this.recorder = recorder;
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        if (recorder.optedIn(exchange.principal().accountId())) {
            exchange.captureDelivered();
        }
        return DONE;
    }
}
