package co.corouter.server.ingress;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.function.Consumer;

/**
 * The {@code data:} payloads of the OpenAI SSE events a provider wrote (whole events, as {@code ChunkSink} receives
 * them), {@code [DONE]} and comments skipped.
 */
final class SseEvents {

    private SseEvents() {
    }

    static void forEachData(Buffer events, Consumer<String> payload) {
        String text = events.toString();
        int from = 0;
        int length = text.length();
        while (from < length) {
            int end = text.indexOf('\n', from);
            if (end < 0) {
                end = length;
            }
            if (text.startsWith("data:", from)) {
                int start = from + 5;
                if (start < end && text.charAt(start) == ' ') {
                    start++;
                }
                String data = text.substring(start, end).trim();
                if (!data.isEmpty() && !"[DONE]".equals(data)) {
                    payload.accept(data);
                }
            }
            from = end + 1;
        }
    }

    /**
     * A payload as a JSON object, or null when it is not one (the provider fails such a stream itself; a translator
     * only must not throw into it).
     */
    static JsonObject object(String payload) {
        try {
            return new JsonObject(payload);
        } catch (DecodeException | ClassCastException notAnObject) {
            return null;
        }
    }
}
