package co.corouter.provider.openai;

import co.corouter.plugin.api.Usage;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** Reads OpenAI {@code usage} objects and estimates usage when an upstream reports none. */
final class Usages {

    private static final int CHARS_PER_TOKEN = 4;
    private static final int TOKENS_PER_MESSAGE = 4;

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
     * Estimate: prompt ≈ ceil(chars of all message contents / 4) + 4 per message; completion ≈
     * ceil(output chars / 4).
     */
    static Usage estimated(JsonObject requestBody, long outputChars) {
        long promptChars = 0;
        int messageCount = 0;
        if (requestBody.getValue("messages") instanceof JsonArray messages) {
            for (Object message : messages) {
                messageCount++;
                if (message instanceof JsonObject m) {
                    promptChars += contentChars(m.getValue("content"));
                }
            }
        }
        promptChars += contentChars(requestBody.getValue("prompt"));
        long prompt = ceilDiv(promptChars) + (long) TOKENS_PER_MESSAGE * messageCount;
        return new Usage(clamp(prompt), clamp(ceilDiv(outputChars)), 0, 0, true);
    }

    /** Characters of the assistant output in a whole completion: message contents and tool-call arguments. */
    static long outputChars(JsonArray choices) {
        long chars = 0;
        for (Object choice : choices) {
            if (choice instanceof JsonObject c && c.getValue("message") instanceof JsonObject message) {
                chars += contentChars(message.getValue("content"));
                if (message.getValue("tool_calls") instanceof JsonArray calls) {
                    for (Object call : calls) {
                        if (call instanceof JsonObject tc && tc.getValue("function") instanceof JsonObject f
                                && f.getValue("arguments") instanceof String arguments) {
                            chars += arguments.length();
                        }
                    }
                }
            }
        }
        return chars;
    }

    /** A content value is a string or an array of parts; only text parts count. */
    private static long contentChars(Object content) {
        if (content instanceof String text) {
            return text.length();
        }
        long chars = 0;
        if (content instanceof JsonArray parts) {
            for (Object part : parts) {
                if (part instanceof JsonObject p && p.getValue("text") instanceof String text) {
                    chars += text.length();
                } else if (part instanceof String text) {
                    chars += text.length();
                }
            }
        }
        return chars;
    }

    private static int nested(JsonObject usage, String object, String field) {
        return usage.getValue(object) instanceof JsonObject details
                && details.getValue(field) instanceof Number n && n.intValue() > 0 ? n.intValue() : 0;
    }

    private static long ceilDiv(long chars) {
        return (chars + CHARS_PER_TOKEN - 1) / CHARS_PER_TOKEN;
    }

    private static int clamp(long tokens) {
        return (int) Math.min(tokens, Integer.MAX_VALUE);
    }
}
