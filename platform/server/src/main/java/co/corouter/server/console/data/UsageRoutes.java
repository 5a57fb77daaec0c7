package co.corouter.server.console.data;

import co.corouter.server.billing.BillingContract;
import co.corouter.server.common.Money;
import co.corouter.server.console.ConsoleRoutes;
import co.corouter.server.console.ConsoleUser;
import co.corouter.server.metering.MeteringContract;
import co.corouter.server.metering.MeteringContract.Grouping;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * {@code /api/activity}, {@code /api/dashboard}, {@code /api/generations}: the signed-in user's usage. Aggregates come
 * from the daily rollup, lists from keyset pages; metadata only, never content.
 */
final class UsageRoutes implements ConsoleRoutes {

    static final int MAX_DAYS = 366;
    static final int DEFAULT_DAYS = 30;
    static final int MAX_PAGE = 200;
    private static final Pattern GENERATION_ID = Pattern.compile("gen-[0-9A-Za-z]{1,60}");

    private final MeteringContract.ConsoleUsage usage;
    private final BillingContract.Credits credits;
    private final Clock clock;

    UsageRoutes(MeteringContract.ConsoleUsage usage, BillingContract.Credits credits, Clock clock) {
        this.usage = usage;
        this.credits = credits;
        this.clock = clock;
    }

    @Override
    public void mount(Router api) {
        api.get("/activity").handler(Replies.json(ctx -> activity(Replies.user(ctx), Replies.query(ctx, "from"),
                Replies.query(ctx, "to"), Replies.query(ctx, "group"))));
        api.get("/dashboard").handler(Replies.json(ctx -> dashboard(Replies.user(ctx))));
        api.get("/generations").handler(Replies.json(ctx -> generations(Replies.user(ctx),
                Replies.limit(ctx, 50, MAX_PAGE), Replies.query(ctx, "cursor"), Replies.query(ctx, "model"),
                Replies.query(ctx, "key_id"), Replies.query(ctx, "status"))));
        api.get("/generations/:id").handler(Replies.json(ctx -> generation(Replies.user(ctx), ctx.pathParam("id"))));
    }

    LocalDate today() {
        return LocalDate.now(clock.withZone(ZoneOffset.UTC));
    }

    /** Days {@code from}..{@code to} (UTC, inclusive; default the 30 days to today), grouped by model, key or none. */
    Future<JsonObject> activity(ConsoleUser user, String fromText, String toText, String groupText) {
        LocalDate to = toText == null ? today() : date("to", toText);
        LocalDate from = fromText == null ? to.minusDays(DEFAULT_DAYS - 1) : date("from", fromText);
        if (from.isAfter(to)) {
            throw Replies.fieldError("from", "'from' must not be after 'to'");
        }
        if (ChronoUnit.DAYS.between(from, to) + 1 > MAX_DAYS) {
            throw Replies.fieldError("from", "at most " + MAX_DAYS + " days at once");
        }
        Grouping group;
        try {
            group = groupText == null ? Grouping.NONE : Grouping.valueOf(groupText.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw Replies.fieldError("group", "'group' must be model, key or none");
        }
        return usage.activity(user.accountId(), from, to, group);
    }

    private static LocalDate date(String field, String text) {
        try {
            if (text.length() == 10) {
                return LocalDate.parse(text);
            }
        } catch (DateTimeParseException e) {
            // falls through
        }
        throw Replies.fieldError(field, "'" + field + "' must be a date, YYYY-MM-DD");
    }

    Future<JsonObject> dashboard(ConsoleUser user) {
        Future<BillingContract.Balance> balance = credits.balance(user.accountId());
        Future<JsonObject> spend = usage.dashboard(user.accountId(), today());
        return Future.all(balance, spend).map(v -> new JsonObject()
                .put("balance_usd", Money.toUsdText(balance.result().balance()))
                .mergeIn(spend.result()));
    }

    Future<JsonObject> generations(ConsoleUser user, int limit, String cursorText, String model, String keyIdText,
            String status) {
        Cursor cursor = Cursor.decode(cursorText);
        Long keyId = null;
        if (keyIdText != null) {
            try {
                keyId = Long.parseLong(keyIdText);
            } catch (NumberFormatException e) {
                throw Replies.fieldError("key_id", "'key_id' must be a key's id");
            }
        }
        Boolean ok = null;
        if (status != null) {
            if (!status.equals("ok") && !status.equals("error")) {
                throw Replies.fieldError("status", "'status' must be ok or error");
            }
            ok = status.equals("ok");
        }
        if (model != null && model.length() > 200) {
            throw Replies.fieldError("model", "'model' is too long");
        }
        MeteringContract.GenerationFilter filter = new MeteringContract.GenerationFilter(model, keyId, ok);
        return usage.generations(user.accountId(), filter, cursor == null ? null : cursor.at(),
                        cursor == null ? null : cursor.id(), limit + 1)
                .map(rows -> page(rows, limit));
    }

    private static JsonObject page(List<JsonObject> rows, int limit) {
        JsonArray data = new JsonArray();
        rows.stream().limit(limit).forEach(data::add);
        String next = null;
        if (rows.size() > limit) {
            JsonObject last = rows.get(limit - 1);
            next = Cursor.of(last.getString("created_at"), last.getString("id")).encode();
        }
        return new JsonObject().put("data", data).put("next_cursor", next);
    }

    Future<JsonObject> generation(ConsoleUser user, String id) {
        if (id == null || !GENERATION_ID.matcher(id).matches()) {
            return Future.failedFuture(Replies.notFound("generation"));
        }
        return usage.generation(user.accountId(), id).compose(row -> row == null
                ? Future.failedFuture(Replies.notFound("generation")) : Future.succeededFuture(row));
    }
}
