package co.corouter.server.ingress;

import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.accounts.AccountsContract.Principal;
import co.corouter.server.billing.BillingContract;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.common.Money;
import co.corouter.server.metering.MeteringContract;
import co.corouter.server.pipeline.Failure;
import co.corouter.server.routing.Router;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.function.BiFunction;
import java.util.regex.Pattern;

/** The read endpoints of {@code /v1}: models (public), credits, key and generation (the caller's own). */
final class AccountApi {

    /** {@code gen-} + 9 base-36 characters of time + 16 base-62 characters (see {@code Ids}). */
    private static final Pattern GENERATION_ID = Pattern.compile("gen-[0-9a-z]{9}[0-9A-Za-z]{16}");

    private final AccountsContract.Authenticator authenticator;
    private final BillingContract.Credits credits;
    private final MeteringContract.UsageQueries usage;
    private final BillingContract.KeyLimits keyLimits;
    private final Router router;
    private final java.time.Clock clock;
    private final Buffer modelsBody;

    AccountApi(AccountsContract.Authenticator authenticator, BillingContract.Credits credits,
            MeteringContract.UsageQueries usage, BillingContract.KeyLimits keyLimits, Router router,
            java.time.Clock clock) {
        this.authenticator = authenticator;
        this.credits = credits;
        this.usage = usage;
        this.keyLimits = keyLimits;
        this.router = router;
        this.clock = clock;
        this.modelsBody = router.catalog().listing().toBuffer();
    }

    void models(RoutingContext ctx) {
        ctx.response().putHeader("Content-Type", "application/json").end(modelsBody.copy());
    }

    /** {@code GET /v1/models/{author}/{slug}/endpoints}: a model's endpoints with prices and health. */
    void endpoints(RoutingContext ctx) {
        JsonObject endpoints = router.endpoints(ctx.pathParam("author") + "/" + ctx.pathParam("slug"));
        if (endpoints == null) {
            Errors.send(ctx.response(), ErrorCodes.NOT_FOUND, "no such model");
            return;
        }
        ctx.response().putHeader("Content-Type", "application/json").end(endpoints.toBuffer());
    }

    void credits(RoutingContext ctx) {
        authenticated(ctx, (principal, c) -> credits.balance(principal.accountId()).map(balance -> new JsonObject()
                .put("data", new JsonObject()
                        .put("total_credits", Money.toUsd(balance.credited()))
                        .put("total_usage", Money.toUsd(balance.charged() - balance.refunded()))
                        .put("balance", Money.toUsd(balance.balance())))));
    }

    /**
     * {@code GET /v1/key}, OpenRouter's shape: the key's limit and what remains of it in the current period (spent and
     * held by requests in flight both count), the period, its spend today, this week and this month (UTC, from the
     * daily rollup) and its expiry. USD as JSON numbers.
     */
    void key(RoutingContext ctx) {
        authenticated(ctx, (principal, c) -> {
            java.time.Instant now = clock.instant();
            AccountsContract.KeyLimit limit = principal.limit();
            Future<JsonObject> spend = usage.keyUsage(principal.keyId(),
                    now.atOffset(java.time.ZoneOffset.UTC).toLocalDate());
            Future<Long> committed = limit == null ? Future.succeededFuture(0L) : keyLimits.committed(
                    principal.keyId(), co.corouter.server.billing.LimitsStage.periodStart(limit.reset(), now));
            return Future.all(spend, committed).map(v -> new JsonObject()
                    .put("data", new JsonObject()
                            .put("label", principal.label())
                            .put("limit", limit == null ? null : Money.toUsd(limit.amount()))
                            .put("limit_remaining", limit == null ? null
                                    : Money.toUsd(Math.max(0, limit.amount() - committed.result())))
                            .put("limit_reset", limit == null ? null : limit.reset().wire())
                            .put("include_byok_in_limit", false)
                            .put("usage", Money.toUsd(spend.result().getLong("total")))
                            .put("usage_daily", Money.toUsd(spend.result().getLong("daily")))
                            .put("usage_weekly", Money.toUsd(spend.result().getLong("weekly")))
                            .put("usage_monthly", Money.toUsd(spend.result().getLong("monthly")))
                            .put("byok_usage", 0)
                            .put("is_free_tier", false)
                            .put("is_provisioning_key", false)
                            .put("is_management_key", false)
                            .put("expires_at", principal.expiresAt() == null ? null
                                    : principal.expiresAt().toString())));
        });
    }

