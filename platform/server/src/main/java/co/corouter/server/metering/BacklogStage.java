package co.corouter.server.metering;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Stage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * Stage "shed": refuses new work with a 503 while usage records wait to be written beyond the backlog limit, so
 * unwritten usage — unbilled money — cannot pile up in memory without bound when the database falls behind. A shed
 * request reaches no provider and leaves no usage row (no feedback loop).
 */
public final class BacklogStage implements Stage {

    private final UsageBacklog backlog;

    public BacklogStage(UsageBacklog backlog) {
        this.backlog = backlog;
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        if (!backlog.full()) {
            return DONE;
        }
        return Future.failedFuture(new ApiException(ErrorCodes.UNAVAILABLE,
                "corouter is catching up on usage records; retry shortly",
                new JsonObject().put("retry_after_ms", 1000)));
    }
}
