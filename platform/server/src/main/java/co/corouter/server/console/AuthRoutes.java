package co.corouter.server.console;

import co.corouter.server.accounts.Passwords;
import co.corouter.server.accounts.UserRepository;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/auth/*}: sign-up, the mailed links (verify, password reset), sign-in and sign-out. Nothing here tells
 * whether an email has an account: sign-up answers the same for a taken address (and mails its owner instead), a
 * failed sign-in is one 401 whatever failed, with a password check against a dummy hash when there is no user, and a
 * reset request is always 202.
 */
final class AuthRoutes {

    private static final Logger log = LoggerFactory.getLogger(AuthRoutes.class);
    static final String INVALID_LOGIN = "invalid email or password";

    private final UserRepository users;
    private final Passwords passwords;
    private final MailLinks links;
    private final Mailer mailer;
    private final Sessions sessions;
    private final SessionCookies cookies;
    private final LoginThrottle throttle;
    private final ProfileRoutes profiles;
    private final String publicUrl;

    AuthRoutes(UserRepository users, Passwords passwords, MailLinks links, Mailer mailer, Sessions sessions,
            SessionCookies cookies, LoginThrottle throttle, ProfileRoutes profiles, String publicUrl) {
        this.users = users;
        this.passwords = passwords;
        this.links = links;
        this.mailer = mailer;
        this.sessions = sessions;
        this.cookies = cookies;
        this.throttle = throttle;
        this.profiles = profiles;
        this.publicUrl = publicUrl;
    }

    /** The routes that need no session (and no CSRF token: they act for nobody signed in). */
    void mountPublic(Router api) {
        api.post("/auth/signup").handler(this::signUp);
        api.post("/auth/verify").handler(this::verify);
        api.post("/auth/login").handler(this::login);
        api.post("/auth/password-reset").handler(this::requestReset);
        api.post("/auth/password-reset/confirm").handler(this::confirmReset);
    }

    /** The routes behind the session handler. */
    void mountSignedIn(Router api) {
        api.post("/auth/logout").handler(this::logout);
    }

    private void signUp(RoutingContext ctx) {
        Fields fields = new Fields(ConsoleHttp.body(ctx));
        String email = fields.email("email");
        String password = fields.newPassword("password");
        fields.requireTrue("adult");
        String policyVersion = fields.string("policy_version", 32);
        String given = fields.locale("locale");
        fields.check();
        String locale = given == null || given.isEmpty() ? "en" : given;
        // the same work and the same answer whether or not the address is taken
        ConsoleHttp.respond(ctx, 201, passwords.hash(password)
                .compose(hash -> users.signUp(email, hash, policyVersion, locale))
                .map(user -> {
                    if (user != null) {
                        String token = links.mint(MailLinks.Purpose.VERIFY, user.id(), user.email(), -1);
                        mailer.send("verification", email, "Confirm your corouter email address",
                                "Welcome to corouter.\n\nConfirm your email address within 24 hours: " + publicUrl
                                        + "/console/#/verify?token=" + token + "\n\n"
                                        + "If you did not sign up, ignore this mail.\n");
                    } else {
                        mailer.send("signup-taken", email, "Someone tried to sign up with your email address",
                                "Someone (perhaps you) tried to create a corouter account with this address, which "
                                        + "already has one.\n\nSign in at " + publicUrl + "/console/ or, if you "
                                        + "forgot your password, reset it at " + publicUrl
                                        + "/console/#/password-reset\n\nIf this was not you, ignore this mail.\n");
                    }
                    return new JsonObject()
                            .put("user", new JsonObject().put("email", email).put("email_verified", false)
                                    .put("display_name", "").put("locale", locale))
                            .put("verification", "sent");
                }));
    }

    /** Verifies an email, or applies an email change, from a mailed link. */
    private void verify(RoutingContext ctx) {
        Fields fields = new Fields(ConsoleHttp.body(ctx));
        String token = fields.string("token", 4096);
        fields.check();
        ConsoleHttp.respond(ctx, 200, links.check(token, MailLinks.Purpose.VERIFY, MailLinks.Purpose.EMAIL_CHANGE)
                .compose(link -> link.email() == null ? Future.succeededFuture(false)
                        : link.purpose() == MailLinks.Purpose.VERIFY
                        ? users.verifyEmail(link.jti(), link.expiresAt(), link.userId(), link.email())
                        : users.changeEmail(link.jti(), link.expiresAt(), link.userId(), link.email()))
                .compose(AuthRoutes::linkApplied)
                .map(v -> new JsonObject().put("verified", true)));
    }

