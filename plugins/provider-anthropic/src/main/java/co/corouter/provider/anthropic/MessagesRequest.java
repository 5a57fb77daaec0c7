package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An OpenAI chat-completions body as an Anthropic Messages body (specs/anthropic-messages.md §6.1):
 * <ul>
 * <li>{@code system} and {@code developer} messages, wherever they are, become the top-level {@code system} text
 *     blocks, in order; {@code user}/{@code assistant} turns keep their role, consecutive ones merged;</li>
 * <li>text parts become {@code text} blocks (empty or whitespace-only text is dropped: Anthropic rejects it), image
 *     parts {@code image} blocks ({@code data:} URLs as base64 sources, http(s) URLs as url sources), PDF file parts
 *     {@code document} blocks; {@code cache_control} stays on every part, tool and the top level that carries it;</li>
 * <li>an assistant's {@code tool_calls} become {@code tool_use} blocks after its text; {@code tool} messages become
 *     {@code tool_result} blocks at the start of ONE user turn (consecutive ones merged, a following user message
 *     after them);</li>
 * <li>{@code tools}, {@code tool_choice} ({@code required} is {@code any}) and {@code parallel_tool_calls: false}
 *     ({@code disable_parallel_tool_use}); {@code stop} as {@code stop_sequences}; {@code user} as
 *     {@code metadata.user_id}; a JSON-schema {@code response_format} as {@code output_config.format};</li>
 * <li>{@code temperature} (clamped to Anthropic's 0–1), {@code top_p}, {@code top_k} unless the API version has
 *     removed them; {@code max_tokens} always, the host's cap;</li>
 * <li>everything else (penalties, seed, logprobs, OpenRouter's routing fields) is dropped; {@code n > 1} is
 *     refused.</li>
 * </ul>
 * A request that cannot be translated fails with {@link Kind#BAD_REQUEST} naming the field, never quoting content.
 */
final class MessagesRequest {

    private static final Map<String, String> IMAGE_TYPES = Map.of("image/jpeg", "image/jpeg", "image/jpg",
            "image/jpeg", "image/png", "image/png", "image/gif", "image/gif", "image/webp", "image/webp");
    private static final String TOOL_RESULT = "tool_result";

    private final JsonArray system = new JsonArray();
    private final List<Turn> turns = new ArrayList<>();

    /** A turn of the Anthropic conversation being built. */
    private record Turn(String role, JsonArray blocks) {
    }

    private MessagesRequest() {
    }

    /**
     * The Messages body for {@code body}.
     *
     * @param model     the upstream model
     * @param maxTokens the host's completion cap; the client's own is honoured when smaller
     * @param stream    whether to ask for an SSE stream
     * @param sampling  whether the API version takes {@code temperature}, {@code top_p} and {@code top_k}
     * @throws ProviderException BAD_REQUEST when the request has no Anthropic equivalent
     */
    static JsonObject of(JsonObject body, String model, int maxTokens, boolean stream, boolean sampling) {
        return new MessagesRequest().translate(body, model, maxTokens, stream, sampling);
    }

    private JsonObject translate(JsonObject body, String model, int cap, boolean stream, boolean sampling) {
        if (body.getValue("n") instanceof Number n && n.intValue() > 1) {
            throw bad("n: anthropic answers with one choice");
        }
        if (!(body.getValue("messages") instanceof JsonArray messages)) {
            throw bad("messages: must be an array");
        }
        for (int i = 0; i < messages.size(); i++) {
            if (!(messages.getValue(i) instanceof JsonObject message)) {
                throw bad("messages[" + i + "]: must be an object");
            }
            message(message, "messages[" + i + "]");
        }
        if (turns.isEmpty()) {
            throw bad("messages: anthropic needs at least one user or assistant message");
        }
        JsonObject out = new JsonObject().put("model", model).put("max_tokens", maxTokens(body, cap));
        if (!system.isEmpty()) {
            out.put("system", system);
        }
        JsonArray conversation = new JsonArray();
        turns.forEach(turn -> conversation.add(new JsonObject().put("role", turn.role())
                .put("content", turn.blocks())));
        out.put("messages", conversation);
        tools(body, out);
        stopSequences(body.getValue("stop"), out);
        if (sampling) {
            if (body.getValue("temperature") instanceof Number t) {
                out.put("temperature", Math.max(0.0, Math.min(1.0, t.doubleValue())));
            }
            if (body.getValue("top_p") instanceof Number p) {
                out.put("top_p", p);
            }
            if (body.getValue("top_k") instanceof Number k && k.intValue() >= 0) {
                out.put("top_k", k.intValue());
            }
        }
        if (body.getValue("user") instanceof String user && !user.isBlank()) {
            out.put("metadata", new JsonObject().put("user_id", user));
        }
        responseFormat(body.getValue("response_format"), out);
        if (body.getValue("cache_control") instanceof JsonObject cacheControl) {
            out.put("cache_control", cacheControl);
        }
        return out.put("stream", stream);
    }

    /** The host's cap, or the client's {@code max_completion_tokens}/{@code max_tokens} when smaller. */
    private static int maxTokens(JsonObject body, int cap) {
        int asked = -1;
        for (String field : List.of("max_completion_tokens", "max_tokens")) {
            if (body.getValue(field) instanceof Number n && n.longValue() > 0) {
                asked = (int) Math.min(Integer.MAX_VALUE, n.longValue());
                break;
            }
        }
        if (cap > 0) {
            return asked > 0 ? Math.min(asked, cap) : cap;
        }
        if (asked > 0) {
            return asked;
        }
        throw bad("max_tokens: anthropic needs a completion cap");
    }

    private void message(JsonObject message, String where) {
        Object role = message.getValue("role");
        Object content = message.getValue("content");
        switch (role instanceof String r ? r : "") {
            case "system", "developer" -> system.addAll(blocks(content, where + ".content", false));
            case "user" -> append("user", blocks(content, where + ".content", true));
            case "assistant" -> {
                JsonArray blocks = blocks(content, where + ".content", false);
                if (message.getValue("tool_calls") instanceof JsonArray calls) {
                    for (int j = 0; j < calls.size(); j++) {
                        blocks.add(toolUse(calls.getValue(j), where + ".tool_calls[" + j + "]"));
                    }
                }
                append("assistant", blocks);
            }
            case "tool" -> append("user", new JsonArray().add(toolResult(message, where)));
            default -> throw bad(where + ".role: must be system, developer, user, assistant or tool");
        }
    }

    /**
     * Appends blocks to the conversation, merging them into the last turn when it has the same role; a
     * {@code tool_result} goes after the turn's leading tool results, so they all come first.
     */
    private void append(String role, JsonArray blocks) {
        if (blocks.isEmpty()) {
            return;
        }
        Turn last = turns.isEmpty() ? null : turns.get(turns.size() - 1);
        if (last == null || !last.role().equals(role)) {
            turns.add(new Turn(role, blocks));
            return;
        }
        for (Object block : blocks) {
            if (TOOL_RESULT.equals(((JsonObject) block).getValue("type"))) {
                int leading = 0;
                while (leading < last.blocks().size()
                        && TOOL_RESULT.equals(last.blocks().getJsonObject(leading).getValue("type"))) {
                    leading++;
                }
                last.blocks().getList().add(leading, block);
            } else {
                last.blocks().add(block);
            }
        }
    }

    /**
     * The blocks of a message's {@code content}: a string, or an array of parts. Only user turns take images and
     * files; assistant {@code refusal} parts are dropped.
     */
    private static JsonArray blocks(Object content, String where, boolean media) {
        JsonArray blocks = new JsonArray();
        if (content == null) {
            return blocks;
        }
        if (content instanceof String text) {
            if (!text.isBlank()) {
                blocks.add(new JsonObject().put("type", "text").put("text", text));
            }
            return blocks;
        }
        if (!(content instanceof JsonArray parts)) {
            throw bad(where + ": must be a string or an array of parts");
        }
        for (int j = 0; j < parts.size(); j++) {
            String at = where + "[" + j + "]";
            if (!(parts.getValue(j) instanceof JsonObject part)) {
                throw bad(at + ": must be an object");
            }
            String type = part.getValue("type") instanceof String t ? t : "";
            JsonObject block = switch (type) {
                case "text" -> part.getValue("text") instanceof String text && !text.isBlank()
                        ? new JsonObject().put("type", "text").put("text", text) : null;
                case "image_url" -> media ? image(part.getValue("image_url"), at + ".image_url") : null;
                case "file" -> media ? document(part.getValue("file"), at + ".file") : null;
                case "refusal" -> null;
                default -> throw bad(at + ".type: '" + identifier(type) + "' parts are not supported by anthropic");
            };
            if (block == null && (type.equals("image_url") || type.equals("file"))) {
                throw bad(at + ": " + type + " parts are only allowed in user messages");
            }
            if (block != null) {
                if (part.getValue("cache_control") instanceof JsonObject cacheControl) {
                    block.put("cache_control", cacheControl);
                }
                blocks.add(block);
            }
        }
        return blocks;
    }

    /** An {@code image_url} ({@code {url}} or the URL itself) as an image block. */
    private static JsonObject image(Object imageUrl, String where) {
        Object url = imageUrl instanceof JsonObject object ? object.getValue("url") : imageUrl;
        if (!(url instanceof String text) || text.isBlank()) {
            throw bad(where + ".url: is required");
        }
        if (text.regionMatches(true, 0, "http://", 0, 7) || text.regionMatches(true, 0, "https://", 0, 8)) {
            return new JsonObject().put("type", "image").put("source", new JsonObject().put("type", "url")
                    .put("url", text));
        }
        if (!text.regionMatches(true, 0, "data:", 0, 5)) {
            throw bad(where + ".url: must be an http(s) URL or a base64 data URL");
        }
        String[] data = dataUrl(text, where + ".url");
        String mediaType = IMAGE_TYPES.get(data[0]);
        if (mediaType == null) {
            throw bad(where + ".url: media type '" + identifier(data[0]) + "' is not supported by anthropic (jpeg,"
                    + " png, gif, webp)");
        }
        return new JsonObject().put("type", "image").put("source", new JsonObject().put("type", "base64")
                .put("media_type", mediaType).put("data", data[1]));
    }

    /** A {@code file} part with a base64 PDF ({@code file_data}) as a document block. */
    private static JsonObject document(Object file, String where) {
        if (!(file instanceof JsonObject f) || !(f.getValue("file_data") instanceof String fileData)) {
            throw bad(where + ".file_data: anthropic takes files as data URLs, not file ids");
        }
        String[] data = dataUrl(fileData, where + ".file_data");
        if (!data[0].equals("application/pdf")) {
            throw bad(where + ".file_data: media type '" + identifier(data[0]) + "' is not supported by anthropic"
                    + " (application/pdf)");
        }
        JsonObject document = new JsonObject().put("type", "document").put("source", new JsonObject()
                .put("type", "base64").put("media_type", "application/pdf").put("data", data[1]));
        if (f.getValue("filename") instanceof String name && !name.isBlank()) {
            document.put("title", name);
        }
        return document;
    }

    /** {@code data:<type>;base64,<data>} as {type (lower case), data}. */
    private static String[] dataUrl(String url, String where) {
        int comma = url.indexOf(',');
        String header = comma < 5 || !url.regionMatches(true, 0, "data:", 0, 5) ? "" : url.substring(5, comma);
        if (!header.toLowerCase(Locale.ROOT).endsWith(";base64") || comma == url.length() - 1) {
            throw bad(where + ": must be a base64 data URL (data:<type>;base64,<data>)");
        }
        String type = header.substring(0, header.length() - ";base64".length()).toLowerCase(Locale.ROOT);
        int parameters = type.indexOf(';');
        return new String[] {parameters < 0 ? type : type.substring(0, parameters), url.substring(comma + 1)};
    }

    /** An assistant's {@code tool_calls[j]} as a {@code tool_use} block; its arguments must be a JSON object. */
    private static JsonObject toolUse(Object value, String where) {
        if (!(value instanceof JsonObject call) || !(call.getValue("function") instanceof JsonObject function)) {
            throw bad(where + ".function: is required");
        }
        if (!(call.getValue("id") instanceof String id) || id.isBlank()) {
            throw bad(where + ".id: is required");
        }
        if (!(function.getValue("name") instanceof String name) || name.isBlank()) {
            throw bad(where + ".function.name: is required");
        }
        JsonObject input;
        Object arguments = function.getValue("arguments");
        if (arguments == null || (arguments instanceof String text && text.isBlank())) {
            input = new JsonObject();
        } else if (arguments instanceof JsonObject object) {
            input = object;
        } else {
            try {
                input = new JsonObject(String.valueOf(arguments));
            } catch (RuntimeException notAnObject) {
                throw bad(where + ".function.arguments: is not a JSON object");
            }
        }
        return new JsonObject().put("type", "tool_use").put("id", id).put("name", name).put("input", input);
    }

    /** A {@code tool} message as a {@code tool_result} block. */
    private static JsonObject toolResult(JsonObject message, String where) {
        if (!(message.getValue("tool_call_id") instanceof String id) || id.isBlank()) {
            throw bad(where + ".tool_call_id: is required");
        }
        JsonObject result = new JsonObject().put("type", TOOL_RESULT).put("tool_use_id", id);
        Object content = message.getValue("content");
        if (content instanceof String text) {
            if (!text.isEmpty()) {
                result.put("content", text);
            }
        } else {
            JsonArray blocks = blocks(content, where + ".content", true);
            for (Object block : blocks) {
                if ("document".equals(((JsonObject) block).getValue("type"))) {
                    throw bad(where + ".content: a tool result takes text and images only");
                }
            }
            if (!blocks.isEmpty()) {
                result.put("content", blocks);
            }
        }
        return result;
    }

    private static void tools(JsonObject body, JsonObject out) {
        if (!(body.getValue("tools") instanceof JsonArray tools) || tools.isEmpty()) {
            return; // tool_choice without tools means nothing; Anthropic would reject it
        }
        JsonArray translated = new JsonArray();
        for (int i = 0; i < tools.size(); i++) {
            String where = "tools[" + i + "]";
            if (!(tools.getValue(i) instanceof JsonObject tool) || !"function".equals(tool.getValue("type"))
                    || !(tool.getValue("function") instanceof JsonObject function)) {
                throw bad(where + ": only function tools are supported by anthropic");
            }
            if (!(function.getValue("name") instanceof String name) || name.isBlank()) {
                throw bad(where + ".function.name: is required");
            }
            JsonObject schema;
            Object parameters = function.getValue("parameters");
            if (parameters == null) {
                schema = new JsonObject().put("type", "object").put("properties", new JsonObject());
            } else if (parameters instanceof JsonObject given && (given.getValue("type") == null
                    || "object".equals(given.getValue("type")))) {
                schema = given.getValue("type") == null ? given.copy().put("type", "object") : given;
            } else {
                throw bad(where + ".function.parameters: must be a JSON schema of type object");
            }
            JsonObject translatedTool = new JsonObject().put("name", name);
            if (function.getValue("description") instanceof String description && !description.isBlank()) {
                translatedTool.put("description", description);
            }
            translatedTool.put("input_schema", schema);
            Object cacheControl = tool.getValue("cache_control") != null ? tool.getValue("cache_control")
                    : function.getValue("cache_control");
            if (cacheControl instanceof JsonObject control) {
                translatedTool.put("cache_control", control);
            }
            translated.add(translatedTool);
        }
        out.put("tools", translated);
        JsonObject choice = toolChoice(body.getValue("tool_choice"));
        boolean serial = Boolean.FALSE.equals(body.getValue("parallel_tool_calls"));
        if (serial && (choice == null || !"none".equals(choice.getValue("type")))) {
            choice = (choice == null ? new JsonObject().put("type", "auto") : choice)
                    .put("disable_parallel_tool_use", true);
        }
        if (choice != null) {
            out.put("tool_choice", choice);
        }
    }

    private static JsonObject toolChoice(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof String mode) {
            return switch (mode) {
                case "auto" -> new JsonObject().put("type", "auto");
                case "none" -> new JsonObject().put("type", "none");
                case "required" -> new JsonObject().put("type", "any");
                default -> throw bad("tool_choice: must be auto, none, required or a named function");
            };
        }
        if (value instanceof JsonObject named && "function".equals(named.getValue("type"))
                && named.getValue("function") instanceof JsonObject function
                && function.getValue("name") instanceof String name && !name.isBlank()) {
            return new JsonObject().put("type", "tool").put("name", name);
        }
        throw bad("tool_choice: must be auto, none, required or a named function");
    }

    private static void stopSequences(Object stop, JsonObject out) {
        JsonArray sequences = new JsonArray();
        if (stop instanceof String one) {
            if (!one.isBlank()) {
                sequences.add(one);
            }
        } else if (stop instanceof JsonArray many) {
            for (Object sequence : many) {
                if (sequence instanceof String s && !s.isBlank()) {
                    sequences.add(s);
                }
            }
        }
        if (!sequences.isEmpty()) {
            out.put("stop_sequences", sequences);
        }
    }

    /** A JSON-schema {@code response_format} as {@code output_config.format}; {@code text} and JSON mode have none. */
    private static void responseFormat(Object value, JsonObject out) {
        if (value instanceof JsonObject format && "json_schema".equals(format.getValue("type"))) {
            if (!(format.getValue("json_schema") instanceof JsonObject jsonSchema)
                    || !(jsonSchema.getValue("schema") instanceof JsonObject schema)) {
                throw bad("response_format.json_schema.schema: is required");
            }
            out.put("output_config", new JsonObject().put("format", new JsonObject().put("type", "json_schema")
                    .put("schema", schema)));
        }
    }

    /** A client-chosen name reduced to identifier characters, so a message never carries arbitrary client text. */
    private static String identifier(String text) {
        StringBuilder kept = new StringBuilder();
        for (int i = 0; i < text.length() && kept.length() < 40; i++) {
            char c = text.charAt(i);
            if (c < 128 && (Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '/' || c == '.')) {
                kept.append(c);
            }
        }
        return kept.toString();
    }

    private static ProviderException bad(String message) {
        return new ProviderException(Kind.BAD_REQUEST, 0, "cannot translate the request for anthropic: " + message);
    }
}