    void generation(RoutingContext ctx) {
        authenticated(ctx, (principal, c) -> {
            String id = generationId(c);
            return usage.generation(id, principal.accountId()).compose(row -> {
                if (row == null) {
                    return Future.failedFuture(new ApiException(ErrorCodes.NOT_FOUND, "generation not found"));
                }
                return Future.succeededFuture(new JsonObject().put("data", generationView(row)));
            });
        });
    }

    /** The {@code id} query parameter: one well-formed generation id, or a 400 (never a 500 for bad escapes). */
    private static String generationId(RoutingContext ctx) {
        List<String> ids;
        try {
            ids = ctx.queryParams().getAll("id");
        } catch (IllegalArgumentException badEscape) {
            throw new ApiException(ErrorCodes.BAD_REQUEST, "the query string is not validly percent-encoded");
        }
        if (ids.isEmpty() || ids.get(0).isBlank()) {
            throw new ApiException(ErrorCodes.BAD_REQUEST, "query parameter 'id' is required");
        }
        if (ids.size() > 1 || !GENERATION_ID.matcher(ids.get(0)).matches()) {
            throw new ApiException(ErrorCodes.BAD_REQUEST, "query parameter 'id' must be one generation id "
                    + "(gen- followed by 25 letters and digits)");
        }
        return ids.get(0);
    }

    static JsonObject generationView(JsonObject row) {
        return new JsonObject()
                .put("id", row.getString("id"))
                .put("total_cost", Money.toUsd(row.getLong("cost")))
                .put("created_at", row.getString("created_at"))
                .put("model", row.getString("model"))
                .put("provider_name", row.getString("provider"))
                .put("streamed", row.getBoolean("streamed"))
                .put("cancelled", row.getBoolean("cancelled"))
                .put("latency", row.getInteger("latency_ms"))
                .put("status", row.getInteger("status"))
                .put("error_code", row.getString("error_code"))
                .put("finish_reason", row.getString("finish_reason"))
                .put("native_finish_reason", row.getString("finish_reason"))
                .put("tokens_prompt", row.getInteger("prompt_tokens"))
                .put("tokens_completion", row.getInteger("completion_tokens"))
                .put("native_tokens_prompt", row.getInteger("prompt_tokens"))
                .put("native_tokens_completion", row.getInteger("completion_tokens"))
                .put("native_tokens_cached", row.getInteger("cached_tokens"))
                .put("native_tokens_cache_write", row.getInteger("cache_write_tokens"))
                .put("native_tokens_reasoning", row.getInteger("reasoning_tokens"))
                .put("usage", Money.toUsd(row.getLong("cost")))
                .put("usage_estimated", row.getBoolean("usage_estimated"))
                .put("is_byok", false)
                .put("api_type", row.getString("api"))
                .put("provider_responses", providerResponses(row));
    }

    /** Every attempt (stored when there was a fallback), or the one attempt the row itself records. */
    private static JsonArray providerResponses(JsonObject row) {
        String stored = row.getString("provider_responses");
        if (stored != null) {
            return new JsonArray(stored);
        }
        return new JsonArray().add(new JsonObject().put("model", row.getString("model"))
                .put("provider", row.getString("provider")).put("status", row.getInteger("status"))
                .put("latency", row.getInteger("latency_ms")));
    }

    private void authenticated(RoutingContext ctx, BiFunction<Principal, RoutingContext, Future<JsonObject>> action) {
        authenticator.authenticate(ctx.request().getHeader("Authorization"))
                .compose(principal -> {
                    try {
                        return action.apply(principal, ctx);
                    } catch (ApiException e) {
                        return Future.failedFuture(e);
                    }
                })
                .onSuccess(body -> ctx.response().putHeader("Content-Type", "application/json").end(body.toBuffer()))
                .onFailure(failure -> Errors.send(ctx.response(), Failure.of(failure, "-")));
    }
}
