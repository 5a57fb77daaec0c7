package co.corouter.audit.s3;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The validated configuration of one account's {@code s3} audit destination.
 *
 * <pre>
 * bucket:            acme-audit                 # required
 * prefix:            corouter/                  # optional, default "": prepended to every object key as is
 * region:            eu-west-1                  # required (S3-compatible servers: the region they expect)
 * endpoint:          https://minio.example:9000 # optional, default https://s3.{region}.amazonaws.com
 * path_style:        false                      # optional: https://endpoint/bucket/key instead of bucket.endpoint
 * access_key_id:     AKIA...                    # required (role_arn is not supported yet)
 * secret_access_key: ...                        # required with access_key_id; write-only
 * session_token:     ...                        # optional, temporary credentials; write-only
 * sse:               aws:kms                    # optional: AES256 or aws:kms
 * sse_kms_key_id:    arn:aws:kms:...            # optional, only with sse aws:kms
 * </pre>
 *
 * <p>{@link #toString()} leaves the secret and the session token out.
 *
 * @param bucket          the bucket name
 * @param prefix          key prefix, possibly empty
 * @param region          the signing region
 * @param endpoint        scheme and authority only, e.g. {@code https://s3.eu-west-1.amazonaws.com}
 * @param pathStyle       bucket in the path rather than in the host name
 * @param accessKeyId     the access key id
 * @param secretAccessKey the secret access key
 * @param sessionToken    the session token, or {@code null}
 * @param sse             {@code AES256}, {@code aws:kms}, or {@code null} for the bucket's default
 * @param sseKmsKeyId     the KMS key for {@code aws:kms}, or {@code null} for the account's default key
 */
record S3Options(String bucket, String prefix, String region, URI endpoint, boolean pathStyle, String accessKeyId,
                 String secretAccessKey, String sessionToken, String sse, String sseKmsKeyId) {

    static final String BUCKET = "bucket";
    static final String PREFIX = "prefix";
    static final String REGION = "region";
    static final String ENDPOINT = "endpoint";
    static final String PATH_STYLE = "path_style";
    static final String ACCESS_KEY_ID = "access_key_id";
    static final String SECRET_ACCESS_KEY = "secret_access_key";
    static final String SESSION_TOKEN = "session_token";
    static final String ROLE_ARN = "role_arn";
    static final String EXTERNAL_ID = "external_id";
    static final String SSE = "sse";
    static final String SSE_KMS_KEY_ID = "sse_kms_key_id";
    static final Set<String> FIELDS = Set.of(BUCKET, PREFIX, REGION, ENDPOINT, PATH_STYLE, ACCESS_KEY_ID,
            SECRET_ACCESS_KEY, SESSION_TOKEN, ROLE_ARN, EXTERNAL_ID, SSE, SSE_KMS_KEY_ID);

    static final String SSE_AES256 = "AES256";
    static final String SSE_KMS = "aws:kms";
    static final int MAX_PREFIX_LENGTH = 512;

    /** Parses and validates; every failure is an {@link IllegalArgumentException} naming the field. */
    static S3Options parse(JsonObject config) {
        JsonObject c = config == null ? new JsonObject() : config;
        Set<String> unknown = new TreeSet<>(c.fieldNames());
        unknown.removeAll(FIELDS);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown field(s) " + unknown + "; known: " + new TreeSet<>(FIELDS));
        }
        String bucket = bucket(c.getValue(BUCKET));
        String prefix = prefix(c.getValue(PREFIX));
        String region = region(c.getValue(REGION));
        URI endpoint = c.getValue(ENDPOINT) == null ? awsEndpoint(region) : endpoint(c.getValue(ENDPOINT));
        Object pathStyle = c.getValue(PATH_STYLE, false);
        if (!(pathStyle instanceof Boolean)) {
            throw new IllegalArgumentException(PATH_STYLE + ": must be true or false");
        }
        if (c.getValue(ROLE_ARN) != null || c.getValue(EXTERNAL_ID) != null) {
            String field = c.getValue(ROLE_ARN) != null ? ROLE_ARN : EXTERNAL_ID;
            throw new IllegalArgumentException(field + ": role_arn is not supported yet; configure "
                    + ACCESS_KEY_ID + " and " + SECRET_ACCESS_KEY);
        }
        String accessKeyId = optionalString(c, ACCESS_KEY_ID);
        String secretAccessKey = optionalString(c, SECRET_ACCESS_KEY);
        String sessionToken = optionalString(c, SESSION_TOKEN);
        if (accessKeyId == null) {
            String hint = secretAccessKey != null || sessionToken != null ? " with " + (secretAccessKey != null
                    ? SECRET_ACCESS_KEY : SESSION_TOKEN) : "";
            throw new IllegalArgumentException(ACCESS_KEY_ID + ": is required" + hint);
        }
        if (!accessKeyId.matches("[A-Za-z0-9._-]{1,128}")) {
            throw new IllegalArgumentException(ACCESS_KEY_ID + ": must be 1-128 letters, digits, '.', '_' or '-'");
        }
        if (secretAccessKey == null) {
            throw new IllegalArgumentException(SECRET_ACCESS_KEY + ": is required with " + ACCESS_KEY_ID);
        }
        String sse = optionalString(c, SSE);
        if (sse != null && !sse.equals(SSE_AES256) && !sse.equals(SSE_KMS)) {
            throw new IllegalArgumentException(SSE + ": must be " + SSE_AES256 + " or " + SSE_KMS + ", got '" + sse
                    + "'");
        }
        String sseKmsKeyId = optionalString(c, SSE_KMS_KEY_ID);
        if (sseKmsKeyId != null && !SSE_KMS.equals(sse)) {
            throw new IllegalArgumentException(SSE_KMS_KEY_ID + ": only applies with " + SSE + ": " + SSE_KMS);
        }
        return new S3Options(bucket, prefix, region, endpoint, (Boolean) pathStyle, accessKeyId, secretAccessKey,
                sessionToken, sse, sseKmsKeyId);
    }

    /** The endpoint's host name, IPv6 literals without brackets. */
    String endpointHost() {
        String host = endpoint.getHost();
        return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    }

    /** TLS SNI must name a host, never an address. */
    boolean endpointHostIsIpLiteral() {
        String host = endpointHost();
        return host.indexOf(':') >= 0 || host.matches("[0-9.]+");
    }

    @Override
    public String toString() {
        return "S3Options[bucket=" + bucket + ", prefix=" + prefix + ", region=" + region + ", endpoint=" + endpoint
                + ", pathStyle=" + pathStyle + ", accessKeyId=" + accessKeyId + ", sse=" + sse + ", sseKmsKeyId="
                + sseKmsKeyId + "]";
    }

    /** The AWS regional endpoint; China's regions live under their own domain. */
    static URI awsEndpoint(String region) {
        return URI.create("https://s3." + region + ".amazonaws.com" + (region.startsWith("cn-") ? ".cn" : ""));
    }

    private static String bucket(Object value) {
        if (!(value instanceof String name) || name.isBlank()) {
            throw new IllegalArgumentException(BUCKET + ": is required, the bucket's name");
        }
        // S3's general purpose bucket naming rules; S3-compatible servers accept a subset or the same
        if (!name.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]") || name.contains("..")) {
            throw new IllegalArgumentException(BUCKET + ": '" + name + "' is not a valid bucket name (3-63 lower-case"
                    + " letters, digits, '.' and '-', starting and ending with a letter or digit)");
        }
        return name;
    }

    private static String prefix(Object value) {
        if (value == null) {
            return "";
        }
        if (!(value instanceof String prefix)) {
            throw new IllegalArgumentException(PREFIX + ": must be a string, e.g. corouter/");
        }
        if (prefix.length() > MAX_PREFIX_LENGTH) {
            throw new IllegalArgumentException(PREFIX + ": must be at most " + MAX_PREFIX_LENGTH + " characters");
        }
        if (prefix.startsWith("/")) {
            throw new IllegalArgumentException(PREFIX + ": must not start with '/'");
        }
        if (prefix.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f || ch == '\\')) {
            throw new IllegalArgumentException(PREFIX + ": must not contain control characters or '\\'");
        }
        return prefix;
    }

    private static String region(Object value) {
        if (!(value instanceof String region) || region.isBlank()) {
            throw new IllegalArgumentException(REGION + ": is required, e.g. us-east-1");
        }
        if (!region.matches("[a-z0-9][a-z0-9-]{0,31}")) {
            throw new IllegalArgumentException(REGION + ": '" + region + "' is not a region name such as us-east-1");
        }
        return region;
    }

    private static URI endpoint(Object value) {
        if (!(value instanceof String text) || text.isBlank()) {
            throw new IllegalArgumentException(ENDPOINT + ": must be a URL string, e.g. https://minio.example:9000");
        }
        URI uri;
        try {
            uri = new URI(text.strip());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(ENDPOINT + ": is not a valid URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException(ENDPOINT + ": must start with http:// or https://");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException(ENDPOINT + ": has no host");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException(ENDPOINT + ": must not contain a query, fragment or user info");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        if (!path.isEmpty() && !path.equals("/")) {
            throw new IllegalArgumentException(ENDPOINT + ": must not contain a path; use " + PREFIX
                    + " for a key prefix and " + PATH_STYLE + " for https://host/bucket/key");
        }
        return URI.create(scheme + "://" + uri.getRawAuthority());
    }

    private static String optionalString(JsonObject c, String field) {
        Object value = c.getValue(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof String text) || text.isBlank()) {
            throw new IllegalArgumentException(field + ": must be a non-empty string");
        }
        if (text.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
            throw new IllegalArgumentException(field + ": must not contain control characters");
        }
        return text.strip();
    }
}
