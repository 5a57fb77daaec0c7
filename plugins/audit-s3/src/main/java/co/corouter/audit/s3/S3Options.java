package co.corouter.audit.s3;

import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
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
 * access_key_id:     AKIA...                    # required: the bucket's writer, or the identity assuming role_arn
 * secret_access_key: ...                        # required with access_key_id; write-only
 * session_token:     ...                        # optional, temporary credentials; write-only
 * role_arn:          arn:aws:iam::111122223333:role/corouter-audit   # optional: write as this role (AssumeRole)
 * external_id:       ...                        # optional, only with role_arn
 * role_session_name: corouter-audit             # optional, only with role_arn; default corouter-audit
 * sts_endpoint:      https://sts.eu-west-1.amazonaws.com   # optional, only with role_arn; default the region's
 * sse:               aws:kms                    # optional: AES256 or aws:kms
 * sse_kms_key_id:    arn:aws:kms:...            # optional, only with sse aws:kms
 * </pre>
 *
 * <p>{@link #toString()} leaves the secret, the session token and the external id out.
 *
 * @param bucket          the bucket name
 * @param prefix          key prefix, possibly empty
 * @param region          the signing region
 * @param endpoint        scheme and authority only, e.g. {@code https://s3.eu-west-1.amazonaws.com}
 * @param pathStyle       bucket in the path rather than in the host name
 * @param accessKeyId     the access key id
 * @param secretAccessKey the secret access key
 * @param sessionToken    the session token, or {@code null}
 * @param role            the role to assume with these keys, or {@code null} to write with the keys themselves
 * @param sse             {@code AES256}, {@code aws:kms}, or {@code null} for the bucket's default
 * @param sseKmsKeyId     the KMS key for {@code aws:kms}, or {@code null} for the account's default key
 */
record S3Options(String bucket, String prefix, String region, URI endpoint, boolean pathStyle, String accessKeyId,
                 String secretAccessKey, String sessionToken, Role role, String sse, String sseKmsKeyId) {

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
    static final String ROLE_SESSION_NAME = "role_session_name";
    static final String STS_ENDPOINT = "sts_endpoint";
    static final String SSE = "sse";
    static final String SSE_KMS_KEY_ID = "sse_kms_key_id";
    static final Set<String> FIELDS = Set.of(BUCKET, PREFIX, REGION, ENDPOINT, PATH_STYLE, ACCESS_KEY_ID,
            SECRET_ACCESS_KEY, SESSION_TOKEN, ROLE_ARN, EXTERNAL_ID, ROLE_SESSION_NAME, STS_ENDPOINT, SSE,
            SSE_KMS_KEY_ID);
    /** Fields that only mean something with {@link #ROLE_ARN}. */
    static final List<String> ROLE_FIELDS = List.of(EXTERNAL_ID, ROLE_SESSION_NAME, STS_ENDPOINT);

    /** IAM role ARNs of every partition (aws, aws-cn, aws-us-gov, ...); the schema carries the same pattern. */
    static final String ROLE_ARN_PATTERN = "^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$";
    static final String DEFAULT_ROLE_SESSION_NAME = "corouter-audit";

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
        URI endpoint = c.getValue(ENDPOINT) == null ? awsEndpoint(region) : endpoint(ENDPOINT, c.getValue(ENDPOINT));
        Object pathStyle = c.getValue(PATH_STYLE, false);
        if (!(pathStyle instanceof Boolean)) {
            throw new IllegalArgumentException(PATH_STYLE + ": must be true or false");
        }
        Role role = role(c, region);
        String accessKeyId = optionalString(c, ACCESS_KEY_ID);
        String secretAccessKey = optionalString(c, SECRET_ACCESS_KEY);
        String sessionToken = optionalString(c, SESSION_TOKEN);
        if (accessKeyId == null) {
            String hint = secretAccessKey != null || sessionToken != null ? " with " + (secretAccessKey != null
                    ? SECRET_ACCESS_KEY : SESSION_TOKEN) : role != null ? " with " + ROLE_ARN
                    + ": the keys of an identity allowed to assume the role" : "";
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
                sessionToken, role, sse, sseKmsKeyId);
    }

    /**
     * The role the sink writes as: {@link S3Destination} calls STS AssumeRole with the configured keys and signs S3
     * requests with the role's temporary credentials.
     *
     * @param arn         the role's ARN
     * @param externalId  the external id the role's trust policy asks for, or {@code null}
     * @param sessionName names the role session (visible in the role owner's CloudTrail)
     * @param stsEndpoint scheme and authority of STS, e.g. {@code https://sts.eu-west-1.amazonaws.com}
     */
    record Role(String arn, String externalId, String sessionName, URI stsEndpoint) {

        @Override
        public String toString() {
            return "Role[arn=" + arn + ", sessionName=" + sessionName + ", stsEndpoint=" + stsEndpoint + "]";
        }
    }

    /** The endpoint's host name, IPv6 literals without brackets. */
    String endpointHost() {
        return host(endpoint);
    }

    /** TLS SNI must name a host, never an address. */
    boolean endpointHostIsIpLiteral() {
        return isIpLiteral(endpoint);
    }

    /** Whether {@code uri}'s host is an IPv4 or IPv6 address rather than a name (TLS SNI must name a host). */
    static boolean isIpLiteral(URI uri) {
        String host = host(uri);
        return host.indexOf(':') >= 0 || host.matches("[0-9.]+");
    }

    private static String host(URI uri) {
        String host = uri.getHost();
        return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    }

    @Override
    public String toString() {
        return "S3Options[bucket=" + bucket + ", prefix=" + prefix + ", region=" + region + ", endpoint=" + endpoint
                + ", pathStyle=" + pathStyle + ", accessKeyId=" + accessKeyId + ", role=" + role + ", sse=" + sse
                + ", sseKmsKeyId=" + sseKmsKeyId + "]";
    }

    /** The AWS regional endpoint; China's regions live under their own domain. */
    static URI awsEndpoint(String region) {
        return URI.create("https://s3." + region + ".amazonaws.com" + (region.startsWith("cn-") ? ".cn" : ""));
    }

    /** The regional STS endpoint (not the global sts.amazonaws.com, which lives in us-east-1 only). */
    static URI awsStsEndpoint(String region) {
        return URI.create("https://sts." + region + ".amazonaws.com" + (region.startsWith("cn-") ? ".cn" : ""));
    }

    /** The role, or {@code null} without role_arn; role-only fields without role_arn are refused by name. */
    private static Role role(JsonObject c, String region) {
        String arn = optionalString(c, ROLE_ARN);
        if (arn == null) {
            for (String field : ROLE_FIELDS) {
                if (c.getValue(field) != null) {
                    throw new IllegalArgumentException(field + ": only applies with " + ROLE_ARN);
                }
            }
            return null;
        }
        if (arn.length() > 2048 || !arn.matches(ROLE_ARN_PATTERN)) {
            throw new IllegalArgumentException(ROLE_ARN + ": must be an IAM role ARN such as"
                    + " arn:aws:iam::111122223333:role/corouter-audit");
        }
        // AWS's constraints on AssumeRole's parameters, so that a typo fails here and not at every write
        String externalId = optionalString(c, EXTERNAL_ID);
        if (externalId != null && !externalId.matches("[\\w+=,.@:/-]{2,1224}")) {
            throw new IllegalArgumentException(EXTERNAL_ID + ": must be 2-1224 letters, digits or any of _+=,.@:/-");
        }
        String sessionName = optionalString(c, ROLE_SESSION_NAME);
        if (sessionName == null) {
            sessionName = DEFAULT_ROLE_SESSION_NAME;
        } else if (!sessionName.matches("[\\w+=,.@-]{2,64}")) {
            throw new IllegalArgumentException(ROLE_SESSION_NAME + ": must be 2-64 letters, digits or any of"
                    + " _+=,.@-");
        }
        URI stsEndpoint = c.getValue(STS_ENDPOINT) == null ? awsStsEndpoint(region)
                : endpoint(STS_ENDPOINT, c.getValue(STS_ENDPOINT));
        return new Role(arn, externalId, sessionName, stsEndpoint);
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

    private static URI endpoint(String field, Object value) {
        if (!(value instanceof String text) || text.isBlank()) {
            throw new IllegalArgumentException(field + ": must be a URL string, e.g. https://"
                    + (field.equals(ENDPOINT) ? "minio.example:9000" : "sts.eu-west-1.amazonaws.com"));
        }
        URI uri;
        try {
            uri = new URI(text.strip());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(field + ": is not a valid URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException(field + ": must start with http:// or https://");
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException(field + ": has no host");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException(field + ": must not contain a query, fragment or user info");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        if (!path.isEmpty() && !path.equals("/")) {
            throw new IllegalArgumentException(field + ": must not contain a path" + (field.equals(ENDPOINT)
                    ? "; use " + PREFIX + " for a key prefix and " + PATH_STYLE + " for https://host/bucket/key" : ""));
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
