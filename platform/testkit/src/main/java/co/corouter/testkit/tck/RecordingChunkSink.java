package co.corouter.testkit.tck;

import co.corouter.plugin.api.ChunkSink;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A {@link ChunkSink} that records what a provider writes, for tests: every write, split into SSE events,
 * whether it came from an event loop, and whether it was made while the (simulated) write queue was full.
 *
 * <pre>
 * RecordingChunkSink sink = new RecordingChunkSink().simulateWriteQueueFull(true);
 * endpoint.stream(request, sink);        // a well-behaved provider now waits for the drain handler
 * sink.simulateWriteQueueFull(false);    // fires it, on the context that registered it
 * </pre>
 *
 * <p>Safe to read from the test thread while a provider writes on an event loop.
 */
public final class RecordingChunkSink implements ChunkSink {

    private static final String EVENT_END = "\n\n";

    private final List<String> events = new ArrayList<>();
    private final StringBuilder text = new StringBuilder();
    private int writes;
    private int writesOffEventLoop;
    private int writesWhileFull;
    private boolean writeQueueFull;
    private Handler<Void> drainHandler;
    private Context drainContext;
    private Consumer<Buffer> onWrite = written -> {
    };

    /**
     * Records one write. Each {@code \n\n}-terminated piece is one event; a piece without the terminator is
     * recorded as an event too, so a checker sees that a write ended mid-event.
     */
    @Override
    public void write(Buffer written) {
        Consumer<Buffer> listener;
        synchronized (this) {
            writes++;
            if (!Context.isOnEventLoopThread()) {
                writesOffEventLoop++;
            }
            if (writeQueueFull) {
                writesWhileFull++;
            }
            String chunk = written.toString();
            text.append(chunk);
            int start = 0;
            while (start < chunk.length()) {
                int end = chunk.indexOf(EVENT_END, start);
                int next = end < 0 ? chunk.length() : end + EVENT_END.length();
                events.add(chunk.substring(start, next));
                start = next;
            }
            listener = onWrite;
        }
        listener.accept(written);
    }

    @Override
    public synchronized boolean writeQueueFull() {
        return writeQueueFull;
    }

    @Override
    public synchronized void drainHandler(Handler<Void> handler) {
        this.drainHandler = handler;
        this.drainContext = Vertx.currentContext();
    }

    @Override
    public synchronized boolean started() {
        return writes > 0;
    }

    /**
     * Makes {@link #writeQueueFull()} answer {@code full}. Going from full to not full calls the pending
     * drain handler once, on the context that registered it (or on this thread if it had none).
     */
    public RecordingChunkSink simulateWriteQueueFull(boolean full) {
        Handler<Void> drained = null;
        Context context = null;
        synchronized (this) {
            boolean wasFull = writeQueueFull;
            writeQueueFull = full;
            if (wasFull && !full && drainHandler != null) {
                drained = drainHandler;
                context = drainContext;
                drainHandler = null;
                drainContext = null;
            }
        }
        if (drained != null) {
            Handler<Void> handler = drained;
            if (context != null) {
                context.runOnContext(v -> handler.handle(null));
            } else {
                handler.handle(null);
            }
        }
        return this;
    }

    /** Called after each write is recorded, on the writer's thread (outside this sink's lock). */
    public synchronized RecordingChunkSink onWrite(Consumer<Buffer> listener) {
        this.onWrite = listener;
        return this;
    }

    /** How many times {@link #write} was called. */
    public synchronized int writes() {
        return writes;
    }

    /** Writes made from a thread that is not a Vert.x event loop (the contract expects none). */
    public synchronized int writesOffEventLoop() {
        return writesOffEventLoop;
    }

    /** Writes made while {@link #writeQueueFull()} answered true. */
    public synchronized int writesWhileFull() {
        return writesWhileFull;
    }

    /** True while a drain handler is registered and not yet called. */
    public synchronized boolean awaitingDrain() {
        return drainHandler != null;
    }

    /** Every event as written, including its terminating {@code \n\n} (absent if the write cut it short). */
    public synchronized List<String> events() {
        return List.copyOf(events);
    }

    /** Everything written, concatenated. */
    public synchronized String text() {
        return text.toString();
    }

    /**
     * The JSON payload of every {@code data:} event except {@code [DONE]}.
     *
     * @throws IllegalStateException naming the first event that is not {@code data: <json object>}
     */
    public List<JsonObject> chunks() {
        List<JsonObject> chunks = new ArrayList<>();
        for (String event : events()) {
            String data = dataOf(event);
            if (data == null) {
                throw new IllegalStateException("not a data event: " + abbreviate(event));
            }
            if (data.equals("[DONE]")) {
                continue;
            }
            try {
                chunks.add(new JsonObject(data));
            } catch (DecodeException | ClassCastException e) {
                throw new IllegalStateException("data is not a JSON object: " + abbreviate(event), e);
            }
        }
        return chunks;
    }

    /** The streamed text: {@code choices[0].delta.content} of every chunk, concatenated. */
    public String content() {
        StringBuilder content = new StringBuilder();
        for (JsonObject chunk : chunks()) {
            JsonArray choices = chunk.getJsonArray("choices");
            if (choices == null || choices.isEmpty()) {
                continue;
            }
            JsonObject delta = choices.getJsonObject(0).getJsonObject("delta");
            if (delta != null && delta.getValue("content") instanceof String piece) {
                content.append(piece);
            }
        }
        return content.toString();
    }

    /** The payload of {@code data: <payload>\n\n}, or null when the event has another shape. */
    static String dataOf(String event) {
        if (!event.startsWith("data: ") || !event.endsWith(EVENT_END)) {
            return null;
        }
        String data = event.substring("data: ".length(), event.length() - EVENT_END.length());
        return data.indexOf('\n') >= 0 || data.indexOf('\r') >= 0 ? null : data;
    }

    static String abbreviate(String event) {
        String visible = event.replace("\n", "\\n").replace("\r", "\\r");
        return visible.length() <= 200 ? visible : visible.substring(0, 200) + "...";
    }
}
