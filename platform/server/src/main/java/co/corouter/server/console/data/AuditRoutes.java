package co.corouter.server.console.data;

import co.corouter.server.audit.AuditContract;
import co.corouter.server.console.ConsoleRoutes;
import io.vertx.core.Future;
import io.vertx.ext.web.Router;

/**
 * {@code /api/audit}: the signed-in account's opt-in audit logging (docs/console-api.md): the sinks offered with their
 * config schemas, the current configuration and delivery status, "test connection", save (tested first) and off.
 */
final class AuditRoutes implements ConsoleRoutes {

    private final AuditContract.Configs audit;

    AuditRoutes(AuditContract.Configs audit) {
        this.audit = audit;
    }

    @Override
    public void mount(Router api) {
        if (audit == null) {
            return;
        }
        api.get("/audit/sinks").handler(Replies.json(ctx -> Future.succeededFuture(audit.sinks())));
        api.get("/audit").handler(Replies.json(ctx -> audit.get(Replies.user(ctx).accountId())));
        api.post("/audit/test").handler(Replies.json(ctx -> audit.test(Replies.user(ctx).accountId(),
                Replies.body(ctx))));
        api.put("/audit").handler(Replies.json(ctx -> audit.save(Replies.user(ctx).accountId(), Replies.body(ctx))));
        api.delete("/audit").handler(Replies.json(ctx -> audit.disable(Replies.user(ctx).accountId())));
    }
}