    private void login(RoutingContext ctx) {
        Fields fields = new Fields(ConsoleHttp.body(ctx));
        String email = fields.string("email", 254);
        String password = fields.password("password");
        fields.check();
        String normalized = UserRepository.normalize(email);
        String address = cookies.clientAddress(ctx.request());
        String agent = Sessions.userAgent(ctx);
        users.findByEmail(email).compose(user -> {
            Long userId = user == null ? null : user.id();
            long retryAfter = throttle.retryAfterSeconds(normalized, address);
            if (retryAfter > 0) {
                return users.recordLogin(userId, address, agent, "throttled").compose(v -> {
                    ctx.response().putHeader("Retry-After", Long.toString(retryAfter));
                    return Future.failedFuture(new ApiException(ErrorCodes.RATE_LIMITED,
                            "too many failed sign-ins; try again later"));
                });
            }
            return passwords.verify(password, user == null ? null : user.passwordHash()).compose(matches -> {
                if (!matches) {
                    throttle.failed(normalized, address);
                    return users.recordLogin(userId, address, agent, "bad_credentials")
                            .compose(v -> Future.failedFuture(new ApiException(ErrorCodes.UNAUTHORIZED,
                                    INVALID_LOGIN)));
                }
                throttle.succeeded(normalized);
                return sessions.endPresented(ctx)
                        .compose(v -> sessions.open(ctx, user.id()))
                        .compose(sessionId -> users.recordLogin(userId, address, agent, "success"))
                        .compose(v -> profiles.view(user.id(), user.accountId()));
            });
        }).onSuccess(me -> ConsoleHttp.json(ctx, 200, new JsonObject().put("user", me)))
                .onFailure(e -> ConsoleHttp.fail(ctx, e));
    }

    private void logout(RoutingContext ctx) {
        ConsoleUser user = ctx.get(ConsoleUser.KEY);
        ConsoleHttp.noContent(ctx, users.revokeSession(user.userId(), user.sessionId())
                .onSuccess(v -> sessions.clearCookies(ctx)));
    }

    /** Always 202; a user with this email gets a reset link (mailed after the answer, so timing tells nothing). */
    private void requestReset(RoutingContext ctx) {
        Fields fields = new Fields(ConsoleHttp.body(ctx));
        String email = fields.email("email");
        fields.check();
        ConsoleHttp.json(ctx, 202, new JsonObject().put("reset", "requested"));
        users.findByEmail(email).compose(user -> user == null || user.passwordHash() == null
                ? Future.succeededFuture()
                : users.passwordChangedAt(user.id()).compose(changedAt -> {
                    String token = links.mint(MailLinks.Purpose.RESET, user.id(), null, changedAt);
                    return mailer.send("password-reset", user.email(), "Reset your corouter password",
                            "Someone (hopefully you) asked to reset the password of your corouter account.\n\n"
                                    + "Choose a new one within 30 minutes: " + publicUrl
                                    + "/console/#/password-reset?token=" + token + "\n\n"
                                    + "If this was not you, ignore this mail; your password stays as it is.\n");
                })).onFailure(e -> log.warn("a password reset request failed: {}", e.getClass().getSimpleName()));
    }

    /** Sets the new password from a reset link; every session of the user ends. */
    private void confirmReset(RoutingContext ctx) {
        Fields fields = new Fields(ConsoleHttp.body(ctx));
        String token = fields.string("token", 4096);
        String password = fields.newPassword("password");
        fields.check();
        ConsoleHttp.respond(ctx, 200, links.check(token, MailLinks.Purpose.RESET)
                .compose(link -> passwords.hash(password).compose(hash -> users.resetPassword(link.jti(),
                        link.expiresAt(), link.userId(), link.passwordChangedAt(), hash)))
                .compose(AuthRoutes::linkApplied)
                .map(v -> new JsonObject().put("reset", true)));
    }

    private static Future<Void> linkApplied(boolean applied) {
        return applied ? Future.succeededFuture()
                : Future.failedFuture(new ApiException(ErrorCodes.BAD_REQUEST,
                        "the link is invalid, expired or already used"));
    }
}
