package co.corouter.server.ingress;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * An Anthropic Messages request (specs/anthropic-messages.md §1) as an OpenAI chat-completions body (§6.1, arrows
 * reversed): {@code system} becomes the first message, {@code tool_use} blocks become assistant {@code tool_calls},
 * {@code tool_result} blocks become {@code tool} messages (before the rest of their user turn), images become
 * {@code image_url} parts, {@code tools}/{@code tool_choice}/{@code stop_sequences}/{@code metadata.user_id} their
 * OpenAI fields; {@code cache_control} stays on the parts that carry it. Thinking blocks are dropped (their signatures
 * only mean something to Anthropic). Problems are 400s that name the field.
 */
final class AnthropicRequests {

    private static final List<String> PASSED = List.of("model", "max_tokens", "temperature", "top_p", "top_k",
            "stream", "models", "provider");

    private AnthropicRequests() {
    }

    static Buffer toChat(Buffer raw) {
        return toChat(raw, true);
    }

    /** @param create true for a create body ({@code max_tokens} required), false for a count_tokens body */
    static Buffer toChat(Buffer raw, boolean create) {
        JsonObject body;
        try {
            body = raw.toJsonObject();
        } catch (DecodeException | ClassCastException e) {
            throw bad("the request body must be a JSON object");
        }
        if (create && !(body.getValue("max_tokens") instanceof Integer)) {
            throw bad("'max_tokens' is required and must be an integer");
        }
        if (!(body.getValue("messages") instanceof JsonArray messages) || messages.isEmpty()) {
            throw bad("'messages' is required and must be a non-empty array");
        }
        JsonObject chat = new JsonObject();
        for (String field : PASSED) {
            if (body.containsKey(field)) {
                chat.put(field, body.getValue(field));
            }
        }
        JsonArray out = new JsonArray();
        Object system = body.getValue("system");
        if (system != null) {
            out.add(new JsonObject().put("role", "system").put("content", textContent(system, "system")));
        }
        for (int i = 0; i < messages.size(); i++) {
            if (!(messages.getValue(i) instanceof JsonObject message)) {
                throw bad("'messages[" + i + "]' must be an object");
            }
            message(message, "messages[" + i + "]", out);
        }
        chat.put("messages", out);
        if (body.getValue("stop_sequences") instanceof JsonArray stops) {
            chat.put("stop", stops);
        }
        if (body.getValue("metadata") instanceof JsonObject metadata && metadata.getValue("user_id") instanceof String user) {
            chat.put("user", user);
        }
        if (body.getValue("tools") instanceof JsonArray tools) {
            chat.put("tools", tools(tools));
        }
        if (body.getValue("tool_choice") instanceof JsonObject choice) {
            toolChoice(choice, chat);
        }
        return chat.toBuffer();
    }

    private static void message(JsonObject message, String where, JsonArray out) {
        String role = message.getString("role");
        if ("system".equals(role)) {
            // a mid-conversation system message (newer API versions): kept in place
            out.add(new JsonObject().put("role", "system").put("content", textContent(message.getValue("content"),
                    where + ".content")));
            return;
        }
        if (!"user".equals(role) && !"assistant".equals(role)) {
            throw bad("'" + where + ".role' must be user, assistant or system");
        }
        Object content = message.getValue("content");
        if (content instanceof String text) {
            out.add(new JsonObject().put("role", role).put("content", text));
            return;
        }
        if (!(content instanceof JsonArray blocks)) {
            throw bad("'" + where + ".content' must be a string or an array of content blocks");
        }
        JsonArray parts = new JsonArray();
        JsonArray toolCalls = new JsonArray();
        for (int b = 0; b < blocks.size(); b++) {
            String at = where + ".content[" + b + "]";
            if (!(blocks.getValue(b) instanceof JsonObject block)) {
                throw bad("'" + at + "' must be an object");
            }
            switch (String.valueOf(block.getValue("type"))) {
                case "text" -> parts.add(textPart(block, at));
                case "image" -> parts.add(image(block, at));
                case "tool_use" -> {
                    if (!"assistant".equals(role)) {
                        throw bad("'" + at + "': tool_use blocks belong to assistant turns");
                    }
                    Object input = block.getValue("input");
                    toolCalls.add(new JsonObject().put("id", block.getString("id")).put("type", "function")
                            .put("function", new JsonObject().put("name", block.getString("name"))
                                    .put("arguments", input == null ? "{}" : io.vertx.core.json.Json.encode(input))));
                }
                case "tool_result" -> {
                    if (!"user".equals(role)) {
                        throw bad("'" + at + "': tool_result blocks belong to user turns");
                    }
                    JsonObject result = new JsonObject().put("role", "tool")
                            .put("tool_call_id", block.getString("tool_use_id"))
                            .put("content", resultText(block.getValue("content"), at));
                    out.add(result);
                }
                case "thinking", "redacted_thinking" -> {
                    // a signature only Anthropic can check: not replayed to other providers
                }
                default -> throw bad("'" + at + ".type' " + block.getValue("type") + " is not supported here");
            }
        }
        if ("assistant".equals(role)) {
            JsonObject assistant = new JsonObject().put("role", "assistant");
            assistant.put("content", parts.isEmpty() ? null : joinedText(parts));
            if (!toolCalls.isEmpty()) {
                assistant.put("tool_calls", toolCalls);
            }
            if (!parts.isEmpty() || !toolCalls.isEmpty()) {
                out.add(assistant);
            }
        } else if (!parts.isEmpty()) {
            out.add(new JsonObject().put("role", "user").put("content", parts));
        }
    }

