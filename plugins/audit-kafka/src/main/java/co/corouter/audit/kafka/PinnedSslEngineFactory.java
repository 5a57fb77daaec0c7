package co.corouter.audit.kafka;

import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.security.auth.SslEngineFactory;
import org.apache.kafka.common.security.ssl.DefaultSslEngineFactory;

import javax.net.ssl.SSLEngine;
import java.security.KeyStore;
import java.util.Map;
import java.util.Set;

/**
 * Kafka's TLS engines for a producer whose bootstrap servers are pinned IP addresses. Kafka names a TLS peer by the
 * address it connected to; for a pinned address this factory puts back the configured host name, so SNI and host
 * name verification use the name while the connection goes to the address the endpoint guard approved. It also
 * refuses to create an engine for any peer the guard has not allowed (a broker learnt from metadata and not yet
 * checked): Kafka has then opened a TCP connection but sends nothing over it.
 *
 * <p>Created by Kafka's network code through {@code ssl.engine.factory.class} (given as a class, not a name, so no
 * class loader is consulted); configured with the producer's configs, which carry the {@link BrokerAllowList}.
 */
public final class PinnedSslEngineFactory implements SslEngineFactory {

    private final DefaultSslEngineFactory delegate = new DefaultSslEngineFactory();
    private BrokerAllowList allowList;

    public PinnedSslEngineFactory() {
    }

    @Override
    public void configure(Map<String, ?> configs) {
        if (!(configs.get(BrokerAllowList.CONFIG_KEY) instanceof BrokerAllowList list)) {
            throw new ConfigException(getClass().getSimpleName() + " needs " + BrokerAllowList.CONFIG_KEY);
        }
        allowList = list;
        delegate.configure(configs);
    }

    @Override
    public SSLEngine createClientSslEngine(String peerHost, int peerPort, String endpointIdentification) {
        if (!allowList.admits(peerHost, peerPort)) {
            throw new KafkaException("the broker " + peerHost + ":" + peerPort + " has not passed the endpoint guard");
        }
        return delegate.createClientSslEngine(allowList.nameFor(peerHost, peerPort), peerPort, endpointIdentification);
    }

    @Override
    public SSLEngine createServerSslEngine(String peerHost, int peerPort) {
        throw new UnsupportedOperationException("a producer never accepts TLS connections");
    }

    @Override
    public boolean shouldBeRebuilt(Map<String, Object> nextConfigs) {
        return false;
    }

    @Override
    public Set<String> reconfigurableConfigs() {
        return Set.of();
    }

    @Override
    public KeyStore keystore() {
        return delegate.keystore();
    }

    @Override
    public KeyStore truststore() {
        return delegate.truststore();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
