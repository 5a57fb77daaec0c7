package co.corouter.server.ingress;

import co.corouter.server.common.ErrorCodes;
import co.corouter.server.routing.ModelCatalog;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * corouter's public pages, rendered on the server: {@code /} (what corouter is, how to point a client at it, the
 * catalog with its prices), {@code /privacy} (the privacy policy) and {@code /cookies} (every cookie corouter may set,
 * and the language choice), with their one stylesheet at {@code /assets/site.css}, in English and German.
 *
 * <p>The language is the {@value #LOCALE_COOKIE} cookie's, else the best match of {@code Accept-Language}, else
 * English. That cookie is the only one these pages ever set, and only when the visitor picks a language
 * ({@code GET /locale?lang=de&back=/} from a link, or the form's {@code POST /locale}); an empty {@code lang} deletes it.
 * The pages make no request to another origin: the stylesheet is served here, there are no fonts, no scripts, and
 * the Content-Security-Policy forbids the rest.
 */
public final class PublicPages {

    /** The version of the privacy policy these pages publish (its "Last updated" date), as sign-up records it. */
    public static final String POLICY_VERSION = "2026-06-30";
    /** The visitor's chosen language ({@code en}, {@code de}); set only when they choose one. */
    public static final String LOCALE_COOKIE = "corouter_locale";
    public static final long LOCALE_MAX_AGE_SECONDS = 31_536_000L;
    public static final String CONTENT_SECURITY_POLICY = "default-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
    /** The languages of the pages; the first is the default. */
    public static final List<Locale> LANGUAGES = List.of(Locale.ENGLISH, Locale.GERMAN);

    private static final String RESOURCES = "/co/corouter/pages/";
    private static final String CSS_PATH = "/assets/site.css";
    private static final int FORM_LIMIT = 2048;
    private static final int MAX_BACK_LENGTH = 512;
    private static final int MAX_ACCEPT_LANGUAGE_LENGTH = 256;
    private static final String FALLBACK_ORIGIN = "https://corouter.example";
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.-]{1,253}|\\[[0-9A-Fa-f:.]{2,45}]");

    /** The stylesheet and the policy: immutable, read once when the class loads (at boot, before any request). */
    private static final String CSS = resource("site.css");
    private static final String CSS_HREF = CSS_PATH + "?v=" + digest(CSS);
    private static final PrivacyPolicy POLICY = policy();

    private final EdgeGuard guard;
    private final PageViews views;

    /** @param guard the edge guard that reads the language form's body under the node's body rules */
    PublicPages(ModelCatalog catalog, EdgeGuard guard) {
        this.guard = guard;
        this.views = new PageViews(LANGUAGES, catalog, POLICY, CSS_HREF);
    }

    /** Adds the pages' routes to the node's router. */
    public void mount(Router web) {
        web.get(PageViews.Page.LANDING.path).handler(ctx -> page(ctx, PageViews.Page.LANDING));
        web.get(PageViews.Page.PRIVACY.path).handler(ctx -> page(ctx, PageViews.Page.PRIVACY));
        web.get(PageViews.Page.COOKIES.path).handler(ctx -> page(ctx, PageViews.Page.COOKIES));
        web.get(CSS_PATH).handler(this::stylesheet);
        web.get("/locale").handler(ctx -> choose(ctx, ctx.request().getParam("lang"), ctx.request().getParam("back")));
        web.post("/locale").handler(this::chooseByForm);
    }

    private void page(RoutingContext ctx, PageViews.Page page) {
        HttpServerRequest request = ctx.request();
        Locale chosen = supported(cookieValue(request));
        Locale locale = chosen != null ? chosen : fromBrowser(request.getHeader("Accept-Language"));
        String html = switch (page) {
            case LANDING -> views.landing(locale, origin(request));
            case PRIVACY -> views.privacy(locale);
            case COOKIES -> views.cookies(locale, chosen);
        };
        guarded(ctx.response())
                .putHeader("Content-Type", "text/html; charset=utf-8")
                .putHeader("Content-Language", locale.getLanguage())
                .putHeader("Vary", "Accept-Language, Cookie")
                .putHeader("Cache-Control", "no-cache")
                .end(html);
    }

    private void stylesheet(RoutingContext ctx) {
        // the pages link it with a digest of its content: a changed file gets a new URL, so it may be cached for good
        guarded(ctx.response())
                .putHeader("Content-Type", "text/css; charset=utf-8")
                .putHeader("Cache-Control", "public, max-age=31536000, immutable")
                .end(CSS);
    }

    private void chooseByForm(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        BodyReader.read(request, ctx.get(IngressVerticle.WATCH), FORM_LIMIT, guard).onSuccess(body -> {
            if (crossSite(request)) {
                Errors.send(ctx.response(), ErrorCodes.FORBIDDEN, "the language form must be sent from this site");
                return;
            }
            String type = request.getHeader("Content-Type");
            if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
                Errors.send(ctx.response(), 415, "the language form is sent as application/x-www-form-urlencoded");
                return;
            }
            QueryStringDecoder form;
            try {
                form = new QueryStringDecoder(body.toString(StandardCharsets.UTF_8), StandardCharsets.UTF_8, false);
                form.parameters();
            } catch (IllegalArgumentException e) {
                Errors.send(ctx.response(), ErrorCodes.BAD_REQUEST, "the language form is not validly encoded");
                return;
            }
            choose(ctx, first(form, "lang"), first(form, "back"));
        });
    }

    /**
     * Sets (a supported {@code lang}) or deletes (an empty one) the locale cookie and sends the visitor back to
     * {@code back} when that is a path on this site, else to {@code /}. A missing or unknown language changes nothing.
     */
    private void choose(RoutingContext ctx, String lang, String back) {
        HttpServerResponse response = guarded(ctx.response());
        boolean secure = https(ctx.request());
        if (lang != null && lang.isEmpty()) {
            response.addCookie(localeCookie("", 0, secure));
        } else {
            Locale language = supported(lang);
            if (language != null) {
                response.addCookie(localeCookie(language.getLanguage(), LOCALE_MAX_AGE_SECONDS, secure));
            }
        }
        response.setStatusCode(303)
                .putHeader("Location", localPath(back))
                .putHeader("Cache-Control", "no-store")
                .end();
    }

    private static Cookie localeCookie(String value, long maxAge, boolean secure) {
        // HttpOnly: no script reads it (there are none); Secure whenever the visitor came over HTTPS
        return Cookie.cookie(LOCALE_COOKIE, value).setPath("/").setMaxAge(maxAge).setSameSite(CookieSameSite.LAX)
                .setHttpOnly(true).setSecure(secure);
    }

    /**
     * {@code back} when it is a path on this site ({@code /cookies}, {@code /console/#/login}), else {@code /}: never a
     * URL with a scheme or host, a protocol-relative {@code //host}, a backslash (which browsers read as a slash),
     * whitespace, control or non-ASCII characters.
     */
    static String localPath(String back) {
        if (back == null || back.isEmpty() || back.length() > MAX_BACK_LENGTH || back.charAt(0) != '/'
                || back.startsWith("//")) {
            return "/";
        }
        for (int i = 0; i < back.length(); i++) {
            char c = back.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '\\') {
                return "/";
            }
        }
        try {
            URI uri = new URI(back);
            return uri.getScheme() == null && uri.getRawAuthority() == null ? back : "/";
        } catch (URISyntaxException e) {
            return "/";
        }
    }

    /** The best of the pages' languages for an {@code Accept-Language} header; English when none fits. */
    static Locale fromBrowser(String acceptLanguage) {
        if (acceptLanguage == null || acceptLanguage.isBlank() || acceptLanguage.length() > MAX_ACCEPT_LANGUAGE_LENGTH) {
            return LANGUAGES.get(0);
        }
        try {
            Locale best = Locale.lookup(Locale.LanguageRange.parse(acceptLanguage), LANGUAGES);
            return best != null ? best : LANGUAGES.get(0);
        } catch (IllegalArgumentException e) {
            return LANGUAGES.get(0);
        }
    }

    private static Locale supported(String code) {
        if (code == null) {
            return null;
        }
        for (Locale language : LANGUAGES) {
            if (language.getLanguage().equals(code)) {
                return language;
            }
        }
        return null;
    }

    private static String cookieValue(HttpServerRequest request) {
        Cookie cookie = request.getCookie(LOCALE_COOKIE);
        return cookie == null ? null : cookie.getValue();
    }

    /** A form posted by another site's page: its {@code Origin} names a different host than the one it was sent to. */
    private static boolean crossSite(HttpServerRequest request) {
        String origin = request.getHeader("Origin");
        if (origin == null) {
            return false;
        }
        HostAndPort authority = request.authority();
        try {
            String from = new URI(origin).getRawAuthority();
            return authority == null || from == null || !from.equalsIgnoreCase(hostAndPort(authority));
        } catch (URISyntaxException e) {
            return true;
        }
    }

    /** Where the landing page tells clients to point: this request's origin, when its host is a plain host name. */
    private static String origin(HttpServerRequest request) {
        HostAndPort authority = request.authority();
        if (authority == null || !HOST.matcher(authority.host()).matches()) {
            return FALLBACK_ORIGIN;
        }
        return (https(request) ? "https" : "http") + "://" + hostAndPort(authority).toLowerCase(Locale.ROOT);
    }

    private static String hostAndPort(HostAndPort authority) {
        return authority.port() < 0 ? authority.host() : authority.host() + ":" + authority.port();
    }

    private static boolean https(HttpServerRequest request) {
        // behind a TLS-terminating proxy; trusting it can only add Secure to a cookie or say https on the page
        return request.isSSL() || "https".equalsIgnoreCase(request.getHeader("X-Forwarded-Proto"));
    }

    /** The headers every public response carries: nothing from elsewhere, no framing, no sniffing. */
    private static HttpServerResponse guarded(HttpServerResponse response) {
        return response.putHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                .putHeader("X-Content-Type-Options", "nosniff")
                .putHeader("X-Frame-Options", "DENY")
                .putHeader("Referrer-Policy", "same-origin")
                .putHeader("Cross-Origin-Opener-Policy", "same-origin");
    }

    private static String first(QueryStringDecoder form, String name) {
        List<String> values = form.parameters().get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    private static PrivacyPolicy policy() {
        PrivacyPolicy policy = PrivacyPolicy.parse(resource("privacy-policy.txt"), RESOURCES + "privacy-policy.txt");
        if (!policy.version().toString().equals(POLICY_VERSION)) {
            throw new IllegalStateException("privacy-policy.txt was last updated " + policy.version()
                    + " but PublicPages.POLICY_VERSION says " + POLICY_VERSION + ": change both together");
        }
        return policy;
    }

    private static String resource(String name) {
        try (InputStream in = PublicPages.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + RESOURCES + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCES + name, e);
        }
    }

    private static String digest(String text) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
