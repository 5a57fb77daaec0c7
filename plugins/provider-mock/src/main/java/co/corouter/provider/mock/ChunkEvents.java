package co.corouter.provider.mock;

import io.vertx.core.buffer.Buffer;

/**
 * Renders OpenAI {@code chat.completion.chunk} server-sent events from string templates: the part shared
 * by every chunk of a stream is built once, and a delta is appended as-is because generated words never
 * need JSON escaping.
 */
final class ChunkEvents {

    private static final String ROLE_DELTA = "{\"role\":\"assistant\",\"content\":\"\"}";
    private static final String CONTENT_DELTA_START = "{\"content\":\"";
    private static final String CONTENT_DELTA_END = "\"}";
    private static final String NOT_FINISHED = ",\"logprobs\":null,\"finish_reason\":null}]}\n\n";
    private static final String FINISH_START = "{},\"logprobs\":null,\"finish_reason\":\"";
    private static final String FINISH_END = "\"}]}\n\n";

    /** {@code data: {"id":..,"object":..,"created":..,"model":..,"choices":[{"index":0,"delta":} */
    private final String prefix;

    ChunkEvents(String id, String model, long created) {
        this.prefix = "data: {\"id\":" + JsonText.quote(id)
                + ",\"object\":\"chat.completion.chunk\",\"created\":" + created
                + ",\"model\":" + JsonText.quote(model)
                + ",\"choices\":[{\"index\":0,\"delta\":";
    }

    /**
     * The events carrying {@code deltas[from..to)}: preceded by the role chunk when {@code from} is 0 and
     * followed by the finish chunk when {@code finishReason} is not null.
     */
    Buffer render(String[] deltas, int from, int to, String finishReason) {
        int size = (to - from + 2) * (prefix.length() + NOT_FINISHED.length() + 16);
        for (int i = from; i < to; i++) {
            size += deltas[i].length();
        }
        StringBuilder events = new StringBuilder(size);
        if (from == 0) {
            events.append(prefix).append(ROLE_DELTA).append(NOT_FINISHED);
        }
        for (int i = from; i < to; i++) {
            events.append(prefix).append(CONTENT_DELTA_START).append(deltas[i]).append(CONTENT_DELTA_END)
                    .append(NOT_FINISHED);
        }
        if (finishReason != null) {
            events.append(prefix).append(FINISH_START).append(finishReason).append(FINISH_END);
        }
        return Buffer.buffer(events.toString());
    }
}
