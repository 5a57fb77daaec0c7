package co.corouter.audit.s3;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class S3OptionsTest {

    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private static final String TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN";

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
    void anAssumedRoleIsNotSupportedYet() {
        JsonObject role = minimal().put("role_arn", "arn:aws:iam::111122223333:role/corouter-audit")
                .put("external_id", "ext-1");
        role.remove("access_key_id");
        role.remove("secret_access_key");

        assertRefused(role, "role_arn is not supported yet");
        assertThatThrownBy(() -> new S3AuditSink().open(null, role))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("role_arn is not supported yet");
    }
}
