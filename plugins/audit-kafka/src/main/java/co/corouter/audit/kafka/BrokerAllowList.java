package co.corouter.audit.kafka;

import co.corouter.plugin.api.audit.EndpointGuard.Endpoint;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The broker endpoints one producer may talk to, filled from the host's endpoint guard: the pinned bootstrap addresses
 * (with the names they were configured by, for TLS) and the brokers of the cluster's metadata that passed the guard.
 * Shared between the destination, which fills it, and {@link PinnedSslEngineFactory}, which Kafka's network thread
 * asks on every TLS connection; hence thread-safe.
 */
final class BrokerAllowList {

    /** The producer config key under which the list reaches {@link PinnedSslEngineFactory#configure}. */
    static final String CONFIG_KEY = "corouter.audit.kafka.broker.allow.list";

    private static final Pattern IPV4_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private final Map<String, String> namesOfPinned = new ConcurrentHashMap<>();
    private final Set<String> approvedBrokers = ConcurrentHashMap.newKeySet();

    /** A bootstrap server the guard allowed: the producer connects to its address and verifies its name. */
    void pin(Endpoint endpoint) {
        namesOfPinned.put(key(endpoint.address().getHostAddress(), endpoint.port()), endpoint.host());
    }

    /** A broker from the cluster's metadata that the guard allowed, by the name the metadata gives it. */
    void approve(String host, int port) {
        approvedBrokers.add(key(host, port));
    }

    /**
     * Whether a broker of the metadata has passed the guard under this name. A pinned bootstrap address does not
     * count: Kafka resolves a metadata broker's name itself, so the name goes through the guard in any case.
     */
    boolean approved(String host, int port) {
        return approvedBrokers.contains(key(host, port));
    }

    /** Whether the producer may open a connection to this peer: a pinned address or an approved broker. */
    boolean admits(String host, int port) {
        String key = key(host, port);
        return namesOfPinned.containsKey(key) || approvedBrokers.contains(key);
    }

    /** The name to verify a TLS peer against: the configured name of a pinned address, else the host as given. */
    String nameFor(String peerHost, int port) {
        return namesOfPinned.getOrDefault(key(peerHost, port), peerHost);
    }

    /** Names compare case-insensitively; IP literals by their canonical text (parsed, never looked up). */
    private static String key(String host, int port) {
        String canonical = host.toLowerCase(Locale.ROOT);
        if (canonical.indexOf(':') >= 0 || IPV4_LITERAL.matcher(canonical).matches()) {
            try {
                canonical = InetAddress.getByName(canonical).getHostAddress();
            } catch (UnknownHostException notALiteral) {
                // compared as written
            }
        }
        return canonical + "#" + port;
    }
}
