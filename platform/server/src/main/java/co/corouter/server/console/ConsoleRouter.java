package co.corouter.server.console;

import co.corouter.server.accounts.Passwords;
import co.corouter.server.accounts.UserRepository;
import co.corouter.server.billing.BillingContract;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.config.ServerOptions;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the {@code /api} sub-router of the console (docs/console-api.md), in this order: no-store caching; a JSON
 * object body of at most 64 KiB (or none); the public sign-up and sign-in routes; the session handler (401 without a
 * live session, 403 without the session's CSRF token on a state-changing method); the signed-in routes; then every
 * {@link ConsoleRoutes} group it was given. Every error has the {@code /v1} shape. The state (throttle counters,
 * services) is the node's; {@link #router} builds one router per ingress verticle over it.
 */
public final class ConsoleRouter {

    private static final Logger log = LoggerFactory.getLogger(ConsoleRouter.class);
    static final int BODY_LIMIT = 64 * 1024;

    private final Sessions sessions;
    private final AuthRoutes auth;
    private final ProfileRoutes profile;
    private final List<ConsoleRoutes> groups;

    private ConsoleRouter(Sessions sessions, AuthRoutes auth, ProfileRoutes profile, List<ConsoleRoutes> groups) {
        this.sessions = sessions;
        this.auth = auth;
        this.profile = profile;
        this.groups = groups;
    }

    /**
     * The console over the node's services. {@code linkSecret}: the deployment's link-signing secret; {@code groups}:
     * further signed-in route groups, mounted in order after the console's own.
     */
    public static ConsoleRouter create(Vertx vertx, ServerOptions options, UserRepository users,
            BillingContract.Credits credits, byte[] linkSecret, List<ConsoleRoutes> groups) {
        ServerOptions.ConsoleOptions console = options.console();
        warnWithoutTls(options.http().host(), console.trustForwardedProto());
        SessionCookies cookies = new SessionCookies(console.trustForwardedProto());
        Sessions sessions = new Sessions(users, cookies, console);
        Passwords passwords = new Passwords(vertx);
        MailLinks links = new MailLinks(vertx, linkSecret);
        Mailer mailer = Mailer.create(vertx, options.mail(), options.dataDir());
        LoginThrottle throttle = new LoginThrottle(console.loginFailuresPerAccount(), console.loginFailuresPerIp(),
                Duration.ofMinutes(console.loginWindowMinutes()));
        ProfileRoutes profile = new ProfileRoutes(users, passwords, credits, sessions, links, mailer,
                console.publicUrl());
        AuthRoutes auth = new AuthRoutes(users, passwords, links, mailer, sessions, cookies, throttle, profile,
                console.publicUrl());
        return new ConsoleRouter(sessions, auth, profile, List.copyOf(groups));
    }

    /** A new {@code /api} sub-router on {@code vertx}; mount it with {@code route("/api/*").subRouter(...)}. */
    public Router router(Vertx vertx) {
        Router api = Router.router(vertx);
        api.route().failureHandler(ConsoleRouter::failed);
        api.route().handler(ctx -> {
            ctx.response().putHeader("Cache-Control", "no-store");
            ctx.next();
        });
        api.route().handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT));
        api.route().handler(ConsoleRouter::jsonBody);
        auth.mountPublic(api);
        api.route().handler(sessions::authenticate);
        auth.mountSignedIn(api);
        profile.mount(api);
        for (ConsoleRoutes group : groups) {
            group.mount(api);
        }
        return api;
    }

    /** Bodies are JSON objects or nothing: anything else is refused before a handler sees it. */
    private static void jsonBody(RoutingContext ctx) {
        Buffer raw = ctx.body().buffer();
        if (raw == null || raw.length() == 0) {
            ctx.next();
            return;
        }
        String type = ctx.request().getHeader("Content-Type");
        if (type == null || !type.trim().toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            ConsoleHttp.fail(ctx, 415, "the request body must be JSON (Content-Type: application/json)");
            return;
        }
        Object parsed;
        try {
            parsed = Json.decodeValue(raw);
        } catch (DecodeException e) {
            parsed = null;
        }
        if (!(parsed instanceof JsonObject body)) {
            ConsoleHttp.fail(ctx, ErrorCodes.BAD_REQUEST, "the request body is not a JSON object");
            return;
        }
        ctx.put(ConsoleHttp.BODY, body);
        ctx.next();
    }

    /** A failure inside the sub-router: a thrown {@code ApiException}, or a status the router set (413, 400, …). */
    private static void failed(RoutingContext ctx) {
        if (ctx.failure() != null && !(ctx.failure() instanceof io.vertx.ext.web.handler.HttpException)) {
            ConsoleHttp.fail(ctx, ctx.failure());
            return;
        }
        int code = ctx.statusCode() > 0 ? ctx.statusCode() : ErrorCodes.INTERNAL;
        ConsoleHttp.fail(ctx, code, switch (code) {
            case ErrorCodes.PAYLOAD_TOO_LARGE -> "the request body exceeds " + BODY_LIMIT + " bytes";
            case ErrorCodes.BAD_REQUEST -> "the request could not be read";
            case ErrorCodes.NOT_FOUND -> "no such endpoint";
            default -> code >= 500 ? "internal error" : "the request was refused";
        });
    }

    private static void warnWithoutTls(String host, boolean trustForwardedProto) {
        if (trustForwardedProto) {
            return;
        }
        boolean loopback = "localhost".equalsIgnoreCase(host);
        if (!loopback && host.matches("[0-9a-fA-F:.]+")) {
            try {
                // a literal address: no name lookup happens
                loopback = InetAddress.getByName(host).isLoopbackAddress();
            } catch (UnknownHostException e) {
                loopback = false;
            }
        }
        if (!loopback) {
            log.warn("the console needs TLS: http.host {} is not a loopback address, so browsers get Secure session "
                    + "cookies they will only send over HTTPS. Put a TLS-terminating proxy in front and set "
                    + "console.trust_forwarded_proto: true", host);
        }
    }
}
