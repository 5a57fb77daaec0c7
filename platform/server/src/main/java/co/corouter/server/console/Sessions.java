package co.corouter.server.console;

import co.corouter.server.accounts.UserRepository;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.config.ServerOptions;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * Console sessions (OWASP ASVS V3): a 256-bit random id in the session cookie, stored only as its SHA-256; a CSRF
 * token beside it, required as {@code X-CSRF-Token} on every state-changing request; idle and absolute expiry; a new
 * id at every sign-in and password change.
 */
final class Sessions {

    private static final Set<HttpMethod> STATE_CHANGING = Set.of(HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH,
            HttpMethod.DELETE);
    private static final int TOKEN_BYTES = 32;
    /** The base64url length of {@link #TOKEN_BYTES}; a cookie of any other length is not one of ours. */
    private static final int TOKEN_CHARS = 43;

    private final UserRepository users;
    private final SessionCookies cookies;
    private final ServerOptions.ConsoleOptions options;
    private final SecureRandom random = new SecureRandom();

    Sessions(UserRepository users, SessionCookies cookies, ServerOptions.ConsoleOptions options) {
        this.users = users;
        this.cookies = cookies;
        this.options = options;
    }

    /** Opens a session for the user and sets its cookies on the response; returns the session id. */
    Future<Long> open(RoutingContext ctx, long userId) {
        String token = randomToken();
        String csrf = randomToken();
        return users.createSession(userId, hash(token), csrf, userAgent(ctx), cookies.clientAddress(ctx.request()),
                        options.sessionAbsoluteHours())
                .onSuccess(id -> cookies.set(ctx.request(), ctx.response(), token, csrf));
    }

    /** Ends the session the request came with, if any (sign-in replaces it). */
    Future<Void> endPresented(RoutingContext ctx) {
        String token = cookies.session(ctx.request());
        return token == null || token.length() != TOKEN_CHARS ? Future.succeededFuture()
                : users.revokeSessionByToken(hash(token));
    }

    void clearCookies(RoutingContext ctx) {
        cookies.clear(ctx.request(), ctx.response());
    }

    /**
     * The session handler: a live session puts its {@link ConsoleUser} on the context; none → 401. A state-changing
     * request must also carry the session's CSRF token → 403 otherwise.
     */
    void authenticate(RoutingContext ctx) {
        String token = cookies.session(ctx.request());
        if (token == null || token.length() != TOKEN_CHARS) {
            ConsoleHttp.fail(ctx, ErrorCodes.UNAUTHORIZED, "sign in first");
            return;
        }
        users.findSession(hash(token), options.sessionIdleMinutes()).onSuccess(session -> {
            if (session == null) {
                ConsoleHttp.fail(ctx, ErrorCodes.UNAUTHORIZED, "the session has ended; sign in again");
                return;
            }
            if (STATE_CHANGING.contains(ctx.request().method()) && !csrfMatches(ctx, session.csrfToken())) {
                ConsoleHttp.fail(ctx, ErrorCodes.FORBIDDEN, "CSRF token missing or wrong");
                return;
            }
            ctx.put(ConsoleUser.KEY, new ConsoleUser(session.userId(), session.accountId(), session.id(),
                    session.email()));
            ctx.next();
        }).onFailure(e -> ConsoleHttp.fail(ctx, e));
    }

    private static boolean csrfMatches(RoutingContext ctx, String expected) {
        String given = ctx.request().getHeader(SessionCookies.CSRF_HEADER);
        return given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                expected.getBytes(StandardCharsets.UTF_8));
    }

    static String userAgent(RoutingContext ctx) {
        String agent = ctx.request().getHeader("User-Agent");
        if (agent == null) {
            return "";
        }
        String printable = agent.replaceAll("\\p{Cntrl}", "");
        return printable.length() > 512 ? printable.substring(0, 512) : printable;
    }

    private String randomToken() {
        byte[] bytes = new byte[TOKEN_BYTES];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static byte[] hash(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
