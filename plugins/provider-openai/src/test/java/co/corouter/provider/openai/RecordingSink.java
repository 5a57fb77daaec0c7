package co.corouter.provider.openai;

import co.corouter.plugin.api.ChunkSink;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** A {@link ChunkSink} that keeps every write and can pretend to be a slow client. */
final class RecordingSink implements ChunkSink {

    private final List<Buffer> writes = new CopyOnWriteArrayList<>();
    private volatile boolean full;
    private volatile Handler<Void> drainHandler;
    private volatile Consumer<Buffer> onWrite = write -> { };

    @Override
    public void write(Buffer events) {
        writes.add(events.copy());
        onWrite.accept(events);
    }

    @Override
    public boolean writeQueueFull() {
        return full;
    }

    @Override
    public void drainHandler(Handler<Void> handler) {
        drainHandler = handler;
    }

    @Override
    public boolean started() {
        return !writes.isEmpty();
    }

    /** Runs after every write (on the event loop that wrote). */
    RecordingSink onWrite(Consumer<Buffer> action) {
        onWrite = action;
        return this;
    }

    /** From now on {@link #writeQueueFull()} answers {@code full}. */
    RecordingSink full(boolean isFull) {
        full = isFull;
        return this;
    }

    /** The client caught up: clears the full flag and calls the drain handler, if one was set. */
    void drain() {
        full = false;
        Handler<Void> handler = drainHandler;
        drainHandler = null;
        if (handler != null) {
            handler.handle(null);
        }
    }

    boolean drainHandlerSet() {
        return drainHandler != null;
    }

    List<Buffer> writes() {
        return List.copyOf(writes);
    }

    /** Everything written, as one string. */
    String text() {
        StringBuilder all = new StringBuilder();
        writes.forEach(write -> all.append(write.toString()));
        return all.toString();
    }

    /** The data payloads of all written events, in order; fails on anything that is not a complete event. */
    List<String> dataPayloads() {
        String text = text().replace("\r\n", "\n");
        List<String> payloads = new ArrayList<>();
        if (text.isEmpty()) {
            return payloads;
        }
        if (!text.endsWith("\n\n")) {
            throw new AssertionError("sink ends inside an event: " + text);
        }
        for (String event : text.split("\n\n")) {
            for (String line : event.split("\n")) {
                if (!line.startsWith("data: ")) {
                    throw new AssertionError("unexpected line in sink: " + line);
                }
                payloads.add(line.substring("data: ".length()));
            }
        }
        return payloads;
    }

    /** The written events parsed as JSON chunks. */
    List<JsonObject> chunks() {
        return dataPayloads().stream().map(JsonObject::new).toList();
    }

    /** The assistant text the client received, concatenated. */
    String content() {
        StringBuilder content = new StringBuilder();
        for (JsonObject chunk : chunks()) {
            for (Object choice : chunk.getJsonArray("choices")) {
                String piece = ((JsonObject) choice).getJsonObject("delta").getString("content");
                if (piece != null) {
                    content.append(piece);
                }
            }
        }
        return content.toString();
    }
}
