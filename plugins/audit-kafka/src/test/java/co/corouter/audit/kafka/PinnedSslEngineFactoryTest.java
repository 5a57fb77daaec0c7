package co.corouter.audit.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.plugin.api.audit.EndpointGuard.Endpoint;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLEngine;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** The factory as Kafka's network code drives it: configured from the producer's configs, asked per connection. */
class PinnedSslEngineFactoryTest {

    private static final String NAME = "kafka-1.example.com";

    private static PinnedSslEngineFactory configured(BrokerAllowList allowList) throws Exception {
        KafkaOptions options = KafkaOptions.parse(KafkaOptionsTest.minimal());
        Endpoint pinned = new Endpoint("tls", NAME, 9093,
                InetAddress.getByAddress(NAME, new byte[] {(byte) 203, 0, 113, 7}));
        allowList.pin(pinned);
        Map<String, Object> settings = ProducerSettings.of(options, List.of(pinned), allowList, "c");
        settings.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        settings.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        // what Kafka hands a channel builder: the parsed values plus the originals it did not define
        ProducerConfig config = new ProducerConfig(settings);
        Map<String, Object> configs = new HashMap<>(config.values());
        configs.put(BrokerAllowList.CONFIG_KEY, allowList);
        PinnedSslEngineFactory factory = new PinnedSslEngineFactory();
        factory.configure(configs);
        return factory;
    }

    @Test
    void aPinnedAddressGetsTheConfiguredNameForSniAndHostNameVerification() throws Exception {
        PinnedSslEngineFactory factory = configured(new BrokerAllowList());

        SSLEngine engine = factory.createClientSslEngine("203.0.113.7", 9093, "https");

        assertThat(engine.getPeerHost()).isEqualTo(NAME);
        assertThat(engine.getSSLParameters().getEndpointIdentificationAlgorithm()).isEqualToIgnoringCase("https");
        assertThat(engine.getSSLParameters().getServerNames()).containsExactly(new SNIHostName(NAME));
    }

    @Test
    void aBrokerNotYetThroughTheGuardGetsNoEngineAndAnApprovedOneKeepsItsName() throws Exception {
        BrokerAllowList allowList = new BrokerAllowList();
        PinnedSslEngineFactory factory = configured(allowList);

        assertThatThrownBy(() -> factory.createClientSslEngine("kafka-2.example.com", 9093, "https"))
                .isInstanceOf(KafkaException.class).hasMessageContaining("has not passed the endpoint guard");
        assertThatThrownBy(() -> factory.createClientSslEngine("203.0.113.7", 9094, "https"))
                .isInstanceOf(KafkaException.class);

        allowList.approve("Kafka-2.example.com", 9093);

        assertThat(factory.createClientSslEngine("kafka-2.example.com", 9093, "https").getPeerHost())
                .isEqualTo("kafka-2.example.com");
    }

    @Test
    void withoutItsAllowListTheFactoryRefusesToBeConfigured() {
        assertThatThrownBy(() -> new PinnedSslEngineFactory().configure(Map.of()))
                .hasMessageContaining(BrokerAllowList.CONFIG_KEY);
    }
}
