package co.corouter.testkit.audit;

import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.EndpointGuard;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.InetAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The host's endpoint guard as an operator who allows this machine's test services would configure it: it resolves
 * every host once (on a worker thread) and allows it, except hosts the test refuses by name. Records every check, so a
 * test can assert what a plugin asked to reach and in what order.
 */
public final class TestEndpointGuard implements EndpointGuard {

    /** One {@link #check} call and its answer. */
    public record Check(String scheme, String host, int port, boolean allowed) {
    }

    private final Vertx vertx;
    private final Set<String> refusedHosts = ConcurrentHashMap.newKeySet();
    private final List<Check> checks = new CopyOnWriteArrayList<>();

    public TestEndpointGuard(Vertx vertx) {
        this.vertx = vertx;
    }

    /** From now on, refuses endpoints whose host is given exactly as {@code host}. */
    public TestEndpointGuard refuse(String host) {
        refusedHosts.add(host);
        return this;
    }

    public List<Check> checks() {
        return List.copyOf(checks);
    }

    @Override
    public Future<Endpoint> check(String scheme, String host, int port) {
        if (refusedHosts.contains(host)) {
            checks.add(new Check(scheme, host, port, false));
            return Future.failedFuture(new AuditException(AuditException.Kind.REFUSED,
                    host + " is not an allowed destination"));
        }
        return vertx.executeBlocking(() -> InetAddress.getByName(host))
                .map(address -> {
                    checks.add(new Check(scheme, host, port, true));
                    return new Endpoint(scheme, host, port, address);
                });
    }
}
