package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.ingress.PublicPages;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The public pages over plain HTTP: their headers, the language choice and its cookie, redirects, escaping. */
class PublicPagesTest {

    static final String HOSTILE_ID = "evil/<script>alert(1)</script>";
    static final String HOSTILE_NAME = "<script>alert('name')</script> & \"Quoted\" <b>bold</b>";

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder()
            .model(new JsonObject().put("id", HOSTILE_ID).put("name", HOSTILE_NAME).put("provider", "mock")
                    .put("upstream_model", "mock-small").put("context_length", 1024).put("max_output_tokens", 256)
                    .put("pricing", new JsonObject().put("prompt_per_million", "0.000000001")
                            .put("completion_per_million", "1234.5")))
            .build();

    @ParameterizedTest
    @ValueSource(strings = {"/", "/privacy", "/cookies"})
    void everyPageIsHtmlUnderTheStrictPolicyAndSetsNoCookie(String path) {
        HttpResponse<String> page = get(path);

        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("Content-Security-Policy")).hasValue("default-src 'self'; "
                + "style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                + "frame-ancestors 'none'; form-action 'self'");
        assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(page.headers().firstValue("X-Frame-Options")).hasValue("DENY");
        assertThat(page.headers().firstValue("Content-Language")).hasValue("en");
        assertThat(page.headers().allValues("Set-Cookie")).isEmpty();
        assertThat(page.body()).startsWith("<!doctype html>").contains("<html lang=\"en\">")
                .contains("href=\"/privacy\"").contains("href=\"/cookies\"")
                .doesNotContain("<script").doesNotContain("style=").doesNotContain("href=\"http", "src=");
    }

    @Test
    void theStylesheetIsServedHereWithALongCacheUnderAUrlThatChangesWithItsContent() {
        String link = between(get("/").body(), "<link rel=\"stylesheet\" href=\"", "\"");
        assertThat(link).matches("/assets/site\\.css\\?v=[0-9a-f]{12}");

        HttpResponse<String> css = get(link);
        assertThat(css.statusCode()).isEqualTo(200);
        assertThat(css.headers().firstValue("Content-Type")).hasValue("text/css; charset=utf-8");
        assertThat(css.headers().firstValue("Cache-Control")).hasValue("public, max-age=31536000, immutable");
        assertThat(css.headers().allValues("Set-Cookie")).isEmpty();
        assertThat(css.body()).contains("font").doesNotContain("@import").doesNotContain("url(");
    }

    @Test
    void theLanguageComesFromTheCookieThenAcceptLanguageThenEnglish() {
        assertThat(language(get("/", "Accept-Language", "de-DE,de;q=0.9,en;q=0.5"))).isEqualTo("de");
        assertThat(language(get("/", "Accept-Language", "fr-FR, de;q=0.4"))).isEqualTo("de");
        assertThat(language(get("/", "Accept-Language", "fr-FR, ja"))).isEqualTo("en");
        assertThat(language(get("/", "Accept-Language", ";;q=x,,"))).isEqualTo("en");
        assertThat(language(get("/privacy", "Cookie", "corouter_locale=de"))).isEqualTo("de");
        assertThat(language(send(request("/cookies").header("Cookie", "corouter_locale=en")
                .header("Accept-Language", "de")))).isEqualTo("en");
        // an unknown value in the cookie is ignored, not trusted
        assertThat(language(send(request("/").header("Cookie", "corouter_locale=xx")
                .header("Accept-Language", "de")))).isEqualTo("de");

        HttpResponse<String> german = get("/", "Accept-Language", "de");
        assertThat(german.body()).contains("<html lang=\"de\">").contains("Modelle und Preise")
                .contains("0,50\u00a0$");
        assertThat(german.headers().allValues("Set-Cookie")).isEmpty();
    }

    @Test
    void choosingALanguageByLinkSetsOnlyTheLocaleCookieAndGoesBack() {
        HttpResponse<String> chosen = get("/locale?lang=de&back=%2Fprivacy");

        assertThat(chosen.statusCode()).isEqualTo(303);
        assertThat(chosen.headers().firstValue("Location")).hasValue("/privacy");
        List<String> cookies = chosen.headers().allValues("Set-Cookie");
        assertThat(cookies).hasSize(1);
        assertThat(attributes(cookies.get(0))).containsExactlyInAnyOrder("corouter_locale=de", "max-age=31536000",
                "path=/", "samesite=lax", "httponly");
        assertThat(cookies.get(0)).doesNotContainIgnoringCase("Domain=");
    }

