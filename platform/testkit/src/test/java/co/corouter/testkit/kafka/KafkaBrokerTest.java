package co.corouter.testkit.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.testkit.kafka.KafkaBroker.Listener;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The broker is a real Kafka in its own JVM: it answers Kafka requests on every listener and is gone after stop. */
class KafkaBrokerTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension(
            KafkaBroker.builder().saslPlainUser("alice", "pa\"ss\\word").saslScramUser("bob", "scram-pw").tls());

    @Test
    void everyListenerAnswersAKafkaRequestAndTheBrokerCountsTheConnections(KafkaBroker broker) throws Exception {
        long before = broker.acceptedConnections(Listener.PLAINTEXT);

        assertThat(ApiVersionsProbe.answers(broker.port(Listener.PLAINTEXT), 5000)).isTrue();
        // ApiVersions is allowed before SASL authentication
        assertThat(ApiVersionsProbe.answers(broker.port(Listener.SASL_PLAINTEXT), 5000)).isTrue();
        try (SSLSocket tls = tlsSocketTrusting(broker.tlsCertificatePem(), broker.port(Listener.SSL))) {
            tls.startHandshake();
            assertThat(ApiVersionsProbe.answers(tls)).isTrue();
        }

        assertThat(broker.acceptedConnections(Listener.PLAINTEXT)).isEqualTo(before + 1);
        assertThat(broker.address(Listener.SSL)).isEqualTo("localhost:" + broker.port(Listener.SSL));
        assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:" + broker.port(Listener.PLAINTEXT));
    }

    @Test
    void theTlsCertificateNamesLocalhostAndNotTheAddress(KafkaBroker broker) throws Exception {
        try (SSLSocket tls = tlsSocketTrusting(broker.tlsCertificatePem(), broker.port(Listener.SSL))) {
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            tls.setSSLParameters(parameters);
            tls.startHandshake();
        }
        try (SSLSocket byAddress = tlsSocketTrusting(broker.tlsCertificatePem(), broker.port(Listener.SSL),
                "127.0.0.1")) {
            SSLParameters parameters = byAddress.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            byAddress.setSSLParameters(parameters);
            assertThatThrownBy(byAddress::startHandshake).isInstanceOf(IOException.class);
        }
    }

    @Test
    void aStoppedBrokerNoLongerAcceptsConnectionsAndCloseDeletesItsDirectory() throws Exception {
        KafkaBroker broker = KafkaBroker.builder().start();
        int port = broker.port(Listener.PLAINTEXT);
        Path log = broker.logFile();
        assertThat(broker.isRunning()).isTrue();
        assertThatThrownBy(() -> broker.port(Listener.SSL)).hasMessageContaining("no SSL listener");
        assertThatThrownBy(broker::tlsCertificatePem).hasMessageContaining("tls()");

        broker.stop();

        assertThat(broker.isRunning()).isFalse();
        assertThatThrownBy(() -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            }
        }).isInstanceOf(ConnectException.class);
        assertThat(log).exists();

        broker.close();

        assertThat(Files.exists(log.getParent())).isFalse();
    }

    private static SSLSocket tlsSocketTrusting(String pem, int port) throws Exception {
        return tlsSocketTrusting(pem, port, "localhost");
    }

    private static SSLSocket tlsSocketTrusting(String pem, int port, String host) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("broker", CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))));
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        try {
            context.init(null, trustManagers.getTrustManagers(), null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        plain.setSoTimeout(5000);
        return (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
    }
}
