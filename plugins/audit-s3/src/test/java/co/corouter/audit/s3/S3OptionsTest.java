package co.corouter.audit.s3;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class S3OptionsTest {

    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private static final String TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN";
    private static final String ROLE_ARN = "arn:aws:iam::111122223333:role/corouter-audit";
    private static final String EXTERNAL_ID = "acme-7f3c/2026:audit";

    static JsonObject minimal() {
        return new JsonObject().put("bucket", "acme-audit").put("region", "eu-west-1")
                .put("access_key_id", "AKIAIOSFODNN7EXAMPLE").put("secret_access_key", SECRET);
    }

    private static void assertRefused(JsonObject config, String message) {
        assertThatThrownBy(() -> S3Options.parse(config))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(SECRET).doesNotContain(TOKEN));
    }

    @Test
    void aMinimalConfigurationUsesTheAwsRegionalEndpointVirtualHostedAndNoPrefix() {
        S3Options options = S3Options.parse(minimal());

        assertThat(options.bucket()).isEqualTo("acme-audit");
        assertThat(options.endpoint()).isEqualTo(URI.create("https://s3.eu-west-1.amazonaws.com"));
        assertThat(options.pathStyle()).isFalse();
        assertThat(options.prefix()).isEmpty();
        assertThat(options.sessionToken()).isNull();
        assertThat(options.sse()).isNull();
        assertThat(S3Options.awsEndpoint("cn-north-1")).isEqualTo(URI.create("https://s3.cn-north-1.amazonaws.com.cn"));
    }

    @Test
    void everyFieldIsRead() {
        S3Options options = S3Options.parse(minimal().put("prefix", "corouter/").put("path_style", true)
                .put("endpoint", "http://minio.internal:9000/").put("session_token", TOKEN).put("sse", "aws:kms")
                .put("sse_kms_key_id", "arn:aws:kms:eu-west-1:111122223333:key/abcd"));

        assertThat(options.prefix()).isEqualTo("corouter/");
        assertThat(options.pathStyle()).isTrue();
        assertThat(options.endpoint()).isEqualTo(URI.create("http://minio.internal:9000"));
        assertThat(options.endpointHostIsIpLiteral()).isFalse();
        assertThat(options.sessionToken()).isEqualTo(TOKEN);
        assertThat(options.sse()).isEqualTo("aws:kms");
        assertThat(options.sseKmsKeyId()).endsWith("key/abcd");
        assertThat(S3Options.parse(minimal().put("endpoint", "https://[::1]:9000")).endpointHostIsIpLiteral())
                .isTrue();
    }

    @Test
    void theTextFormNeverShowsTheSecretOrTheSessionToken() {
        String text = S3Options.parse(minimal().put("session_token", TOKEN)).toString();

        assertThat(text).contains("acme-audit").doesNotContain(SECRET).doesNotContain(TOKEN);
    }

    @Test
    void unknownFieldsAreRefusedByName() {
        assertRefused(minimal().put("bukket", "x"), "unknown field(s) [bukket]");
    }

    @Test
    void missingRequiredFieldsAreNamed() {
        JsonObject noBucket = minimal();
        noBucket.remove("bucket");
        assertRefused(noBucket, "bucket: is required");
        JsonObject noRegion = minimal();
        noRegion.remove("region");
        assertRefused(noRegion, "region: is required");
        JsonObject noKey = minimal();
        noKey.remove("access_key_id");
        assertRefused(noKey, "access_key_id: is required with secret_access_key");
        JsonObject noSecret = minimal();
        noSecret.remove("secret_access_key");
        assertRefused(noSecret, "secret_access_key: is required with access_key_id");
        assertRefused(null, "bucket: is required");
    }

    @Test
    void malformedValuesAreRefusedWithTheFieldAtFault() {
        assertRefused(minimal().put("bucket", "Acme_Audit"), "bucket: 'Acme_Audit' is not a valid bucket name");
        assertRefused(minimal().put("bucket", "a..b"), "bucket:");
        assertRefused(minimal().put("region", "EU West"), "region:");
        assertRefused(minimal().put("endpoint", "ftp://host"), "endpoint: must start with http:// or https://");
        assertRefused(minimal().put("endpoint", "https://host/some/path"), "endpoint: must not contain a path");
        assertRefused(minimal().put("endpoint", "https://user:pw@host"), "endpoint: must not contain");
        assertRefused(minimal().put("endpoint", 42), "endpoint: must be a URL string");
        assertRefused(minimal().put("path_style", "yes"), "path_style: must be true or false");
        assertRefused(minimal().put("prefix", "/abs"), "prefix: must not start with '/'");
        assertRefused(minimal().put("prefix", "a\nb"), "prefix: must not contain control characters");
        assertRefused(minimal().put("prefix", "p".repeat(513)), "prefix: must be at most 512");
        assertRefused(minimal().put("sse", "aes256"), "sse: must be AES256 or aws:kms");
        assertRefused(minimal().put("sse", "AES256").put("sse_kms_key_id", "k"), "sse_kms_key_id: only applies");
        assertRefused(minimal().put("access_key_id", "AKIA EXAMPLE"), "access_key_id: must be");
    }

    @Test
    void aMalformedSecretIsRefusedWithoutEchoingIt() {
        assertRefused(minimal().put("secret_access_key", SECRET + "\n"), "secret_access_key: must not contain");
        assertRefused(minimal().put("session_token", TOKEN + "\u0000"), "session_token: must not contain");
        assertRefused(minimal().put("secret_access_key", " "), "secret_access_key: must be a non-empty string");
    }

    @Test
    void aRoleIsAssumedWithTheKeysOnTheRegionalStsEndpointUnderTheDefaultSessionName() {
        S3Options options = S3Options.parse(minimal().put("role_arn", ROLE_ARN));

        assertThat(options.role()).isEqualTo(new S3Options.Role(ROLE_ARN, null, "corouter-audit",
                URI.create("https://sts.eu-west-1.amazonaws.com")));
        assertThat(options.accessKeyId()).isEqualTo("AKIAIOSFODNN7EXAMPLE");
        assertThat(S3Options.parse(minimal()).role()).isNull();
        assertThat(S3Options.parse(minimal().put("region", "cn-north-1").put("role_arn",
                "arn:aws-cn:iam::111122223333:role/audit")).role().stsEndpoint())
                .isEqualTo(URI.create("https://sts.cn-north-1.amazonaws.com.cn"));
    }

    @Test
    void everyRoleFieldIsRead() {
        S3Options.Role role = S3Options.parse(minimal().put("session_token", TOKEN)
                .put("role_arn", "arn:aws-us-gov:iam::111122223333:role/path/to/audit-writer")
                .put("external_id", EXTERNAL_ID).put("role_session_name", "acme@corouter.example")
                .put("sts_endpoint", "https://sts.example.test:8443/")).role();

        assertThat(role.arn()).isEqualTo("arn:aws-us-gov:iam::111122223333:role/path/to/audit-writer");
        assertThat(role.externalId()).isEqualTo(EXTERNAL_ID);
        assertThat(role.sessionName()).isEqualTo("acme@corouter.example");
        assertThat(role.stsEndpoint()).isEqualTo(URI.create("https://sts.example.test:8443"));
    }

    @Test
    void theTextFormOfARoleLeavesTheExternalIdOut() {
        String text = S3Options.parse(minimal().put("role_arn", ROLE_ARN).put("external_id", EXTERNAL_ID))
                .toString();

        assertThat(text).contains(ROLE_ARN).contains("corouter-audit").doesNotContain(EXTERNAL_ID)
                .doesNotContain(SECRET);
    }

    @Test
    void roleFieldsAreRefusedWithTheFieldAtFault() {
        JsonObject role = minimal().put("role_arn", ROLE_ARN);
        assertRefused(minimal().put("role_arn", "arn:aws:iam::1111:role/x"), "role_arn: must be an IAM role ARN");
        assertRefused(minimal().put("role_arn", "arn:aws:iam::111122223333:user/x"), "role_arn: must be an IAM");
        assertRefused(minimal().put("role_arn", 7), "role_arn: must be a non-empty string");
        assertRefused(role.copy().put("external_id", "a"), "external_id: must be 2-1224");
        assertRefused(role.copy().put("external_id", "has space"), "external_id: must be 2-1224");
        assertRefused(role.copy().put("role_session_name", "x".repeat(65)), "role_session_name: must be 2-64");
        assertRefused(role.copy().put("role_session_name", "a/b"), "role_session_name: must be 2-64");
        assertRefused(role.copy().put("sts_endpoint", "ftp://sts"), "sts_endpoint: must start with http://");
        assertRefused(role.copy().put("sts_endpoint", "https://sts.example/path"),
                "sts_endpoint: must not contain a path");
        assertRefused(role.copy().put("sts_endpoint", "https://u:p@sts.example"), "sts_endpoint: must not contain");
        JsonObject noKeys = role.copy();
        noKeys.remove("access_key_id");
        noKeys.remove("secret_access_key");
        assertRefused(noKeys, "access_key_id: is required with role_arn");
    }

    @Test
    void roleOnlyFieldsWithoutARoleAreRefusedByName() {
        assertRefused(minimal().put("external_id", EXTERNAL_ID), "external_id: only applies with role_arn");
        assertRefused(minimal().put("role_session_name", "audit"), "role_session_name: only applies with role_arn");
        assertRefused(minimal().put("sts_endpoint", "https://sts.example"), "sts_endpoint: only applies with role_arn");
        assertThatThrownBy(() -> new S3AuditSink().open(null, minimal().put("external_id", EXTERNAL_ID)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("external_id: ");
    }

    @Test
    void theShippedSchemaDescribesExactlyTheseFieldsAndMarksOnlyTheSecretsWriteOnly() throws IOException {
        JsonObject schema;
        try (InputStream in = S3AuditSink.class.getResourceAsStream("/META-INF/corouter/audit/s3.schema.json")) {
            assertThat(in).isNotNull();
            schema = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        JsonObject properties = schema.getJsonObject("properties");

        assertThat(schema.getBoolean("additionalProperties")).isFalse();
        assertThat(properties.fieldNames()).containsExactlyInAnyOrderElementsOf(S3Options.FIELDS);
        assertThat(schema.getJsonArray("required").getList()).containsExactlyInAnyOrder("bucket", "region",
                "access_key_id", "secret_access_key");
        assertThat(properties.fieldNames()).filteredOn(name -> properties.getJsonObject(name)
                .getBoolean("writeOnly", false)).containsExactlyInAnyOrder("secret_access_key", "session_token");
        assertThat(properties.fieldNames()).allSatisfy(name -> assertThat(properties.getJsonObject(name)
                .getString("description")).isNotBlank());
        assertThat(properties.getJsonObject("role_arn").getString("pattern")).isEqualTo(S3Options.ROLE_ARN_PATTERN);
        assertThat(properties.getJsonObject("role_session_name").getString("default"))
                .isEqualTo(S3Options.DEFAULT_ROLE_SESSION_NAME);
        assertThat(properties.getJsonObject("sts_endpoint").getString("format")).isEqualTo("uri");
        assertThat(schema.getJsonObject("dependentRequired").fieldNames())
                .containsExactlyInAnyOrderElementsOf(S3Options.ROLE_FIELDS);
    }
}
