package co.corouter.server.ingress;

import co.corouter.plugin.api.ChunkSink;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;

/**
 * A provider's view of the client response: SSE headers go out with the first write, each write is flushed
 * once, and the provider cannot end the response or touch headers.
 */
final class ResponseChunkSink implements ChunkSink {

    private static final Buffer KEEP_ALIVE = Buffer.buffer(": corouter processing\n\n");

    private final HttpServerResponse response;
    private co.corouter.server.pipeline.Exchange exchange;
    private Dialect.StreamTranslator translator;
    private boolean started;
    private boolean eventsWritten;

    ResponseChunkSink(HttpServerResponse response) {
        this.response = response;
    }

    @Override
    public void write(Buffer events) {
        if (response.closed() || response.ended()) {
            return;
        }
        begin();
        eventsWritten = true;
        Buffer out = translator == null ? events : translator.translate(events);
        if (out.length() > 0) {
            Delivered.tee(exchange, out);
            response.write(out);
        }
    }

    /** The exchange whose audit capture (if any) receives a copy of every event written. */
    void exchange(co.corouter.server.pipeline.Exchange exchange) {
        this.exchange = exchange;
    }

    /** The dialect's translation of the provider's OpenAI events, or null to forward them as they are. */
    void translator(Dialect.StreamTranslator translator) {
        this.translator = translator;
    }

    Dialect.StreamTranslator translator() {
        return translator;
    }

    /**
     * An SSE comment that keeps the connection alive while the upstream has not answered yet (clients skip lines that
     * start with a colon). It starts the response, so a later failure travels as an error event.
     */
    void keepAlive() {
        if (eventsWritten || response.closed() || response.ended()) {
            return;
        }
        begin();
        Buffer comment = KEEP_ALIVE.copy();
        Delivered.tee(exchange, comment);
        response.write(comment);
    }

    /** True once an upstream event was written (keep-alive comments do not count). */
    boolean eventsWritten() {
        return eventsWritten;
    }

    void begin() {
        if (!started) {
            started = true;
            response.setStatusCode(200)
                    .setChunked(true)
                    .putHeader("Content-Type", "text/event-stream")
                    .putHeader("Cache-Control", "no-cache")
                    .putHeader("X-Accel-Buffering", "no");
        }
    }

    @Override
    public boolean writeQueueFull() {
        return !response.closed() && response.writeQueueFull();
    }

    @Override
    public void drainHandler(Handler<Void> handler) {
        response.drainHandler(handler);
    }

    @Override
    public boolean started() {
        return started;
    }
}
