package co.corouter.audit.s3;

import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.EndpointGuard;
import io.vertx.core.Future;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A stand-in for the host's SSRF guard, the other way round: it allows loopback only (the real one refuses it), pins
 * names it is told to, and records every check. The real guard lives in the server.
 */
final class TestGuard implements EndpointGuard {

    /** One call of {@link #check(String, String, int)}. */
    record Check(String scheme, String host, int port) {
    }

    private final boolean refuseAll;
    private final Map<String, InetAddress> pins = new ConcurrentHashMap<>();
    private final Queue<Check> checks = new ConcurrentLinkedQueue<>();

    private TestGuard(boolean refuseAll) {
        this.refuseAll = refuseAll;
    }

    /** Allows endpoints whose address is a loopback address. */
    static TestGuard loopbackOnly() {
        return new TestGuard(false);
    }

    /** Refuses every endpoint, as the real guard does for a private address. */
    static TestGuard refusingEverything() {
        return new TestGuard(true);
    }

    /** Answers {@code address} for {@code host}, whatever DNS would say. */
    TestGuard pin(String host, String address) {
        try {
            pins.put(host, InetAddress.getByName(address));
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(address, e);
        }
        return this;
    }

    List<Check> checks() {
        return List.copyOf(checks);
    }

    @Override
    public Future<Endpoint> check(String scheme, String host, int port) {
        checks.add(new Check(scheme, host, port));
        if (refuseAll) {
            return Future.failedFuture(new AuditException(AuditException.Kind.REFUSED, host
                    + " is refused by the test guard"));
        }
        InetAddress address = pins.get(host);
        if (address == null) {
            if (!host.matches("[0-9.]+")) {
                return Future.failedFuture(new AuditException(AuditException.Kind.REFUSED, host
                        + " is not pinned by the test guard"));
            }
            try {
                address = InetAddress.getByName(host);
            } catch (UnknownHostException e) {
                return Future.failedFuture(new AuditException(AuditException.Kind.REFUSED, host + " does not resolve"));
            }
        }
        if (!address.isLoopbackAddress()) {
            return Future.failedFuture(new AuditException(AuditException.Kind.REFUSED, address.getHostAddress()
                    + " is not a loopback address"));
        }
        return Future.succeededFuture(new Endpoint(scheme, host, port, address));
    }
}
