package co.corouter.audit.kafka;

import co.corouter.plugin.api.audit.EndpointGuard.Endpoint;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;

import java.net.Inet6Address;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The Kafka producer configuration of one destination: only what {@link KafkaOptions} allows, nothing passed through
 * from the customer. Idempotent with {@code acks=all}; every wait bounded by {@code timeout_ms}, so a broker that is
 * down fails a write instead of holding it.
 */
final class ProducerSettings {

    /** Larger than Kafka's 1 MiB default: a long prompt makes a large record. The broker's limit still applies. */
    static final int MAX_REQUEST_BYTES = 8 * 1024 * 1024;

    private ProducerSettings() {
    }

    /**
     * @param pinned    the bootstrap servers as the guard resolved them; the producer connects to these addresses
     * @param allowList for TLS: what {@link PinnedSslEngineFactory} admits
     */
    static Map<String, Object> of(KafkaOptions options, List<Endpoint> pinned, BrokerAllowList allowList,
                                  String clientId) {
        Map<String, Object> c = new HashMap<>();
        c.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, pinned.stream().map(ProducerSettings::address)
                .collect(Collectors.joining(",")));
        c.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
        c.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, options.protocol().name());

        c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        c.put(ProducerConfig.ACKS_CONFIG, "all");
        c.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        c.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        c.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        c.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_REQUEST_BYTES);

        int timeout = options.timeoutMs();
        // metadata and buffer waits in send() and partitionsFor(); then the whole life of a record, retries included
        c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout);
        c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeout);
        c.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeout);
        c.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, (long) Math.min(timeout, 10_000));
        c.put(CommonClientConfigs.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, (long) Math.min(timeout, 10_000));
        c.put(CommonClientConfigs.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000L);
        // KIP-714 would push this client's metrics to the customer's brokers: nothing of ours to share
        c.put(CommonClientConfigs.ENABLE_METRICS_PUSH_CONFIG, false);

        if (options.protocol().sasl()) {
            c.put(SaslConfigs.SASL_MECHANISM, options.saslMechanism().kafkaName());
            c.put(SaslConfigs.SASL_JAAS_CONFIG, jaasConfig(options));
        }
        if (options.protocol().tls()) {
            c.put(SslConfigs.SSL_ENGINE_FACTORY_CLASS_CONFIG, PinnedSslEngineFactory.class);
            c.put(BrokerAllowList.CONFIG_KEY, allowList);
            c.put(SslConfigs.SSL_ENDPOINT_IDENTIFICATION_ALGORITHM_CONFIG, "https");
            if (options.truststorePem() != null) {
                c.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
                c.put(SslConfigs.SSL_TRUSTSTORE_CERTIFICATES_CONFIG, options.truststorePem());
            }
        }
        return c;
    }

    /**
     * The JAAS line with the credentials as quoted options. JAAS reads it with a {@code StreamTokenizer}: inside quotes
     * a backslash escapes the next character and a line break ends the string, so both are escaped, and so is the
     * quote. Anything else in a password (a {@code ;}, another login module's name) stays inside the quotes.
     */
    static String jaasConfig(KafkaOptions options) {
        return options.saslMechanism().loginModule() + " required username=\"" + quote(options.saslUsername())
                + "\" password=\"" + quote(options.saslPassword()) + "\";";
    }

    static String quote(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "\\r");
    }

    private static String address(Endpoint endpoint) {
        String ip = endpoint.address().getHostAddress();
        return (endpoint.address() instanceof Inet6Address ? "[" + ip + "]" : ip) + ":" + endpoint.port();
    }
}
