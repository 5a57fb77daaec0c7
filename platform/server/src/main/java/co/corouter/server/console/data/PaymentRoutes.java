package co.corouter.server.console.data;

import co.corouter.server.console.ConsoleRoutes;
import co.corouter.server.console.ConsoleUser;
import co.corouter.server.payments.OrderBook;
import co.corouter.server.payments.Payments;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.List;

/**
 * {@code /api/billing/offers}, {@code /api/billing/top-ups} and {@code /api/billing/orders}: buying credit through the
 * payment processor and the receipts of what was bought (docs/console-api.md).
 */
final class PaymentRoutes implements ConsoleRoutes {

    private final Payments payments;

    PaymentRoutes(Payments payments) {
        this.payments = payments;
    }

    @Override
    public void mount(Router api) {
        if (payments == null) {
            return;
        }
        api.get("/billing/offers").handler(Replies.json(ctx -> Future.succeededFuture(payments.offersJson())));
        api.post("/billing/top-ups").handler(Replies.handler(ctx -> {
            ConsoleUser user = Replies.user(ctx);
            JsonObject body = Replies.body(ctx);
            return payments.topUp(user.accountId(), user.email(), body.getValue("offer"), body.getValue("units"))
                    .map(created -> new Replies.Reply(201, created));
        }));
        api.get("/billing/orders").handler(Replies.json(ctx -> list(Replies.user(ctx), Replies.limit(ctx, 50, 200),
                Replies.query(ctx, "cursor"))));
        api.get("/billing/orders/:id").handler(Replies.json(ctx -> {
            String id = ctx.pathParam("id");
            if (id == null || !id.matches("ord_[0-9A-Za-z]{1,40}")) {
                throw Replies.notFound("order");
            }
            return payments.order(Replies.user(ctx).accountId(), id);
        }));
    }

    private Future<JsonObject> list(ConsoleUser user, int limit, String cursorText) {
        Cursor cursor = Cursor.decode(cursorText);
        return payments.orders(user.accountId(), cursor == null ? null : cursor.at(),
                cursor == null ? null : cursor.id(), limit + 1).map(found -> {
                    JsonArray data = new JsonArray();
                    List<OrderBook.Order> page = found.subList(0, Math.min(limit, found.size()));
                    page.forEach(order -> data.add(Payments.summary(order)));
                    String next = found.size() > limit
                            ? Cursor.of(page.get(limit - 1).createdAt(), page.get(limit - 1).id()).encode() : null;
                    return new JsonObject().put("data", data).put("next_cursor", next);
                });
    }
}
