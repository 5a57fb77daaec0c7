package co.corouter.server.ingress;

import co.corouter.server.accounts.AccountRepository;
import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.accounts.ApiKeys;
import co.corouter.server.billing.BillingContract;
import co.corouter.server.billing.LedgerRepository;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.common.Money;
import co.corouter.server.metering.UsageRepository;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.UUID;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operator endpoints under {@code /admin} (bearer admin token): accounts, credit grants, keys, generations.
 * Enough to run corouter without the console.
 */
final class AdminApi {

    private static final Logger log = LoggerFactory.getLogger(AdminApi.class);

    private final byte[] token;
    private final AccountRepository accounts;
    private final LedgerRepository ledger;
    private final UsageRepository usage;
    private final EventBus bus;

    AdminApi(String token, AccountRepository accounts, LedgerRepository ledger, UsageRepository usage, EventBus bus) {
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        this.accounts = accounts;
        this.ledger = ledger;
        this.usage = usage;
        this.bus = bus;
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
        respond(ctx, 200, body -> accounts.account(pathId(ctx, "id")).compose(account -> {
            if (account == null) {
                return Future.failedFuture(new ApiException(ErrorCodes.NOT_FOUND, "no such account"));
            }
            account.put("balance_usd", Money.toUsd(account.getLong("balance_nanos")).toPlainString());
            return accounts.keys(account.getLong("id")).map(keys -> account.put("keys", keys));
        }));
    }

    void grant(RoutingContext ctx) {
        respond(ctx, 201, body -> {
            long accountId = pathId(ctx, "id");
            long amount;
            try {
                amount = Money.parseUsd(requiredString(body, "amount_usd"), "amount_usd");
            } catch (IllegalArgumentException e) {
                throw new ApiException(ErrorCodes.BAD_REQUEST, e.getMessage());
            }
            if (amount <= 0) {
                throw new ApiException(ErrorCodes.BAD_REQUEST, "'amount_usd' must be positive");
            }
            String reason = requiredString(body, "reason");
            String key = body.getString("idempotency_key", "grant:" + UUID.randomUUID());
            return accounts.account(accountId).compose(account -> {
                if (account == null) {
                    return Future.failedFuture(new ApiException(ErrorCodes.NOT_FOUND, "no such account"));
                }
                return ledger.grant(accountId, amount, reason, key);
            }).map(movement -> {
                bus.publish(BillingContract.CREDIT_CHANGED, new BillingContract.CreditChanged(accountId));
                log.info("granted {} nano-USD to account {} (transaction {}, replayed {})", amount, accountId,
                        movement.transactionId(), movement.replayed());
                return new JsonObject().put("transaction_id", movement.transactionId())
                        .put("replayed", movement.replayed())
                        .put("balance_usd", Money.toUsd(movement.balance()).toPlainString());
            });
        });
    }

    void createKey(RoutingContext ctx) {
        respond(ctx, 201, body -> {
            long accountId = pathId(ctx, "id");
            String label = body.getString("label", "");
            String key = ApiKeys.generate();
            return accounts.account(accountId).compose(account -> {
                if (account == null) {
                    return Future.failedFuture(new ApiException(ErrorCodes.NOT_FOUND, "no such account"));
                }
                return accounts.createKey(accountId, key, label);
            }).map(id -> new JsonObject().put("id", id).put("key", key).put("display", ApiKeys.display(key))
                    .put("label", label));
        });
    }

    void revokeKey(RoutingContext ctx) {
        respond(ctx, 200, body -> accounts.revokeKey(pathId(ctx, "keyId")).compose(hash -> {
            if (hash == null) {
                return Future.failedFuture(new ApiException(ErrorCodes.NOT_FOUND, "no such key"));
            }
            bus.publish(AccountsContract.KEY_REVOKED, new AccountsContract.KeyRevoked(hash));
            return Future.succeededFuture(new JsonObject().put("id", pathId(ctx, "keyId")).put("revoked", true));
        }));
    }

    void generations(RoutingContext ctx) {
        respond(ctx, 200, body -> {
            int limit = 100;
            String given = ctx.queryParams().get("limit");
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
            JsonObject body = ctx.body().length() == 0 ? new JsonObject() : ctx.body().asJsonObject();
            result = action.apply(body == null ? new JsonObject() : body);
        } catch (DecodeException | ClassCastException e) {
            result = Future.failedFuture(new ApiException(ErrorCodes.BAD_REQUEST, "the request body is not a JSON object"));
        } catch (ApiException e) {
            result = Future.failedFuture(e);
        }
        result.onSuccess(json -> ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                        .end(json.toBuffer()))
                .onFailure(failure -> Errors.send(ctx.response(), Errors.classify(failure, "admin")));
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
        if (value == null || value.toString().isBlank()) {
            throw new ApiException(ErrorCodes.BAD_REQUEST, "'" + field + "' is required");
        }
        return value.toString();
    }
}
