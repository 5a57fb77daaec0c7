package co.corouter.server.console.data;

import co.corouter.server.billing.BillingContract;
import co.corouter.server.common.Money;
import co.corouter.server.console.ConsoleRoutes;
import co.corouter.server.console.ConsoleUser;
import co.corouter.server.metering.MeteringContract;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * {@code /api/billing}: the balance and the account's history, newest first: credit movements from the ledger and, in
 * place of the ledger's per-batch charges, one usage row per UTC day from the daily rollup (dated at the day's start,
 * id {@code "usage-<date>"}, amount negative). Pages by keyset on (created_at, id), usage rows sorting as id 0.
 */
final class BillingRoutes implements ConsoleRoutes {

    private final BillingContract.Credits credits;
    private final BillingContract.History history;
    private final MeteringContract.ConsoleUsage usage;

    BillingRoutes(BillingContract.Credits credits, BillingContract.History history,
            MeteringContract.ConsoleUsage usage) {
        this.credits = credits;
        this.history = history;
        this.usage = usage;
    }

    @Override
    public void mount(Router api) {
        api.get("/billing").handler(Replies.json(ctx -> billing(Replies.user(ctx), Replies.limit(ctx, 50, 200),
                Replies.query(ctx, "cursor"))));
    }

    /** A history row and its sort key. */
    private record Entry(OffsetDateTime at, long seq, JsonObject json) {
    }

    Future<JsonObject> billing(ConsoleUser user, int limit, String cursorText) {
        Cursor cursor = Cursor.decode(cursorText);
        long seq;
        try {
            seq = cursor == null ? 0 : Long.parseLong(cursor.id());
        } catch (NumberFormatException e) {
            throw Replies.fieldError("cursor", "'cursor' is not a cursor this list gave out");
        }
        LocalDate upTo = null;
        if (cursor != null) {
            OffsetDateTime at = cursor.at().withOffsetSameInstant(ZoneOffset.UTC);
            LocalDate day = at.toLocalDate();
            // a usage row (day start, 0) comes after the cursor iff it sorts strictly below (at, seq)
            upTo = at.toLocalTime().equals(LocalTime.MIDNIGHT) && seq == 0 ? day.minusDays(1) : day;
        }
        Future<BillingContract.Balance> balance = credits.balance(user.accountId());
        Future<List<BillingContract.CreditMovement>> movements = history.movements(user.accountId(),
                cursor == null ? null : cursor.at(), cursor == null ? null : seq, limit + 1);
        Future<List<MeteringContract.DayCost>> days = usage.dailyCosts(user.accountId(), upTo, limit + 1);
        return Future.all(balance, movements, days).map(v -> {
            List<Entry> entries = new ArrayList<>();
            for (BillingContract.CreditMovement m : movements.result()) {
                long signed = "refund".equals(m.kind()) ? -m.amount() : m.amount();
                JsonObject row = new JsonObject().put("id", m.id()).put("kind", m.kind())
                        .put("amount_usd", Money.toUsdText(signed)).put("reason", m.reason())
                        .put("created_at", m.createdAt().toInstant().toString());
                if (m.orderId() != null) {
                    row.put("order_id", m.orderId());
                }
                entries.add(new Entry(m.createdAt(), m.id(), row));
            }
            for (MeteringContract.DayCost d : days.result()) {
                OffsetDateTime start = d.day().atStartOfDay().atOffset(ZoneOffset.UTC);
                entries.add(new Entry(start, 0, new JsonObject().put("id", "usage-" + d.day()).put("kind", "usage")
                        .put("amount_usd", Money.toUsdText(-d.cost()))
                        .put("reason", "usage of " + d.requests() + (d.requests() == 1 ? " request" : " requests")
                                + " on " + d.day())
                        .put("created_at", start.toInstant().toString())));
            }
            entries.sort(Comparator.comparing((Entry e) -> e.at().toInstant()).thenComparingLong(Entry::seq)
                    .reversed());
            JsonArray data = new JsonArray();
            entries.stream().limit(limit).forEach(e -> data.add(e.json()));
            String next = null;
            if (entries.size() > limit) {
                Entry last = entries.get(limit - 1);
                next = Cursor.of(last.at(), Long.toString(last.seq())).encode();
            }
            return new JsonObject().put("balance_usd", Money.toUsdText(balance.result().balance()))
                    .put("data", data).put("next_cursor", next);
        });
    }
}
