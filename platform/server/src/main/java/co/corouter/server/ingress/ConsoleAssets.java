package co.corouter.server.ingress;

import co.corouter.server.common.ErrorCodes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * The web console (the {@code corouter-console} jar, built from {@code console-spa/}) at {@code /console/}: its
 * {@code index.html} for {@code /console}, {@code /console/} and {@code /console/index.html}, revalidated on every
 * visit ({@code no-cache}, with an ETag) under a strict Content-Security-Policy, and its content-hashed files under
 * {@code /console/assets/}, cached for a year as immutable. Text is sent gzipped to clients that accept it (the server
 * itself does not compress). The SPA routes in the URL's hash, so any other path under {@code /console/} is a 404.
 *
 * <p>Files are read from the class path off the event loop on first use and kept: the set is the jar's few files,
 * fixed at build time, so holding them needs no eviction. A name that is not in the jar is never remembered.
 */
public final class ConsoleAssets {

    static final String ROOT = "co/corouter/console/";
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
            + "form-action 'self'";
    private static final String INDEX = "index.html";
    private static final Pattern ASSET = Pattern.compile("assets/[A-Za-z0-9][A-Za-z0-9._-]{0,200}");
    private static final int GZIP_MIN_BYTES = 512;
    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"),
            Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("css", "text/css; charset=utf-8"),
            Map.entry("json", "application/json"),
            Map.entry("map", "application/json"),
            Map.entry("svg", "image/svg+xml"),
            Map.entry("png", "image/png"),
            Map.entry("ico", "image/x-icon"),
            Map.entry("webp", "image/webp"),
            Map.entry("woff2", "font/woff2"),
            Map.entry("txt", "text/plain; charset=utf-8"));

    /** One file of the console, with its gzipped form when that is worth sending. */
    private record Asset(Buffer plain, Buffer gzipped, String type, String etag) {
    }

    private final Vertx vertx;
    private final ClassLoader loader;
    /** Confined to the event loop of the verticle that mounted it. */
    private final Map<String, Future<Optional<Asset>>> files = new HashMap<>();

    private ConsoleAssets(Vertx vertx, ClassLoader loader) {
        this.vertx = vertx;
        this.loader = loader;
    }

    /** Serves the console on {@code web}, from the class path of this class. */
    public static void mount(Router web, Vertx vertx) {
        ConsoleAssets assets = new ConsoleAssets(vertx, ConsoleAssets.class.getClassLoader());
        web.get("/console").handler(assets::serve);
        web.get("/console/*").handler(assets::serve);
    }

    private void serve(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        String name = path.length() <= "/console/".length() ? INDEX : path.substring("/console/".length());
        if (!name.equals(INDEX) && !ASSET.matcher(name).matches()) {
            Errors.send(ctx.response(), ErrorCodes.NOT_FOUND, "no such console file");
            return;
        }
        load(name).onComplete(loaded -> {
            HttpServerResponse response = ctx.response();
            if (response.ended() || response.closed()) {
                return;
            }
            if (loaded.failed()) {
                Errors.send(response, ErrorCodes.INTERNAL, "the console cannot be read");
                return;
            }
            if (loaded.result().isEmpty()) {
                Errors.send(response, ErrorCodes.NOT_FOUND, "no such console file");
                return;
            }
            send(ctx, name, loaded.result().get());
        });
    }

    private void send(RoutingContext ctx, String name, Asset asset) {
        HttpServerResponse response = ctx.response();
        response.putHeader("Content-Type", asset.type())
                .putHeader("X-Content-Type-Options", "nosniff")
                .putHeader("Referrer-Policy", "same-origin")
                .putHeader("ETag", asset.etag());
        if (name.equals(INDEX)) {
            response.putHeader("Cache-Control", "no-cache")
                    .putHeader("Content-Security-Policy", CSP)
                    .putHeader("X-Frame-Options", "DENY");
        } else {
            response.putHeader("Cache-Control", "public, max-age=31536000, immutable");
        }
        if (asset.gzipped() != null) {
            response.putHeader("Vary", "Accept-Encoding");
        }
        if (asset.etag().equals(ctx.request().getHeader("If-None-Match"))) {
            response.setStatusCode(304).end();
            return;
        }
        if (asset.gzipped() != null && acceptsGzip(ctx.request().getHeader("Accept-Encoding"))) {
            response.putHeader("Content-Encoding", "gzip").end(asset.gzipped());
        } else {
            response.end(asset.plain());
        }
    }

    private Future<Optional<Asset>> load(String name) {
        Future<Optional<Asset>> known = files.get(name);
        if (known != null) {
            return known;
        }
        Future<Optional<Asset>> reading = vertx.executeBlocking(() -> read(name));
        files.put(name, reading);
        reading.onComplete(read -> {
            if (read.failed() || read.result().isEmpty()) {
                files.remove(name);
            }
        });
        return reading;
    }

    private Optional<Asset> read(String name) throws IOException {
        try (InputStream in = loader.getResourceAsStream(ROOT + name)) {
            if (in == null) {
                return Optional.empty();
            }
            byte[] bytes = in.readAllBytes();
            String extension = name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
            String type = TYPES.getOrDefault(extension, "application/octet-stream");
            boolean compressible = type.startsWith("text/") || type.startsWith("application/json")
                    || type.startsWith("image/svg");
            Buffer gzipped = compressible && bytes.length >= GZIP_MIN_BYTES ? Buffer.buffer(gzip(bytes)) : null;
            return Optional.of(new Asset(Buffer.buffer(bytes), gzipped, type, etag(bytes)));
        }
    }

    static boolean acceptsGzip(String acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        for (String part : acceptEncoding.split(",")) {
            String[] pieces = part.trim().split(";");
            String coding = pieces[0].trim().toLowerCase(Locale.ROOT);
            if (!coding.equals("gzip") && !coding.equals("*")) {
                continue;
            }
            boolean refused = false;
            for (int i = 1; i < pieces.length; i++) {
                String parameter = pieces[i].trim().toLowerCase(Locale.ROOT).replace(" ", "");
                refused |= parameter.matches("q=0(\\.0{0,3})?");
            }
            return !refused;
        }
        return false;
    }

    private static byte[] gzip(byte[] bytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 3);
        try (GZIPOutputStream zip = new GZIPOutputStream(out)) {
            zip.write(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static String etag(byte[] bytes) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
            return "\"" + HexFormat.of().formatHex(digest, 0, 12) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
