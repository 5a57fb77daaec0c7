package co.corouter.plugin.api;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;

/**
 * Where a streaming provider writes server-sent events. Implemented by the host over the client's response;
 * a provider can neither end it nor set headers.
 */
public interface ChunkSink {

    /**
     * Writes one or more complete SSE events ({@code data: ...\n\n}), exactly as they should reach the
     * client. Write everything one upstream read delivered in one call: the host flushes once per call.
     */
    void write(Buffer events);

    /** True when the client is slow; stop reading upstream until {@link #drainHandler} fires. */
    boolean writeQueueFull();

    /** Called once when the client has caught up after {@link #writeQueueFull()} returned true. */
    void drainHandler(Handler<Void> handler);

    /** True once anything has been written (after that, errors travel inside the stream). */
    boolean started();
}
