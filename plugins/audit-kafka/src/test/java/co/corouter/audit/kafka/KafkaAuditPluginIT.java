package co.corouter.audit.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditContext;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import co.corouter.plugin.api.audit.AuditRecord;
import co.corouter.plugin.api.audit.AuditSink;
import co.corouter.testkit.audit.AuditBatches;
import co.corouter.testkit.audit.EventLoop;
import co.corouter.testkit.audit.TestEndpointGuard;
import co.corouter.testkit.audit.TestEndpointGuard.Check;
import co.corouter.testkit.kafka.KafkaBroker;
import co.corouter.testkit.kafka.KafkaBroker.Listener;
import co.corouter.testkit.kafka.KafkaBrokerExtension;
import co.corouter.testkit.plugin.LoadedPlugin;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Security;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged plugin, loaded by PF4J from a plugins directory as the server loads it, against a real broker. The
 * host side of this JVM has kafka-clients {@code corouter.test.host.kafka-clients.version} on its class path and reads
 * the topics with it; the plugin brings and uses its own.
 */
@ExtendWith(VertxExtension.class)
class KafkaAuditPluginIT {

    private static final long ACCOUNT = 42;
    private static final String SASL_USER = "alice";
    /** JAAS syntax inside: it must reach the broker as one password, not as options or another login module. */
    private static final String SASL_PASSWORD = "s3cret\"; org.apache.kafka.common.security.plain.PlainLoginModule"
            + " required username=\"admin\" \\ end";
    private static final String WRONG_PASSWORD = "wrong-" + UUID.randomUUID();
    private static final String SCRAM_USER = "bob";
    private static final String SCRAM_PASSWORD = "scram-s3cret-" + UUID.randomUUID();
    private static final Path PLUGIN_JAR = Path.of(System.getProperty("corouter.test.plugin.jar"));
    private static final Path TEST_LOG = Path.of("target/test-logs/audit-kafka.log");

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension(KafkaBroker.builder()
            .autoCreateTopics(false).saslPlainUser(SASL_USER, SASL_PASSWORD).saslScramUser(SCRAM_USER, SCRAM_PASSWORD)
            .tls());

    @TempDir
    static Path pluginsDir;

    private static LoadedPlugin plugin;
    private static AuditSink sink;

    private Vertx vertx;
    private EventLoop loop;
    private TestEndpointGuard guard;
    private final List<AuditDestination> opened = new ArrayList<>();

    @BeforeAll
    static void loadPlugin() {
        plugin = LoadedPlugin.load(PLUGIN_JAR, pluginsDir);
        sink = plugin.extension(AuditSink.class);
    }

    @AfterAll
    static void unloadPluginAndCheckTheLogs() throws IOException {
        ClassLoader pluginLoader = plugin.classLoader();
        plugin.close();
        // SCRAM's login module registered SASL providers JVM-wide; unloading the plugin takes them back
        assertThat(Security.getProviders()).noneMatch(p -> p.getClass().getClassLoader() == pluginLoader);
        String log = Files.readString(TEST_LOG);
        assertThat(log).as("Kafka's DEBUG log, the plugin's and the test's").contains("audit-kafka: producer")
                .doesNotContain("s3cret").doesNotContain(WRONG_PASSWORD);
    }

    @BeforeEach
    void setUp(Vertx vertx) {
        this.vertx = vertx;
        this.loop = new EventLoop(vertx);
        this.guard = new TestEndpointGuard(vertx);
    }

    @AfterEach
    void closeDestinations() throws Exception {
        for (AuditDestination destination : opened) {
            loop.await(destination::close);
        }
    }

    private AuditDestination open(JsonObject config) {
        AuditDestination destination = sink.open(new AuditContext(vertx, ACCOUNT, guard, null), config);
        opened.add(destination);
        return destination;
    }

