package co.corouter.audit.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.plugin.api.audit.EndpointGuard.Endpoint;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.JaasContext;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** The settings are checked by Kafka's own config and JAAS parsers, not by reading our strings back. */
class ProducerSettingsTest {

    private static Endpoint endpoint(String host, String ip, int port) throws Exception {
        return new Endpoint("tls", host, port, InetAddress.getByAddress(host, InetAddress.getByName(ip).getAddress()));
    }

    private static ProducerConfig kafkaParses(Map<String, Object> settings) {
        Map<String, Object> withSerializers = new HashMap<>(settings);
        withSerializers.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        withSerializers.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return new ProducerConfig(withSerializers);
    }

    @Test
    void theProducerIsIdempotentWaitsForAllReplicasAndConnectsToThePinnedAddresses() throws Exception {
        KafkaOptions options = KafkaOptions.parse(KafkaOptionsTest.minimal().put("timeout_ms", 4000));
        List<Endpoint> pinned = List.of(endpoint("kafka-1.example.com", "203.0.113.7", 9093),
                endpoint("kafka-2.example.com", "2001:db8::2", 9093));

        ProducerConfig config = kafkaParses(ProducerSettings.of(options, pinned, new BrokerAllowList(), "c-1"));

        assertThat(config.getList(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG))
                .containsExactly("203.0.113.7:9093", "[2001:db8:0:0:0:0:0:2]:9093");
        assertThat(config.getBoolean(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG)).isTrue();
        assertThat(config.getString(ProducerConfig.ACKS_CONFIG)).isEqualTo("-1");
        assertThat(config.getLong(ProducerConfig.MAX_BLOCK_MS_CONFIG)).isEqualTo(4000);
        assertThat(config.getInt(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG)).isEqualTo(4000);
        assertThat(config.getInt(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG)).isEqualTo(4000);
        assertThat(config.getString("security.protocol")).isEqualTo("SSL");
        assertThat(config.getClass("ssl.engine.factory.class")).isEqualTo(PinnedSslEngineFactory.class);
    }

    @Test
    void aPasswordThatLooksLikeJaasSyntaxStaysOnePasswordOfOneLoginModule() throws Exception {
        String hostile = "p\"; org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" "
                + "password=\"x\\\"; \\\\ end\nline";
        KafkaOptions options = KafkaOptions.parse(KafkaOptionsTest.minimal().put("security_protocol", "SASL_PLAINTEXT")
                .put("sasl_mechanism", "PLAIN").put("sasl_username", "alice \"the\" user")
                .put("sasl_password", hostile));

        String jaas = ProducerSettings.jaasConfig(options);
        List<AppConfigurationEntry> entries = JaasContext.loadClientContext(
                Map.of(SaslConfigs.SASL_JAAS_CONFIG, new Password(jaas))).configurationEntries();

        assertThat(entries).hasSize(1);
        assertThat(entries.get(0).getLoginModuleName())
                .isEqualTo("org.apache.kafka.common.security.plain.PlainLoginModule");
        assertThat(entries.get(0).getOptions()).containsOnlyKeys("username", "password");
        assertThat(entries.get(0).getOptions().get("password")).isEqualTo(hostile);
        assertThat(entries.get(0).getOptions().get("username")).isEqualTo("alice \"the\" user");
    }

    @Test
    void scramUsesScramsLoginModuleAndKafkaHidesTheJaasValue() {
        KafkaOptions options = KafkaOptions.parse(KafkaOptionsTest.sasl());

        Map<String, Object> settings = ProducerSettings.of(options, List.of(), new BrokerAllowList(), "c-2");
        settings.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "198.51.100.1:9093");
        ProducerConfig config = kafkaParses(settings);

        assertThat(config.getString("sasl.mechanism")).isEqualTo("SCRAM-SHA-512");
        assertThat(config.getPassword("sasl.jaas.config").value())
                .startsWith("org.apache.kafka.common.security.scram.ScramLoginModule required");
        assertThat(config.getPassword("sasl.jaas.config").toString()).isEqualTo("[hidden]");
    }
}
