package co.corouter.provider.openai;

import co.corouter.plugin.api.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** Reads OpenAI {@code usage} objects, and the output text to count when an upstream reports none. */
final class Usages {

    private Usages() {
    }

    /** The usage an upstream reported, or {@code null} when the object is missing or unusable. */
    static Usage reported(Object usage) {
        if (!(usage instanceof JsonObject u)
                || !(u.getValue("prompt_tokens") instanceof Number prompt)
                || !(u.getValue("completion_tokens") instanceof Number completion)
                || prompt.intValue() < 0 || completion.intValue() < 0) {
            return null;
        }
        int cached = nested(u, "prompt_tokens_details", "cached_tokens");
        int reasoning = nested(u, "completion_tokens_details", "reasoning_tokens");
        return new Usage(prompt.intValue(), completion.intValue(), Math.min(cached, prompt.intValue()),
                Math.min(reasoning, completion.intValue()), false);
    }

    /**
     * The assistant output of a whole completion, concatenated: each choice's message content (a string, or the
     * text of its parts) and tool-call arguments — what a stream's deltas would have carried.
     */
    static String outputText(JsonArray choices) {
        StringBuilder text = new StringBuilder();
        for (Object choice : choices) {
            if (!(choice instanceof JsonObject c) || !(c.getValue("message") instanceof JsonObject message)) {
                continue;
            }
            Object content = message.getValue("content");
            if (content instanceof String whole) {
                text.append(whole);
            } else if (content instanceof JsonArray parts) {
                for (Object part : parts) {
                    if (part instanceof JsonObject p && p.getValue("text") instanceof String partText) {
                        text.append(partText);
                    }
                }
            }
            if (message.getValue("tool_calls") instanceof JsonArray calls) {
                for (Object call : calls) {
                    if (call instanceof JsonObject tc && tc.getValue("function") instanceof JsonObject f
                            && f.getValue("arguments") instanceof String arguments) {
                        text.append(arguments);
                    }
                }
            }
        }
        return text.toString();
    }

    private static int nested(JsonObject usage, String object, String field) {
        return usage.getValue(object) instanceof JsonObject details
                && details.getValue(field) instanceof Number n && n.intValue() > 0 ? n.intValue() : 0;
    }
}
