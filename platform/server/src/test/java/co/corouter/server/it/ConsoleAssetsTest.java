package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The web console as a browser gets it: index.html, its hashed assets, their headers, and nothing from elsewhere. */
class ConsoleAssetsTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().build();

    private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
            + "form-action 'self'";
    private static final Pattern ASSET_REF = Pattern.compile("(?:src|href)=\"(/console/assets/[^\"]+)\"");
    private static final Pattern URL = Pattern.compile("https?://[A-Za-z0-9.-]+(?::\\d+)?[^\\s\"'`)<>]*");
    /**
     * Addresses the bundled libraries spell out but never request: XML namespaces (Preact, uPlot), sockjs-client's
     * stand-in location outside a browser and its error text, and rolldown's error text for an unbundled require.
     */
    private static final List<String> NEVER_FETCHED = List.of("http://www.w3.org/", "http://localhost/",
            "http://localhost:80", "http://sockjs.org", "https://rolldown.rs/");

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<byte[]> get(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + NODE.port() + path))
                .timeout(Duration.ofSeconds(10)).GET();
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String text(HttpResponse<byte[]> response) throws IOException {
        byte[] body = response.body();
        if ("gzip".equals(response.headers().firstValue("Content-Encoding").orElse(""))) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
                body = in.readAllBytes();
            }
        }
        return new String(body, StandardCharsets.UTF_8);
    }

    private List<String> assets() throws Exception {
        Matcher m = ASSET_REF.matcher(text(get("/console/")));
        List<String> found = new ArrayList<>();
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    @Test
    void theIndexIsServedAtBothConsoleAddressesUnderAStrictPolicyAndIsRevalidatedEveryTime() throws Exception {
        for (String path : List.of("/console/", "/console", "/console/index.html")) {
            HttpResponse<byte[]> index = get(path);
            assertThat(index.statusCode()).as(path).isEqualTo(200);
            assertThat(index.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
            assertThat(index.headers().firstValue("Content-Security-Policy")).hasValue(CSP);
            assertThat(index.headers().firstValue("Cache-Control")).hasValue("no-cache");
            assertThat(index.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(index.headers().firstValue("Referrer-Policy")).hasValue("same-origin");
            assertThat(text(index)).contains("<div id=\"app\">");
        }
        String etag = get("/console/").headers().firstValue("ETag").orElseThrow();
        assertThat(get("/console/", "If-None-Match", etag).statusCode()).isEqualTo(304);
    }

    @Test
    void theIndexHasNoInlineScriptOrStyleSoThePolicyNeedsNoExceptions() throws Exception {
        String html = text(get("/console/"));
        assertThat(html).doesNotContainPattern("<script(?![^>]*\\bsrc=)[^>]*>");
        assertThat(html).doesNotContainPattern("(?i)<style");
        assertThat(html).doesNotContainPattern("(?i)\\sstyle=");
        assertThat(html).doesNotContainPattern("(?i)\\son[a-z]+=");
    }

    @Test
    void hashedAssetsAreImmutableForAYearWithTheirOwnTypeAndGzippedOnRequest() throws Exception {
        List<String> assets = assets();
        assertThat(assets).anyMatch(a -> a.endsWith(".js")).anyMatch(a -> a.endsWith(".css"));
        for (String asset : assets) {
            HttpResponse<byte[]> plain = get(asset);
            assertThat(plain.statusCode()).as(asset).isEqualTo(200);
            assertThat(plain.headers().firstValue("Cache-Control")).hasValue("public, max-age=31536000, immutable");
            assertThat(plain.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(plain.headers().firstValue("Content-Encoding")).isEmpty();
            assertThat(plain.headers().firstValue("Content-Type")).hasValue(asset.endsWith(".js")
                    ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");

            HttpResponse<byte[]> zipped = get(asset, "Accept-Encoding", "gzip, deflate");
            assertThat(zipped.headers().firstValue("Content-Encoding")).as(asset).hasValue("gzip");
            assertThat(zipped.headers().firstValue("Vary")).hasValue("Accept-Encoding");
            assertThat(zipped.body().length).isLessThan(plain.body().length);
            assertThat(text(zipped)).isEqualTo(text(plain));
        }
    }

    @Test
    void anythingElseUnderTheConsoleIsNotFound() throws Exception {
        for (String path : List.of("/console/assets/missing-0000.js", "/console/keys", "/console/assets/",
                "/console/assets/sub/x.js", "/console/favicon.ico")) {
            HttpResponse<byte[]> response = get(path);
            assertThat(response.statusCode()).as(path).isEqualTo(404);
            assertThat(response.headers().firstValue("Cache-Control")).as(path).isEmpty();
        }
        // a miss is not remembered: the same name asked again is still looked up and still missing
        assertThat(get("/console/assets/missing-0000.js").statusCode()).isEqualTo(404);
    }

    @Test
    void noBuiltFileAsksForAnythingFromAnotherOrigin() throws Exception {
        Set<String> foreign = new LinkedHashSet<>();
        List<String> files = new ArrayList<>(assets());
        files.add("/console/");
        for (String file : files) {
            Matcher m = URL.matcher(text(get(file, "Accept-Encoding", "gzip")));
            while (m.find()) {
                String url = m.group();
                if (NEVER_FETCHED.stream().noneMatch(url::startsWith)) {
                    foreign.add(file + ": " + url);
                }
            }
        }
        assertThat(foreign).isEmpty();
    }
}