    private static JsonObject config(String topic, String protocol, String... bootstrap) {
        return new JsonObject().put("bootstrap_servers", new JsonArray(List.of((Object[]) bootstrap)))
                .put("topic", topic).put("security_protocol", protocol).put("timeout_ms", 5000);
    }

    private static String newTopic(KafkaBroker broker) throws Exception {
        String topic = "audit-" + UUID.randomUUID();
        Topics.create(broker.bootstrapServers(), topic, 3);
        return topic;
    }



    private AuditException failedWrite(AuditDestination destination, int records) throws Exception {
        return loop.failure(AuditException.class,
                () -> destination.write(AuditBatches.batch(ACCOUNT, Instant.now(), records)));
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    @Test
    void everyRecordArrivesOnceByteForByteKeyedByAccountWithItsIds(KafkaBroker broker) throws Exception {
        String topic = newTopic(broker);
        AuditDestination destination = open(config(topic, "PLAINTEXT", broker.bootstrapServers()));
        Instant window = Instant.parse("2025-04-01T12:00:00Z");
        List<AuditBatch> batches = List.of(AuditBatches.batch(ACCOUNT, window, 5),
                AuditBatches.batch(ACCOUNT, window.plusSeconds(60), 1), AuditBatches.batch(ACCOUNT, window, 20));

        for (AuditBatch batch : batches) {
            loop.await(() -> destination.write(batch));
        }

        List<ConsumerRecord<byte[], byte[]>> read = Topics.readAll(broker.bootstrapServers(), topic);
        List<AuditRecord> written = batches.stream().flatMap(batch -> batch.records().stream()).toList();
        assertThat(read).hasSize(written.size());
        // one key, so one partition, in the order written
        assertThat(read).extracting(ConsumerRecord::partition).containsOnly(read.get(0).partition());
        for (int i = 0; i < written.size(); i++) {
            ConsumerRecord<byte[], byte[]> message = read.get(i);
            AuditRecord record = written.get(i);
            assertThat(message.value()).isEqualTo(record.json().getBytes());
            assertThat(new String(message.key(), StandardCharsets.US_ASCII)).isEqualTo("42");
            assertThat(header(message, "corouter-generation-id")).isEqualTo(record.generationId());
            assertThat(header(message, "corouter-probe")).isNull();
        }
        assertThat(read.subList(0, 5)).allSatisfy(m -> assertThat(header(m, "corouter-batch-id"))
                .isEqualTo(batches.get(0).batchId()));
        assertThat(header(read.get(5), "corouter-batch-id")).isEqualTo(batches.get(1).batchId());
        // the bootstrap server before the producer existed, then the broker the metadata named, once
        int port = broker.port(Listener.PLAINTEXT);
        assertThat(guard.checks()).containsExactly(new Check("tcp", "127.0.0.1", port, true),
                new Check("tcp", "127.0.0.1", port, true));
    }

    @Test
    void theTestSendsOneProbeMessageMarkedAsSuch(KafkaBroker broker) throws Exception {
        String topic = newTopic(broker);
        AuditDestination destination = open(config(topic, "PLAINTEXT", broker.bootstrapServers()));

        loop.await(destination::test);

        List<ConsumerRecord<byte[], byte[]>> read = Topics.readAll(broker.bootstrapServers(), topic);
        assertThat(read).hasSize(1);
        assertThat(header(read.get(0), "corouter-probe")).isEqualTo("true");
        assertThat(new JsonObject(new String(read.get(0).value(), StandardCharsets.UTF_8)).getBoolean("corouter_probe"))
                .isTrue();
    }

    @Test
    void thePluginRunsItsOwnKafkaClientsBesideADifferentVersionOnTheHost(KafkaBroker broker) throws Exception {
        ClassLoader pluginLoader = plugin.classLoader();
        Class<?> pluginAppInfo = Class.forName(AppInfoParser.class.getName(), true, pluginLoader);
        String pluginVersion = (String) pluginAppInfo.getMethod("getVersion").invoke(null);
        Properties bundled = new Properties();
        try (InputStream in = pluginLoader.getResourceAsStream("kafka/kafka-version.properties")) {
            bundled.load(in);
        }
        Class<?> pluginProducer = pluginLoader.loadClass("org.apache.kafka.clients.producer.KafkaProducer");

        String hostVersion = System.getProperty("corouter.test.host.kafka-clients.version");
        assertThat(AppInfoParser.getVersion()).isEqualTo(hostVersion);
        assertThat(pluginVersion).isEqualTo(bundled.getProperty("version")).isNotEqualTo(AppInfoParser.getVersion());
        assertThat(pluginAppInfo.getClassLoader()).isSameAs(pluginLoader);
        assertThat(pluginProducer).isNotSameAs(org.apache.kafka.clients.producer.KafkaProducer.class);
        assertThat(pluginProducer.getClassLoader()).isSameAs(pluginLoader);
        assertThat(pluginLoader.loadClass("io.vertx.kafka.client.producer.KafkaProducer").getClassLoader())
                .isSameAs(pluginLoader);
        assertThatThrownBy(() -> Class.forName("io.vertx.kafka.client.producer.KafkaProducer"))
                .isInstanceOf(ClassNotFoundException.class);
        // what the host provides is shared, not copied
        assertThat(pluginLoader.loadClass(AuditSink.class.getName())).isSameAs(AuditSink.class);
        assertThat(pluginLoader.loadClass(Vertx.class.getName())).isSameAs(Vertx.class);
        assertThat(sink.getClass().getClassLoader()).isSameAs(pluginLoader);
        assertThat(getClass().getClassLoader().getResource("co/corouter/audit/kafka/KafkaAuditSink.class"))
                .as("the plugin's classes are not on the host's class path").isNull();

        String topic = newTopic(broker);
        AuditDestination destination = open(config(topic, "PLAINTEXT", broker.bootstrapServers()));
        AuditBatch batch = AuditBatches.batch(ACCOUNT, Instant.now(), 3);
        loop.await(() -> destination.write(batch));
        assertThat(Topics.readAll(broker.bootstrapServers(), topic)).extracting(ConsumerRecord::value)
                .containsExactlyElementsOf(batch.records().stream().map(r -> r.json().getBytes()).toList());
    }

    @Test
    void theArtifactBundlesKafkaAndNothingTheHostProvides() throws IOException {
        try (JarFile jar = new JarFile(PLUGIN_JAR.toFile())) {
            List<String> entries = Collections.list(jar.entries()).stream().map(ZipEntry::getName).toList();

            assertThat(jar.getManifest().getMainAttributes().getValue("Plugin-Id")).isEqualTo("audit-kafka");
            assertThat(jar.getManifest().getMainAttributes().getValue("Plugin-Requires")).isEqualTo(">=1.6.0 & <2.0.0");
            assertThat(entries).contains("org/apache/kafka/clients/producer/KafkaProducer.class",
                    "io/vertx/kafka/client/producer/KafkaProducer.class", "META-INF/extensions.idx",
                    "META-INF/corouter/audit/kafka.schema.json");
            for (String hostPackage : List.of("co/corouter/plugin/", "org/pf4j/", "io/vertx/core/", "io/netty/",
                    "com/fasterxml/jackson/", "org/slf4j/", "ch/qos/logback/", "com/github/luben/", "org/xerial/",
                    "net/jpountz/")) {
                assertThat(entries).as(hostPackage).noneMatch(entry -> entry.startsWith(hostPackage));
            }
        }
    }

    @Test
    void aRefusedBootstrapServerIsNeverConnectedTo(KafkaBroker broker) throws Exception {
        String topic = newTopic(broker);
        long before = broker.acceptedConnections(Listener.PLAINTEXT);
        guard.refuse("127.0.0.1");
        AuditDestination destination = open(config(topic, "PLAINTEXT", broker.bootstrapServers()));

        AuditException refused = failedWrite(destination, 1);

        assertThat(refused.kind()).isEqualTo(Kind.REFUSED);
        assertThat(guard.checks()).containsExactly(new Check("tcp", "127.0.0.1", broker.port(Listener.PLAINTEXT),
                false));
        assertThat(broker.acceptedConnections(Listener.PLAINTEXT)).isEqualTo(before);
        // the counter does count: the same destination behind a guard that allows it connects
        TestEndpointGuard allowing = new TestEndpointGuard(vertx);
        AuditDestination allowed = sink.open(new AuditContext(vertx, ACCOUNT, allowing, null),
                config(topic, "PLAINTEXT", broker.bootstrapServers()));
        opened.add(allowed);
        loop.await(allowed::test);
        assertThat(broker.acceptedConnections(Listener.PLAINTEXT)).isGreaterThan(before);
    }

    @Test
    void aBrokerAdvertisedUnderARefusedNameGetsNoRecord(KafkaBroker broker) throws Exception {
        String topic = newTopic(broker);
        int port = broker.port(Listener.PLAINTEXT);
        // bootstrap by a name the guard allows; the cluster then advertises 127.0.0.1, which it refuses
        guard.refuse("127.0.0.1");
        AuditDestination destination = open(config(topic, "PLAINTEXT", "localhost:" + port));

        AuditException refused = failedWrite(destination, 2);

        assertThat(refused.kind()).isEqualTo(Kind.REFUSED);
        assertThat(refused.getMessage()).contains("advertises broker 127.0.0.1:" + port);
        assertThat(guard.checks()).containsExactly(new Check("tcp", "localhost", port, true),
                new Check("tcp", "127.0.0.1", port, false));
        assertThat(Topics.readAll(broker.bootstrapServers(), topic)).isEmpty();
    }

    @Test
    void aTopicThatDoesNotExistIsAConfigurationError(KafkaBroker broker) throws Exception {
        AuditDestination destination = open(config("no-such-topic", "PLAINTEXT", broker.bootstrapServers())
                .put("timeout_ms", 2000));

        AuditException missing = failedWrite(destination, 1);

        assertThat(missing.kind()).isEqualTo(Kind.CONFIG);
        assertThat(missing.getMessage()).contains("no-such-topic");
    }

    @Test
    void aBootstrapServerWithNothingListeningIsUnavailableWithinTheTimeout() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            closedPort = probe.getLocalPort();
        }
        AuditDestination destination = open(config("t", "PLAINTEXT", "127.0.0.1:" + closedPort)
                .put("timeout_ms", 2000));
        long start = System.nanoTime();

