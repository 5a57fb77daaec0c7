package co.corouter.server.console;

import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The console's two cookies and where a request came from. Over TLS (or behind a trusted TLS-terminating proxy) the
 * cookies are {@code __Host-corouter_session} (HttpOnly) and {@code __Host-corouter_csrf} (readable by the SPA), both
 * Secure, SameSite=Lax, Path=/. A plain-HTTP request from loopback (development, tests) gets {@code corouter_session}
 * and {@code corouter_csrf} without Secure: a browser would not send a Secure cookie back over HTTP. Anything else
 * still gets the Secure cookies, so a console reached over plain HTTP from afar cannot sign in (start-up warns).
 */
final class SessionCookies {

    static final String SECURE_SESSION = "__Host-corouter_session";
    static final String SECURE_CSRF = "__Host-corouter_csrf";
    static final String PLAIN_SESSION = "corouter_session";
    static final String PLAIN_CSRF = "corouter_csrf";
    static final String CSRF_HEADER = "X-CSRF-Token";

    private final boolean trustForwarded;

    SessionCookies(boolean trustForwarded) {
        this.trustForwarded = trustForwarded;
    }

    /** The session cookie's value, or null. */
    String session(HttpServerRequest request) {
        Cookie cookie = request.getCookie(plain(request) ? PLAIN_SESSION : SECURE_SESSION);
        return cookie == null ? null : cookie.getValue();
    }

    void set(HttpServerRequest request, HttpServerResponse response, String sessionToken, String csrfToken) {
        boolean plain = plain(request);
        response.addCookie(cookie(plain ? PLAIN_SESSION : SECURE_SESSION, sessionToken, !plain, true));
        response.addCookie(cookie(plain ? PLAIN_CSRF : SECURE_CSRF, csrfToken, !plain, false));
    }

    void clear(HttpServerRequest request, HttpServerResponse response) {
        boolean plain = plain(request);
        response.addCookie(cookie(plain ? PLAIN_SESSION : SECURE_SESSION, "", !plain, true).setMaxAge(0));
        response.addCookie(cookie(plain ? PLAIN_CSRF : SECURE_CSRF, "", !plain, false).setMaxAge(0));
    }

    private static Cookie cookie(String name, String value, boolean secure, boolean httpOnly) {
        return Cookie.cookie(name, value).setPath("/").setSecure(secure).setHttpOnly(httpOnly)
                .setSameSite(CookieSameSite.LAX);
    }

    /** Plain HTTP from a loopback address, not forwarded from a TLS proxy. */
    boolean plain(HttpServerRequest request) {
        if (request.isSSL()) {
            return false;
        }
        if (trustForwarded && "https".equalsIgnoreCase(firstValue(request.getHeader("X-Forwarded-Proto")))) {
            return false;
        }
        return loopback(request.remoteAddress());
    }

    /** The client's address: the peer, or behind a trusted proxy the last hop it appended to X-Forwarded-For. */
    String clientAddress(HttpServerRequest request) {
        if (trustForwarded) {
            String forwarded = request.getHeader("X-Forwarded-For");
            if (forwarded != null && !forwarded.isBlank()) {
                String[] hops = forwarded.split(",");
                String last = hops[hops.length - 1].trim();
                if (!last.isEmpty() && last.length() <= 64) {
                    return last;
                }
            }
        }
        SocketAddress peer = request.remoteAddress();
        return peer == null || peer.hostAddress() == null ? "" : peer.hostAddress();
    }

    private static boolean loopback(SocketAddress peer) {
        if (peer == null || peer.hostAddress() == null) {
            return false;
        }
        String host = peer.hostAddress();
        if (!host.matches("[0-9.]+|[0-9a-fA-F:.]+")) {
            return false;
        }
        try {
            // a literal address: no name lookup happens
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static String firstValue(String header) {
        if (header == null) {
            return null;
        }
        int comma = header.indexOf(',');
        return (comma < 0 ? header : header.substring(0, comma)).trim();
    }
}
