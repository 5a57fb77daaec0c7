package co.corouter.server.console.data;

import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.billing.BillingContract;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.console.ConsoleRoutes;
import co.corouter.server.console.ConsoleUser;
import co.corouter.server.metering.MeteringContract;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.function.Function;

/**
 * The privacy policy's rights (§8) for the signed-in user: access and portability ({@code GET /api/privacy/export},
 * one JSON file, streamed), restriction ({@code POST /api/privacy/restrict}: the account's keys are refused on
 * {@code /v1} while it is set) and erasure ({@code POST /api/privacy/delete}, with the password).
 *
 * <p>What erasure does: every key revoked (on every node at once), every session ended, the sign-in history deleted,
 * the user row pseudonymised ({@code email = 'erased-<id>@invalid'}, no sign-in name, password hash or display name,
 * {@code erased_at} set) and the account renamed {@code erased-<id>}. Kept, because billing and tax law require it and
 * they hold ids only, no personal data: the ledger, the daily usage rollup and the usage rows within their retention
 * window (then purged as for everyone).
 */
final class PrivacyRoutes implements ConsoleRoutes {

    static final int EXPORT_PAGE = 1_000;

    private final AccountsContract.Accounts accounts;
    private final AccountsContract.OwnerKeys keys;
    private final BillingContract.Credits credits;
    private final BillingContract.History history;
    private final MeteringContract.ConsoleUsage usage;
    private final PrivacyRepository people;
    private final PasswordCheck passwords;
    private final Function<ConsoleUser, Future<JsonObject>> me;
    private final Clock clock;
    private final co.corouter.server.audit.AuditContract.Configs audit;

    PrivacyRoutes(AccountsContract.Accounts accounts, AccountsContract.OwnerKeys keys,
            BillingContract.Credits credits, BillingContract.History history, MeteringContract.ConsoleUsage usage,
            PrivacyRepository people, PasswordCheck passwords, Function<ConsoleUser, Future<JsonObject>> me,
            Clock clock, co.corouter.server.audit.AuditContract.Configs audit) {
        this.audit = audit;
        this.accounts = accounts;
        this.keys = keys;
        this.credits = credits;
        this.history = history;
        this.usage = usage;
        this.people = people;
        this.passwords = passwords;
        this.me = me;
        this.clock = clock;
    }

    @Override
    public void mount(Router api) {
        api.get("/privacy/export").handler(this::export);
        api.post("/privacy/restrict").handler(Replies.json(ctx -> restrict(Replies.user(ctx),
                Replies.body(ctx).getValue("restricted"))));
        api.post("/privacy/delete").handler(Replies.handler(ctx -> delete(Replies.user(ctx),
                Replies.body(ctx).getValue("password")).map(v -> new Replies.Reply(204, null))));
    }

    private void export(RoutingContext ctx) {
        ConsoleUser user;
        try {
            user = Replies.user(ctx);
        } catch (ApiException e) {
            Replies.fail(ctx, e);
            return;
        }
        HttpServerResponse response = ctx.response();
        exportHead(user).compose(head -> {
            response.setChunked(true).putHeader("Content-Type", "application/json")
                    .putHeader("Cache-Control", "no-store")
                    .putHeader("Content-Disposition", "attachment; filename=\"corouter-export-"
                            + LocalDate.now(clock.withZone(ZoneOffset.UTC)) + ".json\"");
            // the head object, left open for the usage rows that follow it page by page
            String open = head.encode();
            return response.write(open.substring(0, open.length() - 1) + ",\"usage\":[")
                    .compose(v -> streamUsage(user, response))
                    .compose(v -> response.end("]}"));
        }).onFailure(e -> Replies.fail(ctx, e));
    }

    /** Everything of the export but the usage rows: small, read at once. */
    Future<JsonObject> exportHead(ConsoleUser user) {
        Future<JsonObject> account = accounts.account(user.accountId());
        Future<Boolean> restricted = keys.restricted(user.accountId());
        Future<JsonObject> profile = people.profile(user.userId());
        Future<JsonArray> allKeys = accounts.keys(user.accountId());
        Future<JsonArray> sessions = people.sessions(user.userId());
        Future<JsonArray> logins = people.logins(user.userId());
        Future<BillingContract.Balance> balance = credits.balance(user.accountId());
        Future<JsonArray> ledger = history.transactions(user.accountId());
        LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        Future<JsonObject> daily = usage.activity(user.accountId(), LocalDate.of(2000, 1, 1), today,
                MeteringContract.Grouping.MODEL);
        Future<JsonObject> auditConfig = audit == null ? Future.succeededFuture() : audit.export(user.accountId());
        return Future.all(java.util.List.of(account, restricted, profile, allKeys, sessions, logins, balance, ledger,
                daily, auditConfig)).map(v -> {
                    JsonObject person = profile.result() == null ? new JsonObject() : profile.result();
                    return new JsonObject()
                            .put("exported_at", Instant.now(clock).toString())
                            .put("account", account.result().put("restricted", restricted.result())
                                    .put("balance_usd", co.corouter.server.common.Money.toUsdText(
                                            balance.result().balance())))
                            .put("profile", person)
                            .put("preferences", new JsonObject().put("locale", person.getString("locale"))
                                    .put("display_name", person.getString("display_name")))
                            .put("keys", allKeys.result())
                            .put("sessions", sessions.result())
                            .put("login_history", logins.result())
                            .put("billing_history", ledger.result())
                            .put("usage_by_day", daily.result().getJsonArray("data"))
                            .put("audit", auditConfig.result());
                });
    }

    /** The usage rows, oldest first, a page at a time, each written before the next is read. */
    private Future<Void> streamUsage(ConsoleUser user, HttpServerResponse response) {
        boolean[] first = {true};
        return usage.exportGenerations(user.accountId(), EXPORT_PAGE, page -> {
            Buffer chunk = Buffer.buffer(page.size() * 400);
            for (Object row : page) {
                if (!first[0]) {
                    chunk.appendByte((byte) ',');
                }
                first[0] = false;
                chunk.appendBuffer(((JsonObject) row).toBuffer());
            }
            return response.write(chunk);
        });
    }

    Future<JsonObject> restrict(ConsoleUser user, Object restricted) {
        if (!(restricted instanceof Boolean flag)) {
            throw Replies.fieldError("restricted", "'restricted' must be true or false");
        }
        return keys.restrict(user.accountId(), flag).compose(v -> me == null
                ? Future.succeededFuture(new JsonObject().put("restricted", flag)) : me.apply(user));
    }

    Future<Void> delete(ConsoleUser user, Object password) {
        if (!(password instanceof String text) || text.isEmpty()) {
            throw Replies.fieldError("password", "the password is required");
        }
        return people.passwordHash(user.userId())
                .compose(hash -> hash == null ? Future.succeededFuture(false) : passwords.check(hash, text))
                .compose(matches -> {
                    if (!matches) {
                        return Future.failedFuture(new ApiException(ErrorCodes.FORBIDDEN, "the password is wrong",
                                new JsonObject().put("fields", new JsonObject().put("password",
                                        "the password is wrong"))));
                    }
                    // keys first: should the rest fail, the user can sign in again and retry, but no key works
                    return keys.erase(user.accountId())
                            .compose(v -> audit == null ? Future.succeededFuture() : audit.erase(user.accountId()))
                            .compose(v -> people.erase(user.userId()));
                });
    }
}
