package co.corouter.provider.anthropic;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The validated configuration of one {@code anthropic} provider instance.
 *
 * <pre>
 * base_url:           https://api.anthropic.com    # optional, the default; {base_url}/v1/messages is called
 * api_key_env:        ANTHROPIC_API_KEY            # the secret holding the key, sent as x-api-key (required for
 *                                                  #   api.anthropic.com)
 * anthropic_version:  2023-06-01                   # optional, the default; from 2026-10-21 on temperature, top_p
 *                                                  #   and top_k are not sent (that version rejects them)
 * anthropic_beta:     [context-1m-2025-08-07]      # optional: a list, or one comma-separated string
 * connect_timeout_ms: 10000                        # optional, default 10000
 * max_connections:    256                          # optional: HTTP/1.1 keep-alive pool size, default 256
 * headers: {anthropic-workspace-id: wrk_1}         # optional: extra static request headers
 * </pre>
 *
 * @param baseUrl          the API root, e.g. {@code https://api.anthropic.com}, without trailing slash or {@code /v1}
 * @param apiKeyEnv        the secret's name, or {@code null} for a gateway that needs none
 * @param anthropicVersion the {@code anthropic-version} header
 * @param anthropicBeta    the {@code anthropic-beta} header (features joined with commas), or {@code null}
 * @param connectTimeoutMs TCP (and TLS) connect budget
 * @param maxConnections   pool size
 * @param headers          extra headers sent with every request
 */
public record AnthropicOptions(URI baseUrl, String apiKeyEnv, String anthropicVersion, String anthropicBeta,
                               int connectTimeoutMs, int maxConnections, Map<String, String> headers) {

    static final String BASE_URL = "base_url";
    static final String API_KEY_ENV = "api_key_env";
    static final String ANTHROPIC_VERSION = "anthropic_version";
    static final String ANTHROPIC_BETA = "anthropic_beta";
    static final String CONNECT_TIMEOUT_MS = "connect_timeout_ms";
    static final String MAX_CONNECTIONS = "max_connections";
    static final String HEADERS = "headers";
    static final Set<String> FIELDS = Set.of(BASE_URL, API_KEY_ENV, ANTHROPIC_VERSION, ANTHROPIC_BETA,
            CONNECT_TIMEOUT_MS, MAX_CONNECTIONS, HEADERS);
    /** Headers the HTTP client or another field owns; letting {@code headers} set them would corrupt the exchange. */
    private static final Set<String> RESERVED_HEADERS = Set.of("host", "content-length", "content-type",
            "transfer-encoding", "connection", "accept", "x-api-key", "anthropic-version", "anthropic-beta");

    static final String DEFAULT_BASE_URL = "https://api.anthropic.com";
    static final String DEFAULT_VERSION = "2023-06-01";
    /** The first API version that rejects {@code temperature}, {@code top_p} and {@code top_k} (spec §0). */
    static final String SAMPLING_REMOVED_IN = "2026-10-21";
    static final int DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
    static final int DEFAULT_MAX_CONNECTIONS = 256;

    public AnthropicOptions {
        headers = Map.copyOf(headers);
    }

    /** Parses and validates; every failure is an {@link IllegalArgumentException} naming the field. */
    public static AnthropicOptions parse(JsonObject config) {
        JsonObject c = config == null ? new JsonObject() : config;
        Set<String> unknown = new TreeSet<>(c.fieldNames());
        unknown.removeAll(FIELDS);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown field(s) " + unknown + "; known: " + new TreeSet<>(FIELDS));
        }
        URI baseUrl = baseUrl(c.getValue(BASE_URL));
        String apiKeyEnv = optionalString(c, API_KEY_ENV);
        if (apiKeyEnv == null && baseUrl.getHost().equalsIgnoreCase("api.anthropic.com")) {
            throw new IllegalArgumentException(API_KEY_ENV + ": is required for " + DEFAULT_BASE_URL
                    + ", e.g. ANTHROPIC_API_KEY");
        }
        String version = version(c.getValue(ANTHROPIC_VERSION));
        String beta = beta(c.getValue(ANTHROPIC_BETA));
        int connectTimeout = positiveInt(c, CONNECT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, 600_000);
        int maxConnections = positiveInt(c, MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS, 100_000);
        Map<String, String> headers = headers(c.getValue(HEADERS), apiKeyEnv != null);
        return new AnthropicOptions(baseUrl, apiKeyEnv, version, beta, connectTimeout, maxConnections, headers);
    }

    /** {@code {base_url}/v1/messages} as a request URI (path and nothing else). */
    String messagesPath() {
        return baseUrl.getRawPath() + "/v1/messages";
    }

    /** Whether the configured API version still takes {@code temperature}, {@code top_p} and {@code top_k}. */
    boolean acceptsSamplingParameters() {
        return anthropicVersion.compareTo(SAMPLING_REMOVED_IN) < 0;
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
            throw new IllegalArgumentException(BASE_URL + ": must not contain a query, fragment or user info");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.endsWith("/v1")) {
            // SDKs take the root too (ANTHROPIC_BASE_URL); .../v1 would call .../v1/v1/messages
            throw new IllegalArgumentException(BASE_URL + ": is the API root without /v1 (requests go to"
                    + " {base_url}/v1/messages), e.g. " + DEFAULT_BASE_URL);
        }
        return URI.create(scheme + "://" + uri.getRawAuthority() + path);
    }

    private static String version(Object value) {
        if (value == null) {
            return DEFAULT_VERSION;
        }
        if (!(value instanceof String text) || !text.strip().matches("\\d{4}-\\d{2}-\\d{2}")) {
            throw new IllegalArgumentException(ANTHROPIC_VERSION + ": must be an API version date such as "
                    + DEFAULT_VERSION + ", got " + value);
        }
        return text.strip();
    }

    /** The features of {@code anthropic_beta}, a list or one comma-separated string, joined with commas. */
    private static String beta(Object value) {
        if (value == null) {
            return null;
        }
        List<Object> items = new ArrayList<>();
        if (value instanceof String text) {
            items.addAll(List.of((Object[]) text.split(",")));
        } else if (value instanceof JsonArray array) {
            array.forEach(items::add);
        } else {
            throw new IllegalArgumentException(ANTHROPIC_BETA + ": must be a list of beta feature names");
        }
        List<String> features = new ArrayList<>();
        for (Object item : items) {
            if (!(item instanceof String feature) || !feature.strip().matches("[A-Za-z0-9._-]+")) {
                throw new IllegalArgumentException(ANTHROPIC_BETA + ": '" + item + "' is not a beta feature name"
                        + " such as context-1m-2025-08-07");
            }
            features.add(feature.strip());
        }
        return features.isEmpty() ? null : String.join(",", features);
    }

    private static String optionalString(JsonObject c, String field) {
        Object value = c.getValue(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof String text) || text.isBlank()) {
            throw new IllegalArgumentException(field + ": must be a non-empty string");
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

    private static Map<String, String> headers(Object value, boolean hasApiKey) {
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof JsonObject object)) {
            throw new IllegalArgumentException(HEADERS + ": must be a map of header name to string value");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (String name : object.fieldNames()) {
            Object headerValue = object.getValue(name);
            String lower = name.toLowerCase(Locale.ROOT);
            if (!name.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
                throw new IllegalArgumentException(HEADERS + ": '" + name + "' is not a valid header name");
            }
            if (!(headerValue instanceof String text) || text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0) {
                throw new IllegalArgumentException(HEADERS + "." + name + ": must be a single-line string");
            }
            if (RESERVED_HEADERS.contains(lower)) {
                throw new IllegalArgumentException(HEADERS + "." + name + ": is set by the provider and cannot be"
                        + " configured" + (lower.startsWith("anthropic-") ? " (use " + lower.replace('-', '_')
                        + ")" : ""));
            }
            if (hasApiKey && lower.equals("authorization")) {
                throw new IllegalArgumentException(HEADERS + "." + name + ": conflicts with " + API_KEY_ENV);
            }
            headers.put(name, text);
        }
        return headers;
    }
}
