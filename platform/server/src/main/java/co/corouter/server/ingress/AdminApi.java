package co.corouter.server.ingress;

import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.billing.BillingContract;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.common.Money;
import co.corouter.server.metering.MeteringContract;
import co.corouter.server.pipeline.Failure;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.UUID;
import java.util.function.Function;

/**
 * Operator endpoints under {@code /admin} (bearer admin token): accounts, credit grants, keys, generations. Enough
 * to run corouter without the console. Handlers only speak HTTP: they read and check the input (every mistake is a
 * 400 naming the field, never a 500) and delegate to the accounts, billing and metering services.
 */
final class AdminApi {

    static final String BODY = "corouter.admin-body";
    private static final int MAX_TEXT = 500;

    private final byte[] token;
    private final AccountsContract.Accounts accounts;
    private final BillingContract.Credits credits;
    private final MeteringContract.UsageQueries usage;
    private final co.corouter.server.audit.AuditContract.Configs audit;

    AdminApi(String token, AccountsContract.Accounts accounts, BillingContract.Credits credits,
            MeteringContract.UsageQueries usage, co.corouter.server.audit.AuditContract.Configs audit) {
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        this.accounts = accounts;
        this.credits = credits;
        this.usage = usage;
        this.audit = audit;
    }

    /** {@code GET /admin/accounts/:id/audit}: the account's audit configuration, without credentials. */
    void audit(RoutingContext ctx) {
        respond(ctx, 200, body -> existing(pathId(ctx, "id")).compose(audit::get));
    }

    /** {@code PUT /admin/accounts/:id/audit {"sink", "config"}}: tested first, saved only when the test passes. */
    void saveAudit(RoutingContext ctx) {
        respond(ctx, 200, body -> existing(pathId(ctx, "id")).compose(id -> audit.save(id, body)));
    }

    /** {@code POST /admin/accounts/:id/audit/test {"sink", "config"}}: the test connection alone. */
    void testAudit(RoutingContext ctx) {
        respond(ctx, 200, body -> existing(pathId(ctx, "id")).compose(id -> audit.test(id, body)));
    }

    /** {@code DELETE /admin/accounts/:id/audit}: audit off; the spool drains. */
    void disableAudit(RoutingContext ctx) {
        respond(ctx, 200, body -> existing(pathId(ctx, "id")).compose(audit::disable));
    }

    private Future<Long> existing(long accountId) {
        return accounts.account(accountId).map(account -> {
            if (account == null) {
                throw new ApiException(ErrorCodes.NOT_FOUND, "no such account");
            }
            return accountId;
        });
    }

