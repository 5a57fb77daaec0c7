package co.corouter.audit.kafka;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The validated configuration of one {@code kafka} audit destination.
 *
 * <pre>
 * bootstrap_servers: [kafka-1.example.com:9093]   # required: host:port, at most 16
 * topic:             corouter-audit                # required
 * security_protocol: SSL                           # optional: PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL, default SSL
 * sasl_mechanism:    SCRAM-SHA-512                 # with SASL_*: PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
 * sasl_username:     corouter                      # with SASL_*
 * sasl_password:     ...                           # with SASL_* (write-only: never shown, logged or echoed)
 * ssl_truststore_pem: "-----BEGIN CERTIFICATE-----..."  # optional with SSL, SASL_SSL: CAs trusted instead of the JDK's
 * timeout_ms:        10000                         # optional: bound on one write (connect, metadata, delivery)
 * </pre>
 *
 * @param bootstrapServers where the producer starts; each is checked by the host's endpoint guard
 * @param topic            a legal Kafka topic name
 * @param protocol         transport and authentication
 * @param saslMechanism    with a SASL protocol, else {@code null}
 * @param saslUsername     with a SASL protocol, else {@code null}
 * @param saslPassword     with a SASL protocol, else {@code null}; {@link #toString()} never shows it
 * @param truststorePem    PEM certificates, or {@code null} for the JDK's trusted authorities
 * @param timeoutMs        how long a write may wait for the brokers
 */
public record KafkaOptions(List<HostPort> bootstrapServers, String topic, Protocol protocol,
                           SaslMechanism saslMechanism, String saslUsername, String saslPassword,
                           String truststorePem, int timeoutMs) {

    static final String BOOTSTRAP_SERVERS = "bootstrap_servers";
    static final String TOPIC = "topic";
    static final String SECURITY_PROTOCOL = "security_protocol";
    static final String SASL_MECHANISM = "sasl_mechanism";
    static final String SASL_USERNAME = "sasl_username";
    static final String SASL_PASSWORD = "sasl_password";
    static final String SSL_TRUSTSTORE_PEM = "ssl_truststore_pem";
    static final String TIMEOUT_MS = "timeout_ms";
    static final Set<String> FIELDS = Set.of(BOOTSTRAP_SERVERS, TOPIC, SECURITY_PROTOCOL, SASL_MECHANISM,
            SASL_USERNAME, SASL_PASSWORD, SSL_TRUSTSTORE_PEM, TIMEOUT_MS);

    static final int MAX_BOOTSTRAP_SERVERS = 16;
    static final int DEFAULT_TIMEOUT_MS = 10_000;
    static final int MIN_TIMEOUT_MS = 1_000;
    static final int MAX_TIMEOUT_MS = 120_000;
    /** Kafka's own rule for topic names. */
    private static final Pattern TOPIC_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");
    private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?"
            + "(\\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\\.?");

    /** How the producer talks to the brokers. */
    public enum Protocol {
        PLAINTEXT(false, false), SSL(true, false), SASL_PLAINTEXT(false, true), SASL_SSL(true, true);

        private final boolean tls;
        private final boolean sasl;

        Protocol(boolean tls, boolean sasl) {
            this.tls = tls;
            this.sasl = sasl;
        }

        public boolean tls() {
            return tls;
        }

        public boolean sasl() {
            return sasl;
        }
    }

    /** The SASL mechanisms offered; Kerberos and OAuth are not (they need files or endpoints of their own). */
    public enum SaslMechanism {
        PLAIN("PLAIN", "org.apache.kafka.common.security.plain.PlainLoginModule"),
        SCRAM_SHA_256("SCRAM-SHA-256", "org.apache.kafka.common.security.scram.ScramLoginModule"),
        SCRAM_SHA_512("SCRAM-SHA-512", "org.apache.kafka.common.security.scram.ScramLoginModule");

        private final String kafkaName;
        private final String loginModule;

        SaslMechanism(String kafkaName, String loginModule) {
            this.kafkaName = kafkaName;
            this.loginModule = loginModule;
        }

        public String kafkaName() {
            return kafkaName;
        }

        String loginModule() {
            return loginModule;
        }

        static SaslMechanism of(String name) {
            for (SaslMechanism mechanism : values()) {
                if (mechanism.kafkaName.equals(name)) {
                    return mechanism;
                }
            }
            return null;
        }
    }

    /** A bootstrap server as configured: a DNS name or an IP literal (IPv6 without brackets). */
    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
        }
    }

    public KafkaOptions {
        bootstrapServers = List.copyOf(bootstrapServers);
    }

    /** Parses and validates; every failure is an {@link IllegalArgumentException} naming the field. */
    public static KafkaOptions parse(JsonObject config) {
        JsonObject c = config == null ? new JsonObject() : config;
        Set<String> unknown = new TreeSet<>(c.fieldNames());
        unknown.removeAll(FIELDS);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown field(s) " + unknown + "; known: " + new TreeSet<>(FIELDS));
        }
        List<HostPort> servers = bootstrapServers(c.getValue(BOOTSTRAP_SERVERS));
        String topic = topic(c.getValue(TOPIC));
        Protocol protocol = protocol(c.getValue(SECURITY_PROTOCOL));
        SaslMechanism mechanism = null;
        String username = null;
        String password = null;
        if (protocol.sasl()) {
            mechanism = mechanism(c.getValue(SASL_MECHANISM));
            username = username(c.getValue(SASL_USERNAME));
            password = password(c.getValue(SASL_PASSWORD));
        } else {
            for (String field : List.of(SASL_MECHANISM, SASL_USERNAME, SASL_PASSWORD)) {
                if (c.getValue(field) != null) {
                    throw new IllegalArgumentException(field + ": only applies to security_protocol SASL_PLAINTEXT "
                            + "or SASL_SSL, not " + protocol);
                }
            }
        }
        String pem = null;
        if (c.getValue(SSL_TRUSTSTORE_PEM) != null) {
            if (!protocol.tls()) {
                throw new IllegalArgumentException(SSL_TRUSTSTORE_PEM + ": only applies to security_protocol SSL or "
                        + "SASL_SSL, not " + protocol);
            }
            pem = truststorePem(c.getValue(SSL_TRUSTSTORE_PEM));
        }
        int timeout = timeout(c.getValue(TIMEOUT_MS));
        return new KafkaOptions(servers, topic, protocol, mechanism, username, password, pem, timeout);
    }

    /** Without the password: records print every component, and options end up in logs. */
    @Override
    public String toString() {
        return "KafkaOptions[bootstrapServers=" + bootstrapServers + ", topic=" + topic + ", protocol=" + protocol
                + ", saslMechanism=" + saslMechanism + ", saslUsername=" + saslUsername
                + ", saslPassword=" + (saslPassword == null ? "null" : "(hidden)")
                + ", truststorePem=" + (truststorePem == null ? "null" : "(" + truststorePem.length() + " chars)")
                + ", timeoutMs=" + timeoutMs + "]";
    }

    private static List<HostPort> bootstrapServers(Object value) {
        String example = ", e.g. [\"kafka-1.example.com:9093\"]";
        if (value == null) {
            throw new IllegalArgumentException(BOOTSTRAP_SERVERS + ": is required" + example);
        }
        if (!(value instanceof JsonArray array) || array.isEmpty()) {
            throw new IllegalArgumentException(BOOTSTRAP_SERVERS + ": must be a non-empty list of host:port" + example);
        }
        if (array.size() > MAX_BOOTSTRAP_SERVERS) {
            throw new IllegalArgumentException(BOOTSTRAP_SERVERS + ": at most " + MAX_BOOTSTRAP_SERVERS + " servers");
        }
        List<HostPort> servers = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            String field = BOOTSTRAP_SERVERS + "[" + i + "]";
            if (!(array.getValue(i) instanceof String text) || text.isBlank()) {
                throw new IllegalArgumentException(field + ": must be a host:port string");
            }
            HostPort server = hostPort(field, text.strip());
            if (!servers.contains(server)) {
                servers.add(server);
            }
        }
        return servers;
    }

    private static HostPort hostPort(String field, String text) {
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf("]:");
            if (close < 0) {
                throw new IllegalArgumentException(field + ": an IPv6 address is written [address]:port");
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
            if (!host.matches("[0-9A-Fa-f:.]+")) {
                throw new IllegalArgumentException(field + ": '" + host + "' is not an IPv6 address");
            }
        } else {
            int colon = text.lastIndexOf(':');
            if (colon <= 0 || text.indexOf(':') != colon) {
                throw new IllegalArgumentException(field
                        + ": must be host:port (no scheme), e.g. kafka-1.example.com:9093");
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
            if (!HOST_NAME.matcher(host).matches() || host.length() > 253) {
                throw new IllegalArgumentException(field + ": '" + host + "' is not a host name or IPv4 address");
            }
        }
        int number;
        try {
            number = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            number = -1;
        }
        if (number < 1 || number > 65535) {
            throw new IllegalArgumentException(field + ": the port must be a number from 1 to 65535");
        }
        return new HostPort(host.toLowerCase(Locale.ROOT), number);
    }

    private static String topic(Object value) {
        if (value == null) {
            throw new IllegalArgumentException(TOPIC + ": is required");
        }
        if (!(value instanceof String text) || !TOPIC_NAME.matcher(text).matches() || text.equals(".")
                || text.equals("..")) {
            throw new IllegalArgumentException(TOPIC + ": must be 1 to 249 of a-z A-Z 0-9 . _ - (Kafka's topic names)");
        }
        return text;
    }

    private static Protocol protocol(Object value) {
        if (value == null) {
            return Protocol.SSL;
        }
        if (value instanceof String text) {
            for (Protocol protocol : Protocol.values()) {
                if (protocol.name().equals(text)) {
                    return protocol;
                }
            }
        }
        throw new IllegalArgumentException(SECURITY_PROTOCOL + ": must be one of "
                + Arrays.toString(Protocol.values()));
    }

    private static SaslMechanism mechanism(Object value) {
        SaslMechanism mechanism = value instanceof String text ? SaslMechanism.of(text) : null;
        if (mechanism == null) {
            throw new IllegalArgumentException(SASL_MECHANISM + ": " + (value == null ? "is required with SASL, " : "")
                    + "must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512");
        }
        return mechanism;
    }

    private static String username(Object value) {
        if (!(value instanceof String text) || text.isEmpty()) {
            throw new IllegalArgumentException(SASL_USERNAME
                    + ": is required with SASL and must be a non-empty string");
        }
        if (text.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException(SASL_USERNAME + ": must not contain control characters");
        }
        return text;
    }

    /** Never echoes the value, not even its length. */
    private static String password(Object value) {
        if (!(value instanceof String text) || text.isEmpty()) {
            throw new IllegalArgumentException(SASL_PASSWORD
                    + ": is required with SASL and must be a non-empty string");
        }
        return text;
    }

    private static String truststorePem(Object value) {
        if (!(value instanceof String text) || !text.contains("-----BEGIN CERTIFICATE-----")) {
            throw new IllegalArgumentException(SSL_TRUSTSTORE_PEM + ": must be one or more PEM certificates "
                    + "(-----BEGIN CERTIFICATE----- ...)");
        }
        try {
            int count = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII))).size();
            if (count == 0) {
                throw new IllegalArgumentException(SSL_TRUSTSTORE_PEM + ": contains no certificate");
            }
        } catch (CertificateException e) {
            throw new IllegalArgumentException(SSL_TRUSTSTORE_PEM + ": is not a valid PEM certificate");
        }
        return text;
    }

    private static int timeout(Object value) {
        if (value == null) {
            return DEFAULT_TIMEOUT_MS;
        }
        if (!(value instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
                || n.doubleValue() < MIN_TIMEOUT_MS || n.doubleValue() > MAX_TIMEOUT_MS) {
            throw new IllegalArgumentException(TIMEOUT_MS + ": must be a whole number between " + MIN_TIMEOUT_MS
                    + " and " + MAX_TIMEOUT_MS + ", got " + value);
        }
        return n.intValue();
    }
}
