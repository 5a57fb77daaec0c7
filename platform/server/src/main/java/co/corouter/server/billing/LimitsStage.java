package co.corouter.server.billing;

import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Stage;
import io.vertx.core.Future;

/**
 * Stage "limits": per-key spend limits and rate limits, checked before credit is reserved. Nothing is limited yet;
 * the payments issue fills this stage (a refusal here is a 402 or a 429 with {@code Retry-After}, before any
 * reservation or provider call).
 */
public final class LimitsStage implements Stage {

    @Override
    public Future<Void> run(Exchange exchange) {
        return DONE;
    }
}