    /** An assistant turn's text parts as one string (what OpenAI expects of an assistant), or the parts. */
    private static Object joinedText(JsonArray parts) {
        StringBuilder text = new StringBuilder();
        for (Object part : parts) {
            JsonObject p = (JsonObject) part;
            if (!"text".equals(p.getString("type")) || p.containsKey("cache_control")) {
                return parts;
            }
            text.append(p.getString("text"));
        }
        return text.toString();
    }

    private static Object textContent(Object system, String where) {
        if (system instanceof String text) {
            return text;
        }
        if (!(system instanceof JsonArray blocks)) {
            throw bad("'" + where + "' must be a string or an array of text blocks");
        }
        JsonArray parts = new JsonArray();
        for (int i = 0; i < blocks.size(); i++) {
            if (!(blocks.getValue(i) instanceof JsonObject block) || !"text".equals(block.getString("type"))) {
                throw bad("'" + where + "[" + i + "]' must be a text block");
            }
            parts.add(textPart(block, where + "[" + i + "]"));
        }
        return parts;
    }

    private static JsonObject textPart(JsonObject block, String at) {
        if (!(block.getValue("text") instanceof String text)) {
            throw bad("'" + at + ".text' must be a string");
        }
        JsonObject part = new JsonObject().put("type", "text").put("text", text);
        if (block.getValue("cache_control") instanceof JsonObject cache) {
            part.put("cache_control", cache);
        }
        return part;
    }

    private static JsonObject image(JsonObject block, String at) {
        if (!(block.getValue("source") instanceof JsonObject source)) {
            throw bad("'" + at + ".source' is required");
        }
        String url = switch (String.valueOf(source.getValue("type"))) {
            case "base64" -> "data:" + source.getString("media_type") + ";base64," + source.getString("data");
            case "url" -> source.getString("url");
            default -> throw bad("'" + at + ".source.type' must be base64 or url");
        };
        return new JsonObject().put("type", "image_url").put("image_url", new JsonObject().put("url", url));
    }

    private static String resultText(Object content, String at) {
        if (content == null || content instanceof String) {
            return content == null ? "" : (String) content;
        }
        if (!(content instanceof JsonArray blocks)) {
            throw bad("'" + at + ".content' must be a string or an array of blocks");
        }
        StringBuilder text = new StringBuilder();
        for (Object block : blocks) {
            if (block instanceof JsonObject b && "text".equals(b.getString("type"))) {
                text.append(b.getString("text", ""));
            }
        }
        return text.toString();
    }

    private static JsonArray tools(JsonArray tools) {
        JsonArray out = new JsonArray();
        for (int i = 0; i < tools.size(); i++) {
            if (!(tools.getValue(i) instanceof JsonObject tool) || !(tool.getValue("name") instanceof String name)) {
                throw bad("'tools[" + i + "]' must be a tool with a name");
            }
            JsonObject function = new JsonObject().put("name", name).put("parameters",
                    tool.getValue("input_schema") instanceof JsonObject schema ? schema
                            : new JsonObject().put("type", "object").put("properties", new JsonObject()));
            if (tool.getValue("description") instanceof String description) {
                function.put("description", description);
            }
            out.add(new JsonObject().put("type", "function").put("function", function));
        }
        return out;
    }

    private static void toolChoice(JsonObject choice, JsonObject chat) {
        switch (String.valueOf(choice.getValue("type"))) {
            case "auto" -> chat.put("tool_choice", "auto");
            case "any" -> chat.put("tool_choice", "required");
            case "none" -> chat.put("tool_choice", "none");
            case "tool" -> chat.put("tool_choice", new JsonObject().put("type", "function")
                    .put("function", new JsonObject().put("name", choice.getString("name"))));
            default -> throw bad("'tool_choice.type' must be auto, any, tool or none");
        }
        if (Boolean.TRUE.equals(choice.getValue("disable_parallel_tool_use"))) {
            chat.put("parallel_tool_calls", false);
        }
    }

    private static ApiException bad(String message) {
        return new ApiException(ErrorCodes.BAD_REQUEST, message);
    }
}
