package co.corouter.audit.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.audit.kafka.KafkaOptions.HostPort;
import co.corouter.audit.kafka.KafkaOptions.Protocol;
import co.corouter.audit.kafka.KafkaOptions.SaslMechanism;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class KafkaOptionsTest {

    static final String PASSWORD = "hunter2-\"quoted\"-secret";

    static JsonObject minimal() {
        return new JsonObject().put("bootstrap_servers", new JsonArray().add("kafka-1.example.com:9093"))
                .put("topic", "corouter-audit");
    }

    static JsonObject sasl() {
        return minimal().put("security_protocol", "SASL_SSL").put("sasl_mechanism", "SCRAM-SHA-512")
                .put("sasl_username", "corouter").put("sasl_password", PASSWORD);
    }

    @Test
    void theMinimalConfigurationUsesTlsAndATenSecondBound() {
        KafkaOptions options = KafkaOptions.parse(minimal());

        assertThat(options.bootstrapServers()).containsExactly(new HostPort("kafka-1.example.com", 9093));
        assertThat(options.topic()).isEqualTo("corouter-audit");
        assertThat(options.protocol()).isEqualTo(Protocol.SSL);
        assertThat(options.saslMechanism()).isNull();
        assertThat(options.truststorePem()).isNull();
        assertThat(options.timeoutMs()).isEqualTo(10_000);
    }

    @Test
    void bootstrapServersAcceptNamesIpv4AndBracketedIpv6AndDropDuplicates() {
        KafkaOptions options = KafkaOptions.parse(minimal().put("bootstrap_servers", new JsonArray()
                .add("Kafka-1.Example.com:9093").add("10.1.2.3:9092").add("[2001:db8::1]:9094")
                .add("kafka-1.example.com:9093")));

        assertThat(options.bootstrapServers()).containsExactly(new HostPort("kafka-1.example.com", 9093),
                new HostPort("10.1.2.3", 9092), new HostPort("2001:db8::1", 9094));
        assertThat(options.bootstrapServers().get(2)).hasToString("[2001:db8::1]:9094");
    }

    @Test
    void aBadBootstrapServerIsNamedByItsIndex() {
        for (String bad : List.of("kafka:0", "kafka:65536", "kafka", "kafka:x", "SSL://kafka:9093", "ka fka:1",
                "[::1:9092", "::1:9092")) {
            assertThatThrownBy(() -> KafkaOptions.parse(minimal().put("bootstrap_servers",
                    new JsonArray().add("ok.example.com:1").add(bad))))
                    .as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("bootstrap_servers[1]: ");
        }
        assertThatThrownBy(() -> KafkaOptions.parse(minimal().put("bootstrap_servers", "kafka:9092")))
                .hasMessageStartingWith("bootstrap_servers: must be a non-empty list");
        assertThatThrownBy(() -> KafkaOptions.parse(minimal().put("bootstrap_servers", new JsonArray())))
                .hasMessageStartingWith("bootstrap_servers: ");
        assertThatThrownBy(() -> KafkaOptions.parse(new JsonObject().put("topic", "t")))
                .hasMessageStartingWith("bootstrap_servers: is required");
    }

    @Test
    void theTopicFollowsKafkasNamingRules() {
        for (String bad : List.of("", ".", "..", "a/b", "a b", "x".repeat(250))) {
            assertThatThrownBy(() -> KafkaOptions.parse(minimal().put("topic", bad)))
                    .as(bad).hasMessageStartingWith("topic: ");
        }
        assertThat(KafkaOptions.parse(minimal().put("topic", "a.B_c-1")).topic()).isEqualTo("a.B_c-1");
        assertThatThrownBy(() -> KafkaOptions.parse(minimal().put("topic", null)))
                .hasMessage("topic: is required");
    }

    @Test
    void saslNeedsAMechanismAUserAndAPassword() {
        KafkaOptions options = KafkaOptions.parse(sasl());

        assertThat(options.protocol()).isEqualTo(Protocol.SASL_SSL);
        assertThat(options.saslMechanism()).isEqualTo(SaslMechanism.SCRAM_SHA_512);
        assertThat(options.saslUsername()).isEqualTo("corouter");
        assertThat(options.saslPassword()).isEqualTo(PASSWORD);
        assertThatThrownBy(() -> KafkaOptions.parse(sasl().put("sasl_mechanism", "GSSAPI")))
                .hasMessageStartingWith("sasl_mechanism: must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512");
        assertThatThrownBy(() -> KafkaOptions.parse(sasl().put("sasl_username", null)))
                .hasMessageStartingWith("sasl_username: is required");
        assertThatThrownBy(() -> KafkaOptions.parse(sasl().put("sasl_password", "")))
                .hasMessageStartingWith("sasl_password: is required");
    }

    @Test
    void saslFieldsWithoutASaslProtocolAreAMistakeNotIgnored() {
        assertThatThrownBy(() -> KafkaOptions.parse(minimal().put("sasl_password", PASSWORD)))
                .hasMessage("sasl_password: only applies to security_protocol SASL_PLAINTEXT or SASL_SSL, not SSL");
        assertThatThrownBy(() -> KafkaOptions.parse(minimal().put("security_protocol", "PLAINTEXT")
                .put("ssl_truststore_pem", "x")))
                .hasMessageStartingWith("ssl_truststore_pem: only applies to security_protocol SSL or SASL_SSL");
    }

    @Test
    void noErrorAndNoStringFormEverShowsThePassword() {
        List<JsonObject> invalid = List.of(
                sasl().put("sasl_mechanism", "bad"),
                sasl().put("topic", "bad topic"),
                sasl().put("bootstrap_servers", new JsonArray().add(PASSWORD)),
                sasl().put("timeout_ms", 5),
                sasl().put("ssl_truststore_pem", "-----BEGIN CERTIFICATE-----garbage"),
                sasl().put("extra", PASSWORD),
                minimal().put("sasl_password", PASSWORD));
        for (JsonObject config : invalid) {
            assertThatThrownBy(() -> KafkaOptions.parse(config)).satisfies(e ->
                    assertThat(e.getMessage()).doesNotContain(PASSWORD).doesNotContain("hunter2"));
        }
        assertThat(KafkaOptions.parse(sasl()).toString()).doesNotContain("hunter2").contains("(hidden)");
    }

    @Test
    void theTruststoreMustBeRealPemCertificates() {
        assertThatThrownBy(() -> KafkaOptions.parse(minimal().put("ssl_truststore_pem", "not a certificate")))
                .hasMessageStartingWith("ssl_truststore_pem: must be one or more PEM certificates");
        assertThatThrownBy(() -> KafkaOptions.parse(minimal().put("ssl_truststore_pem",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")))
                .hasMessage("ssl_truststore_pem: is not a valid PEM certificate");
    }

    @Test
    void theTimeoutIsBoundedAndUnknownFieldsAreRefused() {
        assertThat(KafkaOptions.parse(minimal().put("timeout_ms", 3000)).timeoutMs()).isEqualTo(3000);
        assertThatThrownBy(() -> KafkaOptions.parse(minimal().put("timeout_ms", 999)))
                .hasMessageStartingWith("timeout_ms: ");
        assertThatThrownBy(() -> KafkaOptions.parse(minimal().put("timeout_ms", 120_001)))
                .hasMessageStartingWith("timeout_ms: ");
        assertThatThrownBy(() -> KafkaOptions.parse(minimal().put("acks", "0")))
                .hasMessageStartingWith("unknown field(s) [acks]");
        assertThatThrownBy(() -> KafkaOptions.parse(minimal().put("security_protocol", "ssl")))
                .hasMessageStartingWith("security_protocol: must be one of");
    }

    @Test
    void theShippedSchemaDescribesExactlyTheseFieldsAndMarksOnlyThePasswordWriteOnly() throws IOException {
        JsonObject schema;
        try (InputStream in = KafkaAuditSink.class.getResourceAsStream("/META-INF/corouter/audit/kafka.schema.json")) {
            assertThat(in).isNotNull();
            schema = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        JsonObject properties = schema.getJsonObject("properties");

        assertThat(schema.getBoolean("additionalProperties")).isFalse();
        assertThat(properties.fieldNames()).containsExactlyInAnyOrderElementsOf(KafkaOptions.FIELDS);
        assertThat(schema.getJsonArray("required").getList()).containsExactlyInAnyOrder("bootstrap_servers", "topic");
        assertThat(properties.fieldNames()).filteredOn(name -> properties.getJsonObject(name)
                .getBoolean("writeOnly", false)).containsExactly("sasl_password");
        assertThat(properties.getJsonObject("security_protocol").getString("default"))
                .isEqualTo(KafkaOptions.parse(minimal()).protocol().name());
        assertThat(properties.getJsonObject("security_protocol").getJsonArray("enum").getList())
                .containsExactlyInAnyOrder((Object[]) java.util.Arrays.stream(Protocol.values()).map(Enum::name)
                        .toArray());
        assertThat(properties.getJsonObject("sasl_mechanism").getJsonArray("enum").getList())
                .containsExactlyInAnyOrder((Object[]) java.util.Arrays.stream(SaslMechanism.values())
                        .map(SaslMechanism::kafkaName).toArray());
        assertThat(properties.getJsonObject("timeout_ms").getInteger("default"))
                .isEqualTo(KafkaOptions.DEFAULT_TIMEOUT_MS);
    }
}