    /** Rejects requests without the admin bearer token (constant-time compare); 404 when admin is disabled. */
    void authorize(RoutingContext ctx) {
        if (token == null) {
            Errors.send(ctx.response(), ErrorCodes.NOT_FOUND, "the operator API is disabled: set COROUTER_ADMIN_TOKEN");
            return;
        }
        String header = ctx.request().getHeader("Authorization");
        byte[] given = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)
                ? header.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
        if (!MessageDigest.isEqual(token, given)) {
            Errors.send(ctx.response(), ErrorCodes.UNAUTHORIZED, "a valid admin token is required");
            return;
        }
        ctx.next();
    }

    void createAccount(RoutingContext ctx) {
        respond(ctx, 201, body -> {
            String name = requiredString(body, "name");
            return accounts.createAccount(name).map(id -> new JsonObject().put("id", id).put("name", name));
        });
    }

    void account(RoutingContext ctx) {
        respond(ctx, 200, body -> {
            long id = pathId(ctx, "id");
            return accounts.account(id).compose(account -> {
                if (account == null) {
                    return Future.failedFuture(new ApiException(ErrorCodes.NOT_FOUND, "no such account"));
                }
                return credits.balance(id).compose(balance -> accounts.keys(id).map(keys -> account
                        .put("balance_nanos", balance.balance())
                        .put("leased_nanos", balance.leased())
                        .put("owed_nanos", balance.owed())
                        .put("frozen", balance.frozen())
                        .put("balance_usd", Money.toUsd(balance.balance()).toPlainString())
                        .put("keys", keys)));
            });
        });
    }

    void grant(RoutingContext ctx) {
        respond(ctx, 201, body -> {
            long accountId = pathId(ctx, "id");
            long amount;
            try {
                Object given = body.getValue("amount_usd");
                // a decimal string, or a whole number of dollars: never a binary fraction
                String usd = given instanceof Integer || given instanceof Long ? given.toString()
                        : requiredString(body, "amount_usd");
                amount = Money.parseUsd(usd, "'amount_usd'");
            } catch (IllegalArgumentException e) {
                throw new ApiException(ErrorCodes.BAD_REQUEST, e.getMessage());
            }
            if (amount <= 0) {
                throw new ApiException(ErrorCodes.BAD_REQUEST, "'amount_usd' must be positive");
            }
            String reason = text(requiredString(body, "reason"), "reason");
            String key = body.getValue("idempotency_key") == null ? "grant:" + UUID.randomUUID()
                    : text(requiredString(body, "idempotency_key"), "idempotency_key");
            return credits.grant(accountId, amount, reason, key).map(movement -> new JsonObject()
                    .put("transaction_id", movement.transactionId())
                    .put("replayed", movement.replayed())
                    .put("balance_usd", Money.toUsd(movement.balance()).toPlainString()));
        });
    }

    /** {@code POST /admin/accounts/:id/settle {"write_off": bool}}: collects a frozen wallet's debt, unfreezes it. */
    void settle(RoutingContext ctx) {
        respond(ctx, 200, body -> {
            long accountId = pathId(ctx, "id");
            Object writeOff = body.getValue("write_off", false);
            if (!(writeOff instanceof Boolean forgive)) {
                throw new ApiException(ErrorCodes.BAD_REQUEST, "'write_off' must be true or false");
            }
            return credits.settle(accountId, forgive).map(s -> new JsonObject()
                    .put("owed_before_usd", Money.toUsd(s.owedBefore()).toPlainString())
                    .put("collected_usd", Money.toUsd(s.collected()).toPlainString())
                    .put("owed_usd", Money.toUsd(s.owed()).toPlainString())
                    .put("frozen", s.frozen()));
        });
    }

    void createKey(RoutingContext ctx) {
        respond(ctx, 201, body -> {
            Object label = body.getValue("label", "");
            if (!(label instanceof String text)) {
                throw new ApiException(ErrorCodes.BAD_REQUEST, "'label' must be a string");
            }
            return accounts.createKey(pathId(ctx, "id"), text).map(key -> new JsonObject().put("id", key.id())
                    .put("key", key.key()).put("display", key.display()).put("label", key.label()));
        });
    }

    void revokeKey(RoutingContext ctx) {
        respond(ctx, 200, body -> {
            long keyId = pathId(ctx, "keyId");
            return accounts.revokeKey(keyId).compose(revoked -> revoked
                    ? Future.succeededFuture(new JsonObject().put("id", keyId).put("revoked", true))
                    : Future.failedFuture(new ApiException(ErrorCodes.NOT_FOUND, "no such key")));
        });
    }

    /** {@code PATCH /admin/keys/:keyId}: {@code limit_usd}, {@code limit_reset}, {@code expires_at} (each optional). */
    void updateKey(RoutingContext ctx) {
        respond(ctx, 200, body -> {
            long keyId = pathId(ctx, "keyId");
            AccountsContract.KeySettings settings;
            try {
                settings = AccountsContract.KeySettings.parse(body);
            } catch (AccountsContract.KeySettings.Invalid e) {
                throw new ApiException(ErrorCodes.BAD_REQUEST, e.getMessage());
            }
            if (!settings.any()) {
                throw new ApiException(ErrorCodes.BAD_REQUEST,
                        "give at least one of 'limit_usd', 'limit_reset', 'expires_at'");
            }
            return accounts.updateKey(keyId, settings).compose(key -> key == null
                    ? Future.failedFuture(new ApiException(ErrorCodes.NOT_FOUND, "no such key"))
                    : Future.succeededFuture(key));
        });
    }

    void generations(RoutingContext ctx) {
        respond(ctx, 200, body -> {
            int limit = 100;
            String given;
            try {
                given = ctx.queryParams().get("limit");
            } catch (IllegalArgumentException badEscape) {
                throw new ApiException(ErrorCodes.BAD_REQUEST, "the query string is not validly percent-encoded");
            }
            if (given != null) {
                try {
                    limit = Math.max(1, Math.min(1000, Integer.parseInt(given)));
                } catch (NumberFormatException e) {
                    throw new ApiException(ErrorCodes.BAD_REQUEST, "'limit' must be an integer");
                }
            }
            return usage.generations(pathId(ctx, "id"), limit).map(rows -> {
                JsonArray data = new JsonArray();
                rows.forEach(row -> data.add(AccountApi.generationView((JsonObject) row)));
                return new JsonObject().put("data", data);
            });
        });
    }

    private void respond(RoutingContext ctx, int status, Function<JsonObject, Future<JsonObject>> action) {
        Future<JsonObject> result;
        try {
            Buffer raw = ctx.get(BODY);
            JsonObject body = raw == null || raw.length() == 0 ? new JsonObject() : raw.toJsonObject();
            result = action.apply(body);
        } catch (DecodeException | ClassCastException e) {
            result = Future.failedFuture(new ApiException(ErrorCodes.BAD_REQUEST, "the request body is not a JSON object"));
        } catch (ApiException e) {
            result = Future.failedFuture(e);
        }
        result.onSuccess(json -> ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                        .end(json.toBuffer()))
                .onFailure(failure -> Errors.send(ctx.response(), Failure.of(failure, "admin")));
    }

    private static long pathId(RoutingContext ctx, String name) {
        try {
            return Long.parseLong(ctx.pathParam(name));
        } catch (NumberFormatException e) {
            throw new ApiException(ErrorCodes.BAD_REQUEST, "'" + name + "' must be a numeric id");
        }
    }

    private static String requiredString(JsonObject body, String field) {
        Object value = body.getValue(field);
        if (!(value instanceof String text) || text.isBlank()) {
            throw new ApiException(ErrorCodes.BAD_REQUEST, "'" + field + "' is required and must be a string");
        }
        return text;
    }

    /** Free text stored by the ledger: bounded, without control characters (a NUL would reach SQL). */
    private static String text(String value, String field) {
        if (value.length() > MAX_TEXT) {
            throw new ApiException(ErrorCodes.BAD_REQUEST, "'" + field + "' must be at most " + MAX_TEXT + " characters");
        }
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                throw new ApiException(ErrorCodes.BAD_REQUEST, "'" + field + "' must not contain control characters");
            }
        }
        return value;
    }
}