    @Test
    void anEmptyLanguageDeletesTheCookieAndAnUnknownOneChangesNothing() {
        HttpResponse<String> cleared = send(request("/locale?lang=&back=/cookies").header("Cookie",
                "corouter_locale=de"));
        assertThat(cleared.statusCode()).isEqualTo(303);
        assertThat(cleared.headers().allValues("Set-Cookie")).singleElement()
                .satisfies(cookie -> assertThat(attributes(cookie)).contains("corouter_locale=", "max-age=0",
                        "path=/"));

        HttpResponse<String> unknown = get("/locale?lang=fr&back=/cookies");
        assertThat(unknown.statusCode()).isEqualTo(303);
        assertThat(unknown.headers().firstValue("Location")).hasValue("/cookies");
        assertThat(unknown.headers().allValues("Set-Cookie")).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
            "javascript:alert(1)", "evil.example", "/\r\nSet-Cookie: x=1", "/ok path", "/\u00e9", "http:/evil"})
    void aLanguageLinkNeverRedirectsAwayFromTheSite(String back) {
        HttpResponse<String> chosen = get("/locale?lang=de&back=" + URLEncoder.encode(back, StandardCharsets.UTF_8));

        assertThat(chosen.statusCode()).isEqualTo(303);
        assertThat(chosen.headers().firstValue("Location")).hasValue("/");
        assertThat(chosen.headers().allValues("Set-Cookie")).hasSize(1);
    }

    @Test
    void aLocalBackPathIsKeptWithItsQueryAndFragment() {
        HttpResponse<String> chosen = get("/locale?lang=en&back=" + URLEncoder.encode("/console/#/login?x=1",
                StandardCharsets.UTF_8));
        assertThat(chosen.headers().firstValue("Location")).hasValue("/console/#/login?x=1");
        assertThat(get("/locale?lang=en").headers().firstValue("Location")).hasValue("/");
    }

    @Test
    void theLanguageFormPostSetsTheCookieButNotFromAnotherSite() {
        HttpResponse<String> posted = send(form("lang=de&back=%2Fcookies"));
        assertThat(posted.statusCode()).isEqualTo(303);
        assertThat(posted.headers().firstValue("Location")).hasValue("/cookies");
        assertThat(posted.headers().allValues("Set-Cookie")).singleElement()
                .satisfies(cookie -> assertThat(cookie).startsWith("corouter_locale=de;"));

        HttpResponse<String> sameSite = send(form("lang=de&back=/").header("Origin", "http://127.0.0.1:"
                + NODE.port()));
        assertThat(sameSite.statusCode()).isEqualTo(303);

        HttpResponse<String> crossSite = send(form("lang=de&back=/").header("Origin", "https://evil.example"));
        assertThat(crossSite.statusCode()).isEqualTo(403);
        assertThat(crossSite.headers().allValues("Set-Cookie")).isEmpty();

        HttpResponse<String> json = send(request("/locale").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"lang\":\"de\"}")));
        assertThat(json.statusCode()).isEqualTo(415);
        assertThat(json.headers().allValues("Set-Cookie")).isEmpty();
    }

    @Test
    void aModelNameFromTheCatalogIsEscaped() {
        String landing = get("/").body();

        assertThat(landing).doesNotContain("<script").doesNotContain("<b>bold")
                .contains("&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt; &amp; &quot;Quoted&quot; "
                        + "&lt;b&gt;bold&lt;/b&gt;")
                .contains("evil/&lt;script&gt;alert(1)&lt;/script&gt;")
                // exact prices, never rounded: a nano-dollar per million tokens, and a price with one decimal
                .contains("$0.000000001").contains("$1,234.50");
    }

    @Test
    void aHostileHostHeaderIsNotReflectedIntoTheClientInstructions() throws IOException {
        try (RawHttp raw = new RawHttp(NODE.port())) {
            RawHttp.Response page = raw.send("GET / HTTP/1.1\r\nHost: evil\"><script>x</script>\r\n"
                    + "Connection: close\r\n\r\n").read();
            assertThat(page.status()).isIn(200, 400);
            assertThat(page.body()).doesNotContain("<script>x");
        }
        try (RawHttp raw = new RawHttp(NODE.port())) {
            RawHttp.Response page = raw.send("GET / HTTP/1.1\r\nHost: corouter.test:8443\r\n"
                    + "X-Forwarded-Proto: https\r\nConnection: close\r\n\r\n").read();
            assertThat(page.body()).contains("https://corouter.test:8443/v1");
        }
    }

    @Test
    void thePrivacyPageCarriesThePolicyAndItsVersion() {
        String privacy = get("/privacy").body();

        assertThat(PublicPages.POLICY_VERSION).isEqualTo("2026-06-30");
        assertThat(privacy).contains("<h1>Privacy Policy</h1>").contains("Last updated June 30, 2026")
                .contains("data-version=\"" + PublicPages.POLICY_VERSION + "\"")
                .contains("We do not sell your personal data.")
                .contains("<a href=\"mailto:hi@corouter.co\">hi@corouter.co</a>")
                .doesNotContain("Get API key");
    }

    private static String language(HttpResponse<String> page) {
        assertThat(page.statusCode()).isEqualTo(200);
        return page.headers().firstValue("Content-Language").orElseThrow();
    }

    /** A Set-Cookie header's name=value and attributes, the attributes in lower case, without Expires. */
    private static List<String> attributes(String setCookie) {
        String[] parts = setCookie.split(";\\s*");
        List<String> attributes = new ArrayList<>(List.of(parts[0]));
        for (int i = 1; i < parts.length; i++) {
            String attribute = parts[i].toLowerCase(Locale.ROOT);
            if (!attribute.startsWith("expires=")) {
                attributes.add(attribute);
            }
        }
        return attributes;
    }

    private static String between(String text, String start, String end) {
        int from = text.indexOf(start);
        assertThat(from).as("'%s' in the page", start).isNotNegative();
        from += start.length();
        return text.substring(from, text.indexOf(end, from));
    }

    private static HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + NODE.port() + path));
    }

    private static HttpRequest.Builder form(String body) {
        return request("/locale").header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body));
    }

    private static HttpResponse<String> get(String path) {
        return send(request(path).GET());
    }

    private static HttpResponse<String> get(String path, String header, String value) {
        return send(request(path).header(header, value).GET());
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) {
        return NODE.send(request);
    }
}
