package co.corouter.testkit.kafka;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) in its own JVM, from Maven Central jars:
 * random free ports on 127.0.0.1, a fresh log directory, ready when it answers a Kafka request (not when its port
 * opens). The test JVM never loads a Kafka class, so a test may put any kafka-clients version on its own classpath.
 *
 * <pre>
 * try (KafkaBroker broker = KafkaBroker.builder().saslPlainUser("alice", "s3cret").saslScramUser("bob", "pw")
 *         .tls().start()) {
 *     broker.address(Listener.PLAINTEXT);       // 127.0.0.1:PORT
 *     broker.address(Listener.SSL);             // localhost:PORT, certificate broker.tlsCertificatePem()
 *     broker.acceptedConnections(Listener.PLAINTEXT);
 *     broker.stop();                            // SIGTERM, then SIGKILL after 30 s
 * }
 * </pre>
 *
 * <p>The first start on a machine downloads the broker's jars with Maven (about 40 MB; needs {@code mvn} on the PATH,
 * or {@link Builder#maven}); later starts read the classpath cached under {@code ~/.m2/corouter-testkit}. A start
 * takes about five seconds. For one broker per test class use {@link KafkaBrokerExtension}.
 */
public final class KafkaBroker implements AutoCloseable {

    /** The client listeners a broker can have. Every broker has {@link #PLAINTEXT}; the others are opt-in. */
    public enum Listener {
        /** Always on; also the inter-broker listener. Advertised as {@code 127.0.0.1}. */
        PLAINTEXT,
        /**
         * SASL without TLS: PLAIN with the users of {@link Builder#saslPlainUser}, SCRAM with those of
         * {@link Builder#saslScramUser}. Advertised as {@code 127.0.0.1}.
         */
        SASL_PLAINTEXT,
        /** TLS with a fresh self-signed certificate for the DNS name {@code localhost}, advertised by that name. */
        SSL
    }

    /** The Kafka version the broker runs unless {@link Builder#version} says otherwise. */
    public static final String DEFAULT_VERSION = "4.3.1";

    private static final Pattern USER_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_-]{0,63}");
    /** What {@code kafka-storage format --add-scram 'SCRAM-SHA-256=[name=..,password=..]'} can carry unquoted. */
    private static final Pattern SCRAM_PASSWORD = Pattern.compile("[A-Za-z0-9!#%&*+.=?@^_~-]{1,128}");
    private static final List<String> SCRAM_MECHANISMS = List.of("SCRAM-SHA-256", "SCRAM-SHA-512");
    private static final int START_ATTEMPTS = 3;
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    private final String version;
    private final Path workDir;
    private final Map<Listener, Integer> ports;
    private final BrokerCertificate certificate;
    private final Process process;
    private final BrokerMetrics metrics;
    private final Thread killOnExit;

    private KafkaBroker(String version, Path workDir, Map<Listener, Integer> ports, BrokerCertificate certificate,
                        Process process) {
        this.version = version;
        this.workDir = workDir;
        this.ports = ports;
        this.certificate = certificate;
        this.process = process;
        this.metrics = new BrokerMetrics(process.pid());
        this.killOnExit = new Thread(process::destroyForcibly, "kafka-broker-kill-" + process.pid());
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code host:port} of the PLAINTEXT listener, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return address(Listener.PLAINTEXT);
    }

    /** {@code host:port} of a listener as the broker advertises it. */
    public String address(Listener listener) {
        return advertisedHost(listener) + ":" + port(listener);
    }

    public int port(Listener listener) {
        Integer port = ports.get(listener);
        if (port == null) {
            throw new IllegalStateException("this broker has no " + listener + " listener; enable it on the builder");
        }
        return port;
    }

    /** The TLS listener's certificate in PEM (self-signed, for {@code localhost}), for a client's trust store. */
    public String tlsCertificatePem() {
        if (certificate == null) {
            throw new IllegalStateException("this broker has no SSL listener; call tls() on the builder");
        }
        return certificate.certificate();
    }

    public String version() {
        return version;
    }

    /** Connections the broker has accepted on a listener since it started, from its own metrics. */
    public long acceptedConnections(Listener listener) {
        port(listener);
        return metrics.acceptedConnections(listener.name());
    }

    public boolean isRunning() {
        return process.isAlive();
    }

    /** The broker's log (stdout and stderr), for diagnosing a failed test. */
    public Path logFile() {
        return workDir.resolve("broker.log");
    }

    /** Stops the broker: SIGTERM (controlled shutdown), then SIGKILL if it has not exited in 30 s. Idempotent. */
    public void stop() {
        metrics.close();
        terminate(process, STOP_GRACE);
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting: the hook runs anyway and finds the process gone
        }
    }

    /** Stops the broker and deletes its log directory. */
    @Override
    public void close() {
        stop();
        deleteTree(workDir);
    }

    private static String advertisedHost(Listener listener) {
        return listener == Listener.SSL ? BrokerCertificate.HOST_NAME : "127.0.0.1";
    }

    private static KafkaBroker start(Builder settings) {
        List<Path> classpath = BrokerClasspath.resolve(settings.version, settings.cacheRoot, settings.maven,
                settings.resolveTimeout);
        IllegalStateException lastFailure = null;
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            Path workDir = createWorkDir();
            try {
                return startOnce(settings, classpath, workDir);
            } catch (PortTakenException e) {
                // another process took a port between our probe and the broker's bind: new ports, new directory
                lastFailure = e;
                deleteTree(workDir);
            } catch (RuntimeException | Error e) {
                deleteTree(workDir);
                throw e;
            }
        }
        throw lastFailure;
    }

    private static KafkaBroker startOnce(Builder settings, List<Path> classpath, Path workDir) {
        Map<Listener, Integer> ports = new EnumMap<>(Listener.class);
        List<Integer> free = freePorts(1 + 1 + (settings.sasl() ? 1 : 0) + (settings.tls ? 1 : 0));
        int controllerPort = free.get(0);
        ports.put(Listener.PLAINTEXT, free.get(1));
        int next = 2;
        if (settings.sasl()) {
            ports.put(Listener.SASL_PLAINTEXT, free.get(next++));
        }
        if (settings.tls) {
            ports.put(Listener.SSL, free.get(next));
        }
        BrokerCertificate certificate = settings.tls ? BrokerCertificate.create(workDir, randomSecret()) : null;
        Path config = workDir.resolve("server.properties");
        Path log4j = workDir.resolve("log4j2.properties");
        write(config, serverProperties(settings, workDir, ports, controllerPort, certificate));
        write(log4j, LOG4J_CONFIG);
        String cp = classpath.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator));

        List<String> format = new ArrayList<>(List.of(java(), "-Xmx256m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-Dlog4j2.configurationFile=" + log4j, "-cp", cp, "kafka.tools.StorageTool",
                "format", "-t", clusterId(), "-c", config.toString()));
        // SCRAM credentials live in the cluster metadata: written with the log directory, before the first start
        settings.scramUsers.forEach((name, password) -> SCRAM_MECHANISMS.forEach(mechanism -> format.addAll(
                List.of("--add-scram", mechanism + "=[name=" + name + ",password=" + password + "]"))));
        runToCompletion(format, workDir, workDir.resolve("format.log"), Duration.ofSeconds(60));

        Path log = workDir.resolve("broker.log");
        Process process;
        try {
            process = new ProcessBuilder(java(), "-Xms128m", "-Xmx512m", "-XX:+UseSerialGC",
                    "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true", "-Dlog4j2.configurationFile=" + log4j,
                    "-cp", cp, "kafka.Kafka", config.toString())
                    .directory(workDir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the broker JVM", e);
        }
        awaitReady(process, ports.get(Listener.PLAINTEXT), log, settings.startTimeout);
        return new KafkaBroker(settings.version, workDir, Map.copyOf(ports), certificate, process);
    }

    /** Polls with a Kafka request until the broker answers, the process dies, or the deadline passes. */
    private static void awaitReady(Process process, int port, Path log, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (ApiVersionsProbe.answers(port, 1000)) {
                return;
            }
            try {
                // waits for the next poll and notices at once if the broker exits meanwhile
                process.onExit().get(200, TimeUnit.MILLISECONDS);
            } catch (TimeoutException stillRunning) {
                continue;
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while the broker started", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException(e);
            }
            if (Logs.contains(log, "Address already in use")) {
                throw new PortTakenException("a broker port was taken before the broker bound it:\n"
                        + Logs.tail(log, 10));
            }
            throw new IllegalStateException("the broker exited with " + process.exitValue() + " while starting:\n"
                    + Logs.tail(log, 40));
        }
        terminate(process, Duration.ofSeconds(5));
        throw new IllegalStateException("the broker did not answer on 127.0.0.1:" + port + " within " + timeout
                + ":\n" + Logs.tail(log, 40));
    }

    private static Properties serverProperties(Builder settings, Path workDir, Map<Listener, Integer> ports,
                                               int controllerPort, BrokerCertificate certificate) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", Listener.PLAINTEXT.name());
        List<String> listeners = new ArrayList<>();
        List<String> advertised = new ArrayList<>();
        List<String> protocols = new ArrayList<>(List.of("CONTROLLER:PLAINTEXT"));
        ports.forEach((listener, port) -> {
            listeners.add(listener + "://127.0.0.1:" + port);
            advertised.add(listener + "://" + advertisedHost(listener) + ":" + port);
            protocols.add(listener + ":" + listener);
        });
        listeners.add("CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("listeners", String.join(",", listeners));
        p.put("advertised.listeners", String.join(",", advertised));
        p.put("listener.security.protocol.map", String.join(",", protocols));
        p.put("log.dirs", workDir.resolve("data").toString());
        p.put("num.partitions", "1");
        p.put("auto.create.topics.enable", Boolean.toString(settings.autoCreateTopics));
        // one node: replication factors of 1, or the internal topics are never created and consumers hang
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        List<String> mechanisms = new ArrayList<>();
        if (!settings.saslUsers.isEmpty()) {
            String users = settings.saslUsers.entrySet().stream()
                    .map(user -> " user_" + user.getKey() + "=\"" + jaasEscape(user.getValue()) + "\"")
                    .collect(Collectors.joining());
            mechanisms.add("PLAIN");
            p.put("listener.name.sasl_plaintext.plain.sasl.jaas.config",
                    "org.apache.kafka.common.security.plain.PlainLoginModule required" + users + ";");
        }
        if (!settings.scramUsers.isEmpty()) {
            for (String mechanism : SCRAM_MECHANISMS) {
                mechanisms.add(mechanism);
                p.put("listener.name.sasl_plaintext." + mechanism.toLowerCase(Locale.ROOT)
                        + ".sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;");
            }
        }
        if (!mechanisms.isEmpty()) {
            p.put("listener.name.sasl_plaintext.sasl.enabled.mechanisms", String.join(",", mechanisms));
        }
        if (certificate != null) {
            p.put("listener.name.ssl.ssl.keystore.location", certificate.keystore().toString());
            p.put("listener.name.ssl.ssl.keystore.type", "PKCS12");
            p.put("listener.name.ssl.ssl.keystore.password", certificate.password());
            p.put("listener.name.ssl.ssl.key.password", certificate.password());
        }
        Properties properties = new Properties();
        properties.putAll(p);
        return properties;
    }

    /** A quoted JAAS option value: backslash, quote and line breaks escaped (JAAS reads it with StreamTokenizer). */
    static String jaasEscape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\r", "\\r");
    }

    private static final String LOG4J_CONFIG = """
            appender.out.type = Console
            appender.out.name = OUT
            appender.out.layout.type = PatternLayout
            appender.out.layout.pattern = [%d] %p %m (%c)%n
            rootLogger.level = INFO
            rootLogger.appenderRef.out.ref = OUT
            logger.kafka.name = org.apache.kafka
            logger.kafka.level = WARN
            """;

    private static void write(Path file, Properties properties) {
        StringWriter text = new StringWriter();
        try {
            properties.store(text, "written by co.corouter.testkit.kafka.KafkaBroker");
            Files.writeString(file, text.toString(), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void runToCompletion(List<String> command, Path dir, Path log, Duration timeout) {
        try {
            Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("formatting the broker's log directory did not finish within "
                        + timeout + ":\n" + Logs.tail(log, 20));
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException("formatting the broker's log directory failed:\n" + Logs.tail(log, 30));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while formatting the broker's log directory", e);
        }
    }

    private static void terminate(Process process, Duration grace) {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Distinct free ports, held open together so that they differ, then released for the broker to bind. */
    private static List<Integer> freePorts(int count) {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                sockets.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
            }
            return sockets.stream().map(ServerSocket::getLocalPort).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find free ports", e);
        } finally {
            for (ServerSocket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing a listening socket we own does not fail in a way we could act on
                }
            }
        }
    }

    /** A KRaft cluster id: 16 random bytes in URL-safe base64 (what {@code kafka-storage random-uuid} prints). */
    private static String clusterId() {
        SecureRandom random = new SecureRandom();
        while (true) {
            byte[] bytes = new byte[16];
            random.nextBytes(bytes);
            String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            if (!id.startsWith("-")) {
                return id;
            }
        }
    }

    private static String randomSecret() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static Path createWorkDir() {
        try {
            return Files.createTempDirectory("corouter-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the broker directory " + dir, e);
        }
    }

    private static final class PortTakenException extends IllegalStateException {
        PortTakenException(String message) {
            super(message);
        }
    }

    /** What broker to start. */
    public static final class Builder {

        private String version = DEFAULT_VERSION;
        private final Map<String, String> saslUsers = new LinkedHashMap<>();
        private final Map<String, String> scramUsers = new LinkedHashMap<>();
        private boolean tls;
        private boolean autoCreateTopics = true;
        private Duration startTimeout = Duration.ofSeconds(90);
        private Duration resolveTimeout = Duration.ofMinutes(10);
        private Path cacheRoot = Path.of(System.getProperty("user.home"), ".m2", "corouter-testkit");
        private String maven = defaultMaven();

        private Builder() {
        }

        /** The Kafka version from Maven Central ({@code org.apache.kafka:kafka_2.13}), e.g. 4.4.0. */
        public Builder version(String version) {
            this.version = version;
            return this;
        }

        /** Adds a SASL/PLAIN user and with the first one a {@link Listener#SASL_PLAINTEXT} listener. */
        public Builder saslPlainUser(String name, String password) {
            if (!USER_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("a SASL user name is a letter then letters, digits, _ or -");
            }
            saslUsers.put(name, password);
            return this;
        }

        /**
         * Adds a SASL/SCRAM user (SCRAM-SHA-256 and SCRAM-SHA-512) and with the first SASL user a
         * {@link Listener#SASL_PLAINTEXT} listener. The password is limited to characters the format tool takes as
         * they are: letters, digits and {@code !#%&*+.=?@^_~-}.
         */
        public Builder saslScramUser(String name, String password) {
            if (!USER_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("a SASL user name is a letter then letters, digits, _ or -");
            }
            if (!SCRAM_PASSWORD.matcher(password).matches()) {
                throw new IllegalArgumentException("a SCRAM password here is 1 to 128 of A-Z a-z 0-9 !#%&*+.=?@^_~-");
            }
            scramUsers.put(name, password);
            return this;
        }

        private boolean sasl() {
            return !saslUsers.isEmpty() || !scramUsers.isEmpty();
        }

        /** Adds a {@link Listener#SSL} listener with a fresh self-signed certificate for {@code localhost}. */
        public Builder tls() {
            this.tls = true;
            return this;
        }

        /** Whether a producer's metadata request creates an unknown topic (Kafka's default: yes). */
        public Builder autoCreateTopics(boolean autoCreateTopics) {
            this.autoCreateTopics = autoCreateTopics;
            return this;
        }

        public Builder startTimeout(Duration startTimeout) {
            this.startTimeout = startTimeout;
            return this;
        }

        /** Where resolved classpaths are cached; default {@code ~/.m2/corouter-testkit}. */
        public Builder cacheRoot(Path cacheRoot) {
            this.cacheRoot = cacheRoot;
            return this;
        }

        /** The Maven executable; default {@code $MAVEN_HOME/bin/mvn} when set, else {@code mvn} on the PATH. */
        public Builder maven(String maven) {
            this.maven = maven;
            return this;
        }

        /** Starts the broker and returns when it answers requests. Blocks (about five seconds). */
        public KafkaBroker start() {
            return KafkaBroker.start(this);
        }

        private static String defaultMaven() {
            for (String home : new String[] {System.getProperty("maven.home"), System.getenv("MAVEN_HOME")}) {
                if (home != null && Files.isExecutable(Path.of(home, "bin", "mvn"))) {
                    return Path.of(home, "bin", "mvn").toString();
                }
            }
            return "mvn";
        }
    }
}
