package co.corouter.server.audit;

import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.dns.DnsClient;
import io.vertx.core.dns.DnsException;
import io.vertx.core.dns.DnsResponseCode;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** {@link HostResolver#dns}: A and AAAA queries through Vert.x's DNS client, CNAMEs followed here. */
final class DnsHostResolver implements HostResolver {

    /** CNAME hops followed before giving up on a name. */
    static final int MAX_CNAME_HOPS = 8;

    private final Context home;
    private final DnsClient client;

    /** Built at boot or on an event loop: {@code home} is where callers on other threads send their queries from. */
    DnsHostResolver(Vertx vertx, DnsClient client) {
        this.home = vertx.getOrCreateContext();
        this.client = client;
        if (!home.isEventLoopContext()) {
            throw new IllegalStateException("create the DNS resolver at boot or on an event loop, not on a worker");
        }
    }

    @Override
    public Future<List<InetAddress>> resolve(String name) {
        if (Context.isOnEventLoopThread()) {
            return lookUp(name, name, 0);
        }
        // Netty's resolver keeps its in-flight queries in a map only its event loop may touch, and Vert.x's client
        // sends a query from the calling thread: from any other thread it races the loop's answer handling
        Promise<List<InetAddress>> resolved = Promise.promise();
        home.runOnContext(start -> lookUp(name, name, 0).onComplete(resolved));
        return resolved.future();
    }

    @Override
    public Future<Void> close() {
        return client.close();
    }

    private Future<List<InetAddress>> lookUp(String asked, String name, int hops) {
        Future<List<String>> a = client.resolveA(name);
        Future<List<String>> aaaa = client.resolveAAAA(name);
        return Future.join(a, aaaa).recover(failure -> Future.failedFuture(lookupFailure(asked, a, aaaa)))
                .compose(both -> {
                    List<String> texts = new ArrayList<>(a.result());
                    texts.addAll(aaaa.result());
                    if (!texts.isEmpty()) {
                        return Future.succeededFuture(addresses(asked, texts));
                    }
                    return client.resolveCNAME(name)
                            .recover(failure -> Future.failedFuture(unavailable(asked, failure)))
                            .compose(targets -> {
                                if (targets.isEmpty()) {
                                    return Future.failedFuture(
                                            new AuditException(Kind.REFUSED, asked + " has no A or AAAA record"));
                                }
                                if (hops == MAX_CNAME_HOPS) {
                                    return Future.failedFuture(new AuditException(Kind.REFUSED,
                                            asked + " has more than " + MAX_CNAME_HOPS + " CNAMEs in a row"));
                                }
                                return lookUp(asked, stripDot(targets.get(0)), hops + 1);
                            });
                });
    }

    private static AuditException lookupFailure(String asked, Future<?> a, Future<?> aaaa) {
        for (Future<?> query : Arrays.asList(a, aaaa)) {
            if (query.failed() && query.cause() instanceof DnsException dns
                    && dns.code() == DnsResponseCode.NXDOMAIN) {
                return new AuditException(Kind.REFUSED, asked + " does not exist (NXDOMAIN)");
            }
        }
        return unavailable(asked, a.failed() ? a.cause() : aaaa.cause());
    }

    private static AuditException unavailable(String asked, Throwable failure) {
        return new AuditException(Kind.UNAVAILABLE, "could not resolve " + asked + ": " + failure.getMessage(),
                failure);
    }

    private static List<InetAddress> addresses(String asked, List<String> texts) {
        List<InetAddress> addresses = new ArrayList<>(texts.size());
        for (String text : texts) {
            try {
                // a literal from an A/AAAA record: parsed, never looked up
                addresses.add(InetAddress.getByName(text));
            } catch (UnknownHostException e) {
                throw new AuditException(Kind.UNAVAILABLE, asked + " resolved to a malformed address");
            }
        }
        return addresses;
    }

    private static String stripDot(String name) {
        return name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    }
}
