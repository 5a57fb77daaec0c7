package co.corouter.plugin.api.audit;

import io.vertx.core.Future;

import java.net.InetAddress;
import java.net.URI;

/**
 * The host's defence against server-side request forgery: customer-given endpoints must not reach the operator's
 * private network, loopback, link-local or cloud metadata addresses. Implemented by the host.
 *
 * <p>{@link #check} resolves the host name once and refuses the endpoint when any resolved address is not
 * allowed. The plugin then connects to {@link Endpoint#address()} (the pinned address) while sending
 * {@link Endpoint#host()} as the HTTP Host and TLS server name, so a second DNS answer cannot redirect it. A plugin
 * follows no redirect without checking its target here again.
 *
 * @since 1.6.0
 */
public interface EndpointGuard {

    /**
     * Checks one endpoint. Fails with {@link AuditException.Kind#REFUSED} (a message naming the reason, e.g.
     * "127.0.0.1 is a loopback address") when it may not be reached.
     *
     * @param scheme {@code https}, {@code http} (refused unless the operator allows it) or {@code tcp} (a raw
     *               connection such as a Kafka broker's; refused unless the operator allows plaintext, or the plugin
     *               uses TLS on it, in which case pass {@code tls})
     */
    Future<Endpoint> check(String scheme, String host, int port);

    /** {@link #check(String, String, int)} for a URI; the port defaults from the scheme. */
    default Future<Endpoint> check(URI uri) {
        if (uri == null || uri.getScheme() == null || uri.getHost() == null) {
            return Future.failedFuture(new AuditException(AuditException.Kind.REFUSED, "the endpoint is not an absolute URL"));
        }
        String scheme = uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        int port = uri.getPort() != -1 ? uri.getPort() : "http".equals(scheme) ? 80 : 443;
        return check(scheme, uri.getHost(), port);
    }

    /**
     * An endpoint that passed the guard.
     *
     * @param scheme  as checked
     * @param host    the name as given (for the Host header, TLS SNI and certificate checks)
     * @param port    the port
     * @param address the resolved, allowed address to connect to
     */
    record Endpoint(String scheme, String host, int port, InetAddress address) {
    }
}
