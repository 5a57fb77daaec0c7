package co.corouter.server.ingress;

import co.corouter.server.common.ErrorCodes;
import co.corouter.server.common.Metrics;
import co.corouter.server.config.ServerOptions.EdgeOptions;
import co.corouter.server.pipeline.Exchange;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Time and resource limits of one HTTP verticle's connections and requests, confined to its event loop. Nothing here
 * costs a timer per request: each connection and request carries a deadline (a {@code long}) and one periodic sweep
 * per event loop acts on those that passed.
 *
 * <ul>
 *   <li><b>Request head</b>: a new connection must deliver a complete head within {@code header_timeout_ms}; a
 *       kept-alive connection with nothing in flight is closed after {@code idle_timeout_ms} (so a slowloris that
 *       dribbles a head is closed either way).</li>
 *   <li><b>Body</b>: it must arrive within {@code body_timeout_ms}, extended by a second for every
 *       {@code body_min_rate_bytes_per_second} bytes received, never beyond {@code body_max_ms}; otherwise 408 and the
 *       connection is closed. Bodies held in memory node-wide are capped ({@code max_buffered_body_bytes}, 503).</li>
 *   <li><b>Request</b>: a request that outlives its deadline (the provider's budget plus a guard) is told so
 *       ({@link Exchange#deadline()}); the pipeline stops the call and answers 504.</li>
 *   <li><b>Connections</b>: at most {@code max_connections} per node; more are closed on accept.</li>
 * </ul>
 * A refusal is counted in {@code corouter_edge_refused_total{reason}} and logged at debug level in one line.
 */
public final class EdgeGuard {

    private static final Logger log = LoggerFactory.getLogger(EdgeGuard.class);
    private static final long NONE = Long.MAX_VALUE;

    /** Node-wide counts shared by every verticle instance's guard. */
    public static final class Shared {
        final AtomicInteger connections = new AtomicInteger();
        final AtomicLong accepted = new AtomicLong();
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicLong bufferedBodyBytes = new AtomicLong();

        /** Requests of the node whose end has not been seen yet (a pipeline still running counts). */
        public int inFlight() {
            return inFlight.get();
        }

        /** Bytes of request bodies the node holds in memory now. */
        public long bufferedBodyBytes() {
            return bufferedBodyBytes.get();
        }

        /** Connections open now. */
        public int connections() {
            return connections.get();
        }

        /** Connections accepted since start (refused ones included). */
        public long accepted() {
            return accepted.get();
        }
    }

    private abstract static class Tracked {
        long deadline = NONE;

        abstract boolean done();

        abstract void expired(long now);
    }

    /** One HTTP connection: its head and idle deadlines. */
    final class Connection extends Tracked {
        final HttpConnection connection;
        int active;
        boolean served;
        boolean closed;
        /** Framing was ambiguous (Transfer-Encoding): nothing more is served on it. */
        boolean poisoned;

        Connection(HttpConnection connection) {
            this.connection = connection;
        }

        @Override
        boolean done() {
            return closed;
        }

        @Override
        void expired(long now) {
            if (active > 0) {
                deadline = NONE;
                return;
            }
            refuse(served ? "idle_timeout" : "header_timeout");
            closed = true;
            connection.close();
        }
    }

    /**
     * One request: its body deadline, then its overall deadline. Once finished it lets go of the request and exchange
     * (it stays in the sweep's list until the next sweep, and must not keep a whole request's objects alive that long).
     */
    final class Request extends Tracked {
        HttpServerRequest request;
        Connection connection;
        final long started;
        long bodyBytes;
        long buffered;
        /** The request's own deadline (the sweep may visit it earlier, to keep a waiting stream alive). */
        long deadlineAt = NONE;
        boolean bodyDone;
        boolean finished;
        boolean heldByPipeline;
        Exchange exchange;

        Request(HttpServerRequest request, Connection connection, long started) {
            this.request = request;
            this.connection = connection;
            this.started = started;
        }

        /** A body chunk arrived; false when the node's body budget cannot hold it (the caller refuses the request). */
        boolean received(int bytes) {
            bodyBytes += bytes;
            return bodyBytes <= buffered || reserve(bodyBytes - buffered);
        }

        /** Holds {@code bytes} of the budget ahead of the body (its Content-Length); false when they do not fit. */
        boolean reserve(long bytes) {
            if (shared.bufferedBodyBytes.addAndGet(bytes) > options.maxBufferedBodyBytes()) {
                shared.bufferedBodyBytes.addAndGet(-bytes);
                return false;
            }
            buffered += bytes;
            return true;
        }

        void bodyDone() {
            bodyDone = true;
            long now = System.nanoTime();
            deadlineAt = now + requestDeadlineNanos;
            deadline = exchange != null && keepAliveNanos > 0 ? Math.min(deadlineAt, now + keepAliveNanos) : deadlineAt;
        }

        /** The request is a pipeline exchange: it is finished when the pipeline says so, not when the client leaves. */
        void holdForPipeline(Exchange exchange) {
            this.exchange = exchange;
            this.heldByPipeline = true;
        }

        /** Framing was ambiguous: close the connection after this response, serve nothing more on it. */
        void closeAfterResponse() {
            if (connection != null) {
                connection.poisoned = true;
            }
        }

        @Override
        boolean done() {
            return finished;
        }

        @Override
        void expired(long now) {
            if (!bodyDone) {
                long allowed = started + Math.min(bodyMaxNanos,
                        bodyTimeoutNanos + bodyBytes * 1_000_000_000L / options.bodyMinRateBytesPerSecond());
                if (now - allowed < 0) {
                    deadline = allowed;
                    return;
                }
                refuse("body_timeout");
                deadline = NONE;
                Errors.refuseAndClose(request, ErrorCodes.REQUEST_TIMEOUT, "the request body did not arrive in time");
                finished(this);
                return;
            }
            if (now - deadlineAt < 0) {
                // not the deadline yet: a stream still waiting for its first upstream event gets a keep-alive
                keepAlive(now);
                return;
            }
            deadline = NONE;
            refuse("request_deadline");
            if (exchange != null) {
                exchange.deadline();
            } else {
                Errors.refuseAndClose(request, ErrorCodes.GATEWAY_TIMEOUT, "the request took too long");
            }
        }

        private void keepAlive(long now) {
            if (exchange != null && exchange.providerCalled() && exchange.chat() != null && exchange.chat().stream()
                    && exchange.sink() instanceof ResponseChunkSink sink && !sink.eventsWritten()) {
                sink.keepAlive();
            }
            deadline = keepAliveNanos > 0 && !(exchange != null && exchange.sink() instanceof ResponseChunkSink sink
                    && sink.eventsWritten()) ? Math.min(deadlineAt, now + keepAliveNanos) : deadlineAt;
        }
    }

    private final Vertx vertx;
    private final EdgeOptions options;
    private final Shared shared;
    private final Metrics metrics;
    private final long headerTimeoutNanos;
    private final long idleTimeoutNanos;
    private final long bodyTimeoutNanos;
    private final long bodyMaxNanos;
    private final long requestDeadlineNanos;
    private final long keepAliveNanos;
    private final Map<HttpConnection, Connection> open = new IdentityHashMap<>();
    private final ArrayList<Tracked> tracked = new ArrayList<>();
    private final Map<String, Counter> refusals = new java.util.HashMap<>();
    private long sweepTimer = -1;
    private int inFlight;
    private Runnable onDrained;

    EdgeGuard(Vertx vertx, EdgeOptions options, long requestDeadlineMillis, Shared shared, Metrics metrics) {
        this.vertx = vertx;
        this.options = options;
        this.shared = shared;
        this.metrics = metrics;
        this.headerTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(options.headerTimeoutMillis());
        this.idleTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(options.idleTimeoutMillis());
        this.bodyTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(options.bodyTimeoutMillis());
        this.bodyMaxNanos = TimeUnit.MILLISECONDS.toNanos(options.bodyMaxMillis());
        this.requestDeadlineNanos = TimeUnit.MILLISECONDS.toNanos(requestDeadlineMillis);
        this.keepAliveNanos = TimeUnit.MILLISECONDS.toNanos(options.sseKeepAliveMillis());
    }

    /** Starts the sweep: a quarter of the shortest limit, between 50 ms and one second. */
    void start() {
        long shortest = Math.min(options.headerTimeoutMillis(), Math.min(options.idleTimeoutMillis(),
                options.bodyTimeoutMillis()));
        if (options.sseKeepAliveMillis() > 0) {
            shortest = Math.min(shortest, options.sseKeepAliveMillis());
        }
        long every = Math.max(50, Math.min(1_000, shortest / 4));
        sweepTimer = vertx.setPeriodic(every, id -> sweep());
    }

    void stop() {
        if (sweepTimer >= 0) {
            vertx.cancelTimer(sweepTimer);
        }
    }

    /** A connection was accepted (on this loop). */
    void connected(HttpConnection connection) {
        shared.accepted.incrementAndGet();
        if (shared.connections.incrementAndGet() > options.maxConnections()) {
            shared.connections.decrementAndGet();
            refuse("too_many_connections");
            connection.close();
            return;
        }
        Connection tracked = new Connection(connection);
        tracked.deadline = System.nanoTime() + headerTimeoutNanos;
        open.put(connection, tracked);
        this.tracked.add(tracked);
        connection.closeHandler(v -> {
            shared.connections.decrementAndGet();
            tracked.closed = true;
            open.remove(connection);
        });
        connection.exceptionHandler(e -> log.debug("connection error: {}", e.toString()));
    }

    /**
     * A request head arrived. Returns null when the request must not be served (its connection carried an ambiguous
     * request before: it is closed instead).
     */
    Request started(HttpServerRequest request) {
        Connection connection = open.get(request.connection());
        if (connection != null) {
            if (connection.poisoned) {
                refuse("smuggling");
                connection.closed = true;
                connection.connection.close();
                return null;
            }
            connection.active++;
            connection.served = true;
            connection.deadline = NONE;
        }
        long now = System.nanoTime();
        Request watched = new Request(request, connection, now);
        watched.deadline = now + bodyTimeoutNanos;
        tracked.add(watched);
        inFlight++;
        shared.inFlight.incrementAndGet();
        return watched;
    }

    /** The request is over (its response ended, or its pipeline finished): its budget and deadline are released. */
    void finished(Request request) {
        if (request.finished) {
            return;
        }
        request.finished = true;
        if (request.buffered > 0) {
            shared.bufferedBodyBytes.addAndGet(-request.buffered);
            request.buffered = 0;
        }
        Connection connection = request.connection;
        if (connection != null && !connection.closed) {
            if (connection.poisoned) {
                connection.closed = true;
                connection.connection.close();
            } else if (--connection.active == 0) {
                connection.deadline = System.nanoTime() + idleTimeoutNanos;
            }
        }
        request.request = null;
        request.connection = null;
        request.exchange = null;
        inFlight--;
        shared.inFlight.decrementAndGet();
        if (inFlight == 0 && onDrained != null) {
            onDrained.run();
        }
    }

    /**
     * The request became a WebSocket (the console's SockJS bridge): it is no longer a request in flight with a deadline,
     * and its connection is no longer timed as idle; the socket lives until either side closes it.
     */
    void detach(Request request) {
        Connection connection = request.connection;
        finished(request);
        if (connection != null && !connection.closed) {
            connection.closed = true;
            connection.deadline = NONE;
        }
    }

    /** Requests whose end has not been seen yet. */
    int inFlight() {
        return inFlight;
    }

    /** Runs {@code action} (once) when no request is in flight. */
    void whenDrained(Runnable action) {
        if (inFlight == 0) {
            action.run();
        } else {
            onDrained = action;
        }
    }

    /** Counts a refusal at the edge (bad framing, oversize, a limit) without a log line above debug. */
    void refuse(String reason) {
        refusals.computeIfAbsent(reason, r -> metrics.counter("corouter_edge_refused_total",
                "connections and requests refused or closed at the HTTP edge", "reason", r)).increment();
        log.debug("edge refused a client: {}", reason);
    }

    private void sweep() {
        long now = System.nanoTime();
        int kept = 0;
        for (int i = 0; i < tracked.size(); i++) {
            Tracked t = tracked.get(i);
            if (!t.done() && t.deadline != NONE && now - t.deadline >= 0) {
                t.expired(now);
            }
            if (!t.done()) {
                tracked.set(kept++, t);
            }
        }
        for (int i = tracked.size() - 1; i >= kept; i--) {
            tracked.remove(i);
        }
    }
}
