package co.corouter.server.console.data;

import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.common.Money;
import co.corouter.server.console.ConsoleRoutes;
import co.corouter.server.console.ConsoleUser;
import co.corouter.server.metering.MeteringContract;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.Map;

/**
 * {@code /api/keys}: the signed-in user's API keys with their usage, created (the key shown once), switched off and on,
 * revoked. Every change takes effect on every node at once (the accounts context broadcasts it).
 */
final class KeysRoutes implements ConsoleRoutes {

    static final int MAX_NAME = 200;

    private final AccountsContract.OwnerKeys keys;
    private final MeteringContract.ConsoleUsage usage;

    KeysRoutes(AccountsContract.OwnerKeys keys, MeteringContract.ConsoleUsage usage) {
        this.keys = keys;
        this.usage = usage;
    }

    @Override
    public void mount(Router api) {
        api.get("/keys").handler(Replies.json(this::list));
        api.post("/keys").handler(Replies.handler(ctx -> create(ctx).map(key -> new Replies.Reply(201, key))));
        api.patch("/keys/:id").handler(Replies.json(this::update));
        api.delete("/keys/:id").handler(Replies.handler(ctx -> revoke(ctx).map(v -> new Replies.Reply(204, null))));
    }

    Future<JsonObject> list(RoutingContext ctx) {
        return list(Replies.user(ctx));
    }

    /** The user's keys, each with its usage from the daily rollup. */
    Future<JsonObject> list(ConsoleUser user) {
        Future<JsonArray> listed = keys.ownerKeys(user.accountId());
        Future<Map<Long, long[]>> totals = usage.keyTotals(user.accountId());
        return Future.all(listed, totals).map(v -> {
            JsonArray data = new JsonArray();
            listed.result().forEach(key -> data.add(withUsage((JsonObject) key, totals.result())));
            return new JsonObject().put("data", data);
        });
    }

    private static JsonObject withUsage(JsonObject key, Map<Long, long[]> totals) {
        long[] total = totals.getOrDefault(key.getLong("id"), new long[2]);
        return key.put("usage_usd", Money.toUsdText(total[0])).put("requests", total[1]);
    }

    private Future<JsonObject> create(RoutingContext ctx) {
        JsonObject body = Replies.body(ctx);
        return create(Replies.user(ctx), body.getValue("name"), settings(body));
    }

    /** {@code limit_usd}, {@code limit_reset}, {@code expires_at} of a request body; a field error names the field. */
    static AccountsContract.KeySettings settings(JsonObject body) {
        try {
            return AccountsContract.KeySettings.parse(body);
        } catch (AccountsContract.KeySettings.Invalid e) {
            throw Replies.fieldError(e.field(), e.getMessage());
        }
    }

    Future<JsonObject> create(ConsoleUser user, Object name, AccountsContract.KeySettings settings) {
        if (!(name instanceof String text) || text.isBlank()) {
            throw Replies.fieldError("name", "a name is required");
        }
        if (text.length() > MAX_NAME) {
            throw Replies.fieldError("name", "the name may have at most " + MAX_NAME + " characters");
        }
        if (text.chars().anyMatch(Character::isISOControl)) {
            throw Replies.fieldError("name", "the name must not contain control characters");
        }
        return keys.createOwnerKey(user.accountId(), text.strip(), settings);
    }

    private Future<JsonObject> update(RoutingContext ctx) {
        ConsoleUser user = Replies.user(ctx);
        long id = Replies.pathId(ctx, "id", "key");
        JsonObject body = Replies.body(ctx);
        return update(user, id, body.getValue("disabled"), settings(body));
    }

    /** {@code disabled} null: left as it is; at least one of it and the settings must be given. */
    Future<JsonObject> update(ConsoleUser user, long keyId, Object disabled, AccountsContract.KeySettings settings) {
        if (disabled != null && !(disabled instanceof Boolean)) {
            throw Replies.fieldError("disabled", "'disabled' must be true or false");
        }
        if (disabled == null && !settings.any()) {
            throw Replies.fieldError("disabled", "give 'disabled', 'limit_usd', 'limit_reset' or 'expires_at'");
        }
        Future<JsonObject> changed = disabled == null ? Future.succeededFuture()
                : keys.setKeyDisabled(user.accountId(), keyId, (Boolean) disabled);
        return changed.compose(key -> {
            if (disabled != null && key == null || !settings.any()) {
                return Future.succeededFuture(key);
            }
            return keys.updateOwnerKey(user.accountId(), keyId, settings);
        }).compose(key -> {
            if (key == null) {
                return Future.failedFuture(Replies.notFound("key"));
            }
            return usage.keyTotals(user.accountId()).map(totals -> withUsage(key, totals));
        });
    }

    private Future<Void> revoke(RoutingContext ctx) {
        return revoke(Replies.user(ctx), Replies.pathId(ctx, "id", "key"));
    }

    Future<Void> revoke(ConsoleUser user, long keyId) {
        return keys.revokeOwnerKey(user.accountId(), keyId).compose(revoked -> revoked ? Future.succeededFuture()
                : Future.failedFuture(Replies.notFound("key")));
    }
}
