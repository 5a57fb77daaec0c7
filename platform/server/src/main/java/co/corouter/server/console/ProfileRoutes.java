package co.corouter.server.console;

import co.corouter.server.accounts.Passwords;
import co.corouter.server.accounts.UserRepository;
import co.corouter.server.billing.BillingContract;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.common.Money;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The signed-in user's own things: {@code /me} (profile, email change, password change) and {@code /sessions}.
 * Changing the email or the password asks for the current password again.
 */
final class ProfileRoutes implements ConsoleRoutes {

    private final UserRepository users;
    private final Passwords passwords;
    private final BillingContract.Credits credits;
    private final Sessions sessions;
    private final MailLinks links;
    private final Mailer mailer;
    private final String publicUrl;

    ProfileRoutes(UserRepository users, Passwords passwords, BillingContract.Credits credits, Sessions sessions,
            MailLinks links, Mailer mailer, String publicUrl) {
        this.users = users;
        this.passwords = passwords;
        this.credits = credits;
        this.sessions = sessions;
        this.links = links;
        this.mailer = mailer;
        this.publicUrl = publicUrl;
    }

    @Override
    public void mount(Router api) {
        api.get("/me").handler(this::me);
        api.patch("/me").handler(this::updateMe);
        api.post("/me/email").handler(this::changeEmail);
        api.post("/me/password").handler(this::changePassword);
        api.get("/sessions").handler(this::list);
        api.delete("/sessions/:id").handler(this::end);
    }

    /** What {@code GET /api/me} answers for a user: the profile and the account's balance. */
    Future<JsonObject> view(long userId, long accountId) {
        return users.profile(userId).compose(profile -> profile == null
                ? Future.failedFuture(new ApiException(ErrorCodes.UNAUTHORIZED, "the session has ended; sign in again"))
                : credits.balance(accountId).map(balance -> profile.put("balance_usd",
                        Money.toUsdText(balance.balance())).put("frozen", balance.frozen())));
    }

    private void me(RoutingContext ctx) {
        ConsoleUser user = ctx.get(ConsoleUser.KEY);
        ConsoleHttp.respond(ctx, 200, view(user.userId(), user.accountId()));
    }

    private void updateMe(RoutingContext ctx) {
        ConsoleUser user = ctx.get(ConsoleUser.KEY);
        Fields fields = new Fields(ConsoleHttp.body(ctx));
        String displayName = fields.optionalString("display_name", 200);
        String locale = fields.locale("locale");
        fields.check();
        ConsoleHttp.respond(ctx, 200, users.updateProfile(user.userId(), displayName, locale)
                .compose(v -> view(user.userId(), user.accountId())));
    }

    /** Mails a confirmation link to the new address; the change applies when it is used (POST /auth/verify). */
    private void changeEmail(RoutingContext ctx) {
        ConsoleUser user = ctx.get(ConsoleUser.KEY);
        Fields fields = new Fields(ConsoleHttp.body(ctx));
        String email = fields.email("email");
        String password = fields.password("password");
        fields.check();
        ConsoleHttp.respond(ctx, 202, currentPassword(user, password, "password").map(v -> {
            String token = links.mint(MailLinks.Purpose.EMAIL_CHANGE, user.userId(), email, -1);
            mailer.send("email-change", email, "Confirm your new corouter email address",
                    "Someone (hopefully you) asked to use this address for a corouter account.\n\n"
                            + "Confirm it within 24 hours: " + publicUrl + "/console/#/verify?token=" + token + "\n\n"
                            + "If this was not you, ignore this mail.\n");
            return new JsonObject().put("confirmation", "sent");
        }));
    }

    /** Sets a new password, ends every other session and rotates this one. */
    private void changePassword(RoutingContext ctx) {
        ConsoleUser user = ctx.get(ConsoleUser.KEY);
        Fields fields = new Fields(ConsoleHttp.body(ctx));
        String current = fields.password("current_password");
        String next = fields.newPassword("new_password");
        fields.check();
        ConsoleHttp.noContent(ctx, currentPassword(user, current, "current_password")
                .compose(v -> passwords.hash(next))
                .compose(hash -> users.changePassword(user.userId(), hash, 0))
                .compose(v -> sessions.open(ctx, user.userId())));
    }

    private Future<Void> currentPassword(ConsoleUser user, String password, String field) {
        return users.findById(user.userId())
                .compose(found -> passwords.verify(password, found == null ? null : found.passwordHash()))
                .compose(matches -> matches ? Future.succeededFuture()
                        : Future.failedFuture(ConsoleHttp.fieldError(field, "is wrong")));
    }

    private void list(RoutingContext ctx) {
        ConsoleUser user = ctx.get(ConsoleUser.KEY);
        ConsoleHttp.respond(ctx, 200, users.sessions(user.userId(), user.sessionId())
                .map(data -> new JsonObject().put("data", data)));
    }

    private void end(RoutingContext ctx) {
        ConsoleUser user = ctx.get(ConsoleUser.KEY);
        long id;
        try {
            id = Long.parseLong(ctx.pathParam("id"));
        } catch (NumberFormatException e) {
            ConsoleHttp.fail(ctx, ErrorCodes.NOT_FOUND, "no such session");
            return;
        }
        ConsoleHttp.noContent(ctx, users.revokeSession(user.userId(), id).compose(ended -> ended
                ? Future.succeededFuture()
                : Future.failedFuture(new ApiException(ErrorCodes.NOT_FOUND, "no such session"))));
    }
}