        AuditException unreachable = failedWrite(destination, 1);

        assertThat(unreachable.kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(unreachable.retryable()).isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void saslPlainWithAPasswordFullOfJaasSyntaxAuthenticatesAndWrites(KafkaBroker broker) throws Exception {
        String topic = newTopic(broker);
        AuditDestination destination = open(config(topic, "SASL_PLAINTEXT", broker.address(Listener.SASL_PLAINTEXT))
                .put("sasl_mechanism", "PLAIN").put("sasl_username", SASL_USER).put("sasl_password", SASL_PASSWORD));
        AuditBatch batch = AuditBatches.batch(ACCOUNT, Instant.now(), 4);

        loop.await(() -> destination.write(batch));

        assertThat(Topics.readAll(broker.bootstrapServers(), topic)).hasSize(4);
    }

    @Test
    void saslScramAuthenticatesThroughThePluginsOwnScramImplementation(KafkaBroker broker) throws Exception {
        String topic = newTopic(broker);
        AuditDestination destination = open(config(topic, "SASL_PLAINTEXT", broker.address(Listener.SASL_PLAINTEXT))
                .put("sasl_mechanism", "SCRAM-SHA-512").put("sasl_username", SCRAM_USER)
                .put("sasl_password", SCRAM_PASSWORD));

        loop.await(destination::test);

        assertThat(Topics.readAll(broker.bootstrapServers(), topic)).hasSize(1);
        assertThat(Security.getProviders()).anyMatch(p -> p.getClass().getClassLoader() == plugin.classLoader());
    }

    @Test
    void aWrongPasswordIsAnAuthFailureThatNamesTheUserButNotThePassword(KafkaBroker broker) throws Exception {
        String topic = newTopic(broker);
        AuditDestination destination = open(config(topic, "SASL_PLAINTEXT", broker.address(Listener.SASL_PLAINTEXT))
                .put("sasl_mechanism", "PLAIN").put("sasl_username", SASL_USER).put("sasl_password", WRONG_PASSWORD));

        AuditException denied = failedWrite(destination, 1);

        assertThat(denied.kind()).isEqualTo(Kind.AUTH);
        assertThat(denied.retryable()).isFalse();
        assertThat(denied.getMessage()).contains(SASL_USER).doesNotContain(WRONG_PASSWORD);
        assertThat(Topics.readAll(broker.bootstrapServers(), topic)).isEmpty();
    }

    @Test
    void tlsGoesToThePinnedAddressAndVerifiesTheConfiguredName(KafkaBroker broker) throws Exception {
        String topic = newTopic(broker);
        int port = broker.port(Listener.SSL);
        AuditDestination destination = open(config(topic, "SSL", "localhost:" + port)
                .put("ssl_truststore_pem", broker.tlsCertificatePem()));
        AuditBatch batch = AuditBatches.batch(ACCOUNT, Instant.now(), 2);

        loop.await(() -> destination.write(batch));

        assertThat(Topics.readAll(broker.bootstrapServers(), topic)).extracting(ConsumerRecord::value)
                .containsExactlyElementsOf(batch.records().stream().map(r -> r.json().getBytes()).toList());
        assertThat(guard.checks()).containsExactly(new Check("tls", "localhost", port, true),
                new Check("tls", "localhost", port, true));
    }

    @Test
    void tlsToAnAddressTheCertificateDoesNotNameFailsVerification(KafkaBroker broker) throws Exception {
        String topic = newTopic(broker);
        AuditDestination destination = open(config(topic, "SSL", "127.0.0.1:" + broker.port(Listener.SSL))
                .put("ssl_truststore_pem", broker.tlsCertificatePem()));

        AuditException unverified = failedWrite(destination, 1);

        assertThat(unverified.kind()).isEqualTo(Kind.CONFIG);
        assertThat(unverified.getMessage()).contains("TLS handshake");
    }

    @Test
    void tlsWithACertificateSignedByNoTrustedAuthorityFails(KafkaBroker broker) throws Exception {
        String topic = newTopic(broker);
        AuditDestination destination = open(config(topic, "SSL", "localhost:" + broker.port(Listener.SSL))
                .put("ssl_truststore_pem", someOtherAuthority()));

        AuditException untrusted = failedWrite(destination, 1);

        assertThat(untrusted.kind()).isEqualTo(Kind.CONFIG);
        assertThat(Topics.readAll(broker.bootstrapServers(), topic)).isEmpty();
    }

    /** A real CA certificate from the JDK's trust store: valid PEM that did not sign the broker's certificate. */
    private static String someOtherAuthority() throws Exception {
        KeyStore cacerts = KeyStore.getInstance(KeyStore.getDefaultType());
        try (InputStream in = Files.newInputStream(Path.of(System.getProperty("java.home"), "lib", "security",
                "cacerts"))) {
            cacerts.load(in, null);
        }
        Certificate certificate = cacerts.getCertificate(cacerts.aliases().nextElement());
        ByteArrayOutputStream pem = new ByteArrayOutputStream();
        pem.writeBytes("-----BEGIN CERTIFICATE-----\n".getBytes(StandardCharsets.US_ASCII));
        pem.writeBytes(Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encode(certificate.getEncoded()));
        pem.writeBytes("\n-----END CERTIFICATE-----\n".getBytes(StandardCharsets.US_ASCII));
        return pem.toString(StandardCharsets.US_ASCII);
    }
}
