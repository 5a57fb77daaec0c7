package co.corouter.server.audit;

import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import co.corouter.plugin.api.audit.EndpointGuard;
import co.corouter.server.audit.HostSyntax.Host;
import co.corouter.server.audit.HostSyntax.Literal;
import co.corouter.server.audit.HostSyntax.Name;
import inet.ipaddr.IPAddress;
import inet.ipaddr.ipv4.IPv4Address;
import inet.ipaddr.ipv6.IPv6Address;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.dns.DnsClientOptions;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The host's {@link EndpointGuard}: customer-given audit endpoints must not reach the operator's loopback, private
 * network, link-local or cloud metadata addresses.
 *
 * <p>{@link #check} reads the host ({@link HostSyntax}: every IPv4 and IPv6 spelling is normalised first), refuses
 * names that are local by definition ({@code localhost}, {@code metadata.google.internal}), resolves any other name
 * once through the {@link HostResolver} and refuses the endpoint when <em>any</em> of its addresses is forbidden
 * ({@link AddressPolicy}). The endpoint it returns is pinned to the first address: the plugin connects there, so a
 * second DNS answer cannot send it elsewhere. Every failure is an {@link AuditException} of kind
 * {@link Kind#REFUSED} (or {@link Kind#UNAVAILABLE} when the name could not be resolved for now) whose message names
 * the address and its class, never a path, query or credential.
 *
 * <p>Thread-safe; {@link #check} never blocks and may be called on any event loop.
 */
public final class SsrfGuard implements EndpointGuard {

    /** Names that are local by definition or by every cloud's convention; the allow list does not apply to names. */
    private static final Set<String> LOCAL_NAMES = Set.of("localhost", "localhost.localdomain", "ip6-localhost",
            "ip6-loopback", "metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal");

    private static final Set<String> WEB_SCHEMES = Set.of("http", "https");

    private final GuardOptions options;
    private final AddressPolicy policy;
    private final HostResolver resolver;

    /**
     * A guard resolving names with {@code resolver} (tests, or a resolver of one's own); {@code options.resolver()}
     * is not consulted.
     */
    public SsrfGuard(GuardOptions options, HostResolver resolver) {
        this.options = options;
        this.policy = new AddressPolicy(options);
        this.resolver = resolver;
    }

    /**
     * A guard resolving names as {@code options} say: by default through Vert.x's non-blocking DNS client, asking the
     * first server in {@code resolv.conf}. Call at boot or on an event loop.
     */
    public static SsrfGuard create(Vertx vertx, GuardOptions options) {
        HostResolver resolver = switch (options.resolver()) {
            case DNS -> HostResolver.dns(vertx, vertx.createDnsClient(new DnsClientOptions()));
            case SYSTEM -> HostResolver.system(vertx);
        };
        return new SsrfGuard(options, resolver);
    }

    @Override
    public Future<Endpoint> check(String scheme, String host, int port) {
        try {
            String checkedScheme = scheme(scheme);
            if (port < 1 || port > 65_535) {
                throw refused("port " + port + " is outside 1..65535");
            }
            Host parsed = HostSyntax.parse(host);
            if (parsed instanceof Literal literal) {
                refuseIfForbidden(literal.address(), null);
                return Future.succeededFuture(endpoint(checkedScheme, literal.text(), port, literal.address()));
            }
            String name = ((Name) parsed).text();
            if (LOCAL_NAMES.contains(name) || name.endsWith(".localhost")) {
                throw refused(name + " is a local name");
            }
            return resolver.resolve(name)
                    .recover(failure -> Future.failedFuture(failure instanceof AuditException
                            ? failure : new AuditException(Kind.UNAVAILABLE, "could not resolve " + name, failure)))
                    .map(addresses -> pin(checkedScheme, name, port, addresses));
        } catch (AuditException e) {
            return Future.failedFuture(e);
        }
    }

    /**
     * Checks where a redirect from {@code from} leads: {@code location} is a {@code Location} header's value,
     * absolute or relative to {@code from}. A redirect may not add user info, and may leave https for http only where
     * {@code allow_http} is set. The location is never echoed in a message (it may carry a signed query).
     */
    public Future<Endpoint> checkRedirect(Endpoint from, String location) {
        if (!WEB_SCHEMES.contains(from.scheme())) {
            return Future.failedFuture(refused("only http and https endpoints are redirected"));
        }
        URI target;
        try {
            target = base(from).resolve(new URI(location == null ? "" : location.strip()));
        } catch (URISyntaxException | IllegalArgumentException e) {
            return Future.failedFuture(refused("the redirect location is not a valid URL"));
        }
        String scheme = target.getScheme().toLowerCase(Locale.ROOT);
        String authority = target.getRawAuthority();
        if (!WEB_SCHEMES.contains(scheme)) {
            return Future.failedFuture(refused("a redirect may only lead to http or https"));
        }
        if (authority == null || authority.isEmpty()) {
            return Future.failedFuture(refused("the redirect location has no host"));
        }
        if (authority.indexOf('@') >= 0) {
            return Future.failedFuture(refused("the redirect location has user info"));
        }
        int defaultPort = scheme.equals("http") ? 80 : 443;
        if (target.getHost() != null) {
            return check(scheme, target.getHost(), target.getPort() == -1 ? defaultPort : target.getPort());
        }
        // java.net.URI reads no host from 2130706433 or 0x7f.1; split the authority so the guard sees what it is
        int colon = authority.lastIndexOf(':');
        boolean hasPort = colon > authority.lastIndexOf(']') && colon >= 0;
        String host = hasPort ? authority.substring(0, colon) : authority;
        String port = hasPort ? authority.substring(colon + 1) : "";
        if (!port.matches("[0-9]{0,5}")) {
            return Future.failedFuture(refused("the redirect location has an invalid port"));
        }
        return check(scheme, host, port.isEmpty() ? defaultPort : Integer.parseInt(port));
    }

    /** Releases the resolver. */
    public Future<Void> close() {
        return resolver.close();
    }

    private String scheme(String scheme) {
        String lower = scheme == null ? "" : scheme.toLowerCase(Locale.ROOT);
        return switch (lower) {
            case "https", "tls" -> lower;
            case "http" -> {
                if (!options.allowHttp()) {
                    throw refused("http endpoints are not allowed; use https");
                }
                yield lower;
            }
            case "tcp" -> {
                if (!options.allowPlaintextTcp()) {
                    throw refused("plaintext TCP endpoints are not allowed; use TLS");
                }
                yield lower;
            }
            default -> throw refused((lower.matches("[a-z][a-z0-9+.-]{0,19}") ? "scheme '" + lower + "'" : "the scheme")
                    + " is not supported; use https or tls");
        };
    }

    private Endpoint pin(String scheme, String name, int port, List<InetAddress> addresses) {
        if (addresses.isEmpty()) {
            throw refused(name + " does not resolve to any address");
        }
        IPAddress first = null;
        for (InetAddress resolved : addresses) {
            IPAddress address = resolved instanceof Inet4Address
                    ? new IPv4Address(resolved.getAddress()) : new IPv6Address(resolved.getAddress());
            refuseIfForbidden(address, name);
            if (first == null) {
                first = address;
            }
        }
        return endpoint(scheme, name, port, first);
    }

    private void refuseIfForbidden(IPAddress address, String resolvedName) {
        Optional<AddressPolicy.Refusal> refusal = policy.refusal(address);
        if (refusal.isPresent()) {
            throw refused(resolvedName == null ? refusal.get().message() : refusal.get().message(resolvedName));
        }
    }

    private static Endpoint endpoint(String scheme, String host, int port, IPAddress address) {
        try {
            // named after the host, so nothing reverse-resolves it later (getHostName would block)
            IPAddress bare = address instanceof IPv6Address v6 ? v6.removeZone() : address;
            return new Endpoint(scheme, host, port, InetAddress.getByAddress(host, bare.getBytes()));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("an address of " + address.getByteCount() + " bytes", e);
        }
    }

    private static URI base(Endpoint from) {
        String host = from.host().indexOf(':') >= 0 ? "[" + from.host() + "]" : from.host();
        return URI.create(from.scheme() + "://" + host + ":" + from.port() + "/");
    }

    private static AuditException refused(String message) {
        return new AuditException(Kind.REFUSED, message);
    }
}
