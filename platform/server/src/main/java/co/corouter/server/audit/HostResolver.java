package co.corouter.server.audit;

import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.dns.DnsClient;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * Turns a DNS name into every address it has, without blocking the calling event loop. The {@link SsrfGuard} judges
 * each of them; a resolver makes no decision of its own.
 *
 * <p>A resolver fails with {@link AuditException}: {@link Kind#REFUSED} when the name certainly does not exist or
 * has no address, {@link Kind#UNAVAILABLE} when the lookup itself failed or cannot tell (worth retrying).
 */
@FunctionalInterface
public interface HostResolver {

    /**
     * Every A and AAAA address of {@code name} (lower-case ASCII, no trailing dot), at least one.
     * Called on the caller's context; the future may complete on it or on another thread.
     */
    Future<List<InetAddress>> resolve(String name);

    /** Releases the resolver's sockets. */
    default Future<Void> close() {
        return Future.succeededFuture();
    }

    /**
     * The default: Vert.x's non-blocking DNS client asks for A and AAAA records at once and follows CNAMEs itself
     * (its {@code resolveA} returns only records named exactly as asked, so a CNAME'd name would look empty).
     * Reads neither {@code /etc/hosts} nor search domains, so a customer's name means what the public DNS says it
     * means. Fails closed: if either query fails the name is not resolved.
     */
    static HostResolver dns(Vertx vertx, DnsClient client) {
        return new DnsHostResolver(vertx, client);
    }

    /**
     * The fallback: the operating system's resolver ({@code InetAddress.getAllByName}: {@code /etc/hosts}, search
     * domains, nsswitch) on a worker thread, since it blocks. Use it where the DNS server in {@code resolv.conf}
     * cannot be queried directly. The JVM caches answers ({@code networkaddress.cache.ttl}); the guard pins the
     * address it judged, so a cached or changed answer cannot redirect a connection.
     */
    static HostResolver system(Vertx vertx) {
        return blocking(vertx, InetAddress::getAllByName);
    }

    /** A blocking lookup made safe for an event loop: each call runs on a worker thread. */
    static HostResolver blocking(Vertx vertx, BlockingLookup lookup) {
        return name -> vertx.executeBlocking(() -> {
            try {
                return List.of(lookup.lookUp(name));
            } catch (UnknownHostException e) {
                // the JDK does not tell a missing name from a resolver that is down, so assume the latter
                throw new AuditException(Kind.UNAVAILABLE, "could not resolve " + name);
            }
        }, false).compose(addresses -> addresses.isEmpty()
                ? Future.failedFuture(new AuditException(Kind.REFUSED, name + " does not resolve to any address"))
                : Future.succeededFuture(addresses));
    }

    /** {@code InetAddress::getAllByName} or a test's stand-in. */
    @FunctionalInterface
    interface BlockingLookup {
        InetAddress[] lookUp(String name) throws UnknownHostException;
    }
}
