package co.corouter.provider.gemini;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The validated configuration of one {@code gemini} provider instance.
 *
 * <pre>
 * base_url:           https://generativelanguage.googleapis.com   # optional, this default; {base_url}/v1beta/...
 * api_key_env:        GEMINI_API_KEY                              # required: name of the secret holding the key
 * connect_timeout_ms: 10000                                       # optional, default 10000
 * max_connections:    256                                         # optional: HTTP/1.1 keep-alive pool size
 * headers: {x-goog-user-project: my-project}                      # optional: extra static request headers
 * </pre>
 *
 * <p>The key travels in the {@code x-goog-api-key} header, never in the URL (where it would reach access logs).
 *
 * @param baseUrl          the API root without the version, e.g. {@code https://generativelanguage.googleapis.com}
 * @param apiKeyEnv        the secret's name
 * @param connectTimeoutMs TCP (and TLS) connect budget
 * @param maxConnections   pool size
 * @param headers          extra headers sent with every request
 */
public record GeminiOptions(URI baseUrl, String apiKeyEnv, int connectTimeoutMs, int maxConnections,
                            Map<String, String> headers) {

    static final String BASE_URL = "base_url";
    static final String API_KEY_ENV = "api_key_env";
    static final String CONNECT_TIMEOUT_MS = "connect_timeout_ms";
    static final String MAX_CONNECTIONS = "max_connections";
    static final String HEADERS = "headers";
    private static final Set<String> FIELDS = Set.of(BASE_URL, API_KEY_ENV, CONNECT_TIMEOUT_MS, MAX_CONNECTIONS,
            HEADERS);
    /** Headers the HTTP client or the provider owns; letting config set them would corrupt the exchange. */
    private static final Set<String> RESERVED_HEADERS = Set.of("host", "content-length", "content-type",
            "transfer-encoding", "connection", "accept", "x-goog-api-key");

    static final String DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com";
    static final String API_VERSION = "/v1beta";
    static final int DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
    static final int DEFAULT_MAX_CONNECTIONS = 256;

    public GeminiOptions {
        headers = Map.copyOf(headers);
    }

    /** Parses and validates; every failure is an {@link IllegalArgumentException} naming the field. */
    public static GeminiOptions parse(JsonObject config) {
        JsonObject c = config == null ? new JsonObject() : config;
        Set<String> unknown = new TreeSet<>(c.fieldNames());
        unknown.removeAll(FIELDS);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown field(s) " + unknown + "; known: " + new TreeSet<>(FIELDS));
        }
        URI baseUrl = baseUrl(c.getValue(BASE_URL));
        String apiKeyEnv = requiredString(c, API_KEY_ENV, "e.g. GEMINI_API_KEY (the Gemini API refuses keyless calls)");
        int connectTimeout = positiveInt(c, CONNECT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, 600_000);
        int maxConnections = positiveInt(c, MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS, 100_000);
        return new GeminiOptions(baseUrl, apiKeyEnv, connectTimeout, maxConnections, headers(c.getValue(HEADERS)));
    }

    /** {@code {base_url}/v1beta/models/{model}:{method}} as a request URI (no query). */
    String methodPath(String model, String method) {
        return baseUrl.getRawPath() + API_VERSION + "/models/" + ModelNames.pathSegment(model) + ":" + method;
    }

    boolean ssl() {
        return "https".equals(baseUrl.getScheme());
    }

    /** The host name, IPv6 literals without brackets. */
    String host() {
        String host = baseUrl.getHost();
        return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    }

    /** SNI must name a host, never an address. */
    boolean hostIsIpLiteral() {
        return host().indexOf(':') >= 0 || host().matches("[0-9.]+");
    }

    int port() {
        return baseUrl.getPort() != -1 ? baseUrl.getPort() : ssl() ? 443 : 80;
    }

    private static URI baseUrl(Object value) {
        if (value == null) {
            return URI.create(DEFAULT_BASE_URL);
        }
        if (!(value instanceof String text) || text.isBlank()) {
            throw new IllegalArgumentException(BASE_URL + ": must be a URL string, e.g. " + DEFAULT_BASE_URL);
        }
        URI uri;
        try {
            uri = new URI(text.strip());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(BASE_URL + ": is not a valid URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException(BASE_URL + ": must start with http:// or https://");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException(BASE_URL + ": has no host");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException(BASE_URL + ": must not contain a query, fragment or user info"
                    + " (the API key comes from " + API_KEY_ENV + ")");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.endsWith(API_VERSION) || path.endsWith("/v1") || path.endsWith("/v1beta/openai")) {
            throw new IllegalArgumentException(BASE_URL + ": is the API root without the version, e.g. "
                    + DEFAULT_BASE_URL + " (requests go to {base_url}" + API_VERSION + "/models/...)");
        }
        return URI.create(scheme + "://" + uri.getRawAuthority() + path);
    }

    private static String requiredString(JsonObject c, String field, String example) {
        Object value = c.getValue(field);
        if (value == null) {
            throw new IllegalArgumentException(field + ": is required, " + example);
        }
        if (!(value instanceof String text) || text.isBlank()) {
            throw new IllegalArgumentException(field + ": must be a non-empty string, " + example);
        }
        return text.strip();
    }

    private static int positiveInt(JsonObject c, String field, int defaultValue, int max) {
        Object value = c.getValue(field);
        if (value == null) {
            return defaultValue;
        }
        if (!(value instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
                || n.doubleValue() < 1 || n.doubleValue() > max) {
            throw new IllegalArgumentException(field + ": must be a whole number between 1 and " + max
                    + ", got " + value);
        }
        return n.intValue();
    }

    private static Map<String, String> headers(Object value) {
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof JsonObject object)) {
            throw new IllegalArgumentException(HEADERS + ": must be a map of header name to string value");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (String name : object.fieldNames()) {
            Object headerValue = object.getValue(name);
            if (!name.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
                throw new IllegalArgumentException(HEADERS + ": '" + name + "' is not a valid header name");
            }
            if (!(headerValue instanceof String text) || text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0) {
                throw new IllegalArgumentException(HEADERS + "." + name + ": must be a single-line string");
            }
            if (RESERVED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException(HEADERS + "." + name + ": is set by the provider and cannot be"
                        + " configured");
            }
            headers.put(name, text);
        }
        return headers;
    }
}
