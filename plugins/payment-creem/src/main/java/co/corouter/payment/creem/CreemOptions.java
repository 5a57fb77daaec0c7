package co.corouter.payment.creem;

import co.corouter.plugin.api.payment.Money;
import co.corouter.plugin.api.payment.Offer;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The validated configuration of one {@code creem} payment instance.
 *
 * <pre>
 * base_url:           https://test-api.creem.io    # required; https://api.creem.io for live payments
 * api_key_env:        CREEM_API_KEY                # required: secret holding the x-api-key (test or live)
 * webhook_secret_env: CREEM_WEBHOOK_SECRET         # required: secret holding the webhook signing secret
 * connect_timeout_ms: 5000                         # optional, default 5000
 * request_timeout_ms: 15000                        # optional: longest silence on a request, default 15000
 * products:                                        # required, at least one
 *   usd_10:  {product_id: prod_abc, price: 1000, currency: USD}              # a denomination: one unit
 *   usd_any: {product_id: prod_one, price: 100, currency: USD, units: true}  # $1 of credit, bought N times
 * </pre>
 *
 * @param baseUrl          the API root without trailing slash; requests go to {@code {base_url}/v1/...}
 * @param apiKeyEnv        the API key's secret name
 * @param webhookSecretEnv the webhook secret's name
 * @param connectTimeoutMs TCP (and TLS) connect budget
 * @param requestTimeoutMs budget for each wait on the processor (connect, then each silence)
 * @param offers           the products, in configuration order
 */
record CreemOptions(URI baseUrl, String apiKeyEnv, String webhookSecretEnv, int connectTimeoutMs,
                    int requestTimeoutMs, List<Offer> offers) {

    static final String BASE_URL = "base_url";
    static final String API_KEY_ENV = "api_key_env";
    static final String WEBHOOK_SECRET_ENV = "webhook_secret_env";
    static final String CONNECT_TIMEOUT_MS = "connect_timeout_ms";
    static final String REQUEST_TIMEOUT_MS = "request_timeout_ms";
    static final String PRODUCTS = "products";
    static final Set<String> FIELDS = Set.of(BASE_URL, API_KEY_ENV, WEBHOOK_SECRET_ENV, CONNECT_TIMEOUT_MS,
            REQUEST_TIMEOUT_MS, PRODUCTS);
    static final Set<String> PRODUCT_FIELDS = Set.of("product_id", "price", "currency", "units");
    /** Creem's minimum product price, in minor units (openapi {@code CreateProductRequestEntity.price}). */
    static final long MIN_PRICE = 100;

    static final int DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
    static final int DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

    CreemOptions {
        offers = List.copyOf(offers);
    }

    /** Parses and validates; every failure is an {@link IllegalArgumentException} naming the field. */
    static CreemOptions parse(JsonObject config) {
        JsonObject c = config == null ? new JsonObject() : config;
        rejectUnknown("", c, FIELDS);
        URI baseUrl = baseUrl(c.getValue(BASE_URL));
        String apiKeyEnv = requiredString(c, API_KEY_ENV, API_KEY_ENV);
        String webhookSecretEnv = requiredString(c, WEBHOOK_SECRET_ENV, WEBHOOK_SECRET_ENV);
        int connectTimeout = positiveInt(c, CONNECT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, 600_000);
        int requestTimeout = positiveInt(c, REQUEST_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, 600_000);
        return new CreemOptions(baseUrl, apiKeyEnv, webhookSecretEnv, connectTimeout, requestTimeout,
                offers(c.getValue(PRODUCTS)));
    }

    boolean ssl() {
        return "https".equals(baseUrl.getScheme());
    }

    String host() {
        String host = baseUrl.getHost();
        return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    }

    boolean hostIsIpLiteral() {
        return host().indexOf(':') >= 0 || host().matches("[0-9.]+");
    }

    int port() {
        return baseUrl.getPort() != -1 ? baseUrl.getPort() : ssl() ? 443 : 80;
    }

    /** The request URI of {@code /v1/...} under the base URL's path. */
    String path(String apiPath) {
        return baseUrl.getRawPath() + apiPath;
    }

    private static List<Offer> offers(Object value) {
        if (!(value instanceof JsonObject products) || products.isEmpty()) {
            throw new IllegalArgumentException(PRODUCTS + ": is required, a map of name to"
                    + " {product_id, price, currency, units}, with at least one product");
        }
        List<Offer> offers = new ArrayList<>();
        Set<String> productIds = new TreeSet<>();
        for (String key : products.fieldNames()) {
            String field = PRODUCTS + "." + key;
            if (!key.matches("[A-Za-z0-9_.-]{1,64}")) {
                throw new IllegalArgumentException(field + ": a product name is 1-64 letters, digits, '_', '.', '-'");
            }
            if (!(products.getValue(key) instanceof JsonObject product)) {
                throw new IllegalArgumentException(field + ": must be {product_id, price, currency, units}");
            }
            rejectUnknown(field + ".", product, PRODUCT_FIELDS);
            String productId = requiredString(product, "product_id", field + ".product_id");
            if (!productIds.add(productId)) {
                throw new IllegalArgumentException(field + ".product_id: '" + productId + "' is configured twice");
            }
            Object price = product.getValue("price");
            if (!(price instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
                    || n.longValue() < MIN_PRICE) {
                throw new IllegalArgumentException(field + ".price: must be a whole number of minor units (cents),"
                        + " at least " + MIN_PRICE + ", got " + price);
            }
            Object currency = product.getValue("currency");
            if (!(currency instanceof String code) || !code.matches("[A-Za-z]{3}")) {
                throw new IllegalArgumentException(field + ".currency: must be an ISO 4217 code such as USD");
            }
            Object units = product.getValue("units", false);
            if (!(units instanceof Boolean allowed)) {
                throw new IllegalArgumentException(field + ".units: must be true or false");
            }
            offers.add(new Offer(key, productId, Money.of(n.longValue(), code), allowed));
        }
        return offers;
    }

    private static void rejectUnknown(String prefix, JsonObject object, Set<String> known) {
        Set<String> unknown = new TreeSet<>(object.fieldNames());
        unknown.removeAll(known);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(prefix + "unknown field(s) " + unknown + "; known: "
                    + new TreeSet<>(known));
        }
    }

    private static URI baseUrl(Object value) {
        if (!(value instanceof String text) || text.isBlank()) {
            throw new IllegalArgumentException(BASE_URL + ": is required, https://test-api.creem.io (test mode) or"
                    + " https://api.creem.io (live)");
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
        return URI.create(scheme + "://" + uri.getRawAuthority() + path);
    }

    private static String requiredString(JsonObject c, String key, String field) {
        Object value = c.getValue(key);
        if (!(value instanceof String text) || text.isBlank()) {
            throw new IllegalArgumentException(field + ": is required, a non-empty string");
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
}
