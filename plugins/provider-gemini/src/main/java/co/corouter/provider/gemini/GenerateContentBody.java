package co.corouter.provider.gemini;

import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The host's OpenAI chat request as a Gemini {@code GenerateContentRequest} (spec §2, §7). Gemini refuses unknown
 * fields, so the body is built field by field, never copied:
 * <ul>
 * <li>{@code system}/{@code developer} messages → {@code systemInstruction} (only system messages: a user turn);</li>
 * <li>{@code user} → role {@code user}: text, images ({@code data:} URLs → {@code inlineData}, http(s) URLs →
 * {@code fileData}), {@code input_audio}, {@code file}; {@code assistant} → role {@code model}: text and
 * {@code tool_calls} → {@code functionCall} parts (arguments parsed; invalid JSON wrapped as {@code {"raw": …}}; a
 * thought signature carried in the id restored, {@link ToolCallIds});</li>
 * <li>a run of {@code tool} messages → one {@code user} content of {@code functionResponse} parts in the order of the
 * calls, each named after its call ({@code response: {"output": <content>}}); ids are never sent (Gemini matches by
 * name and order, and refuses ids it did not issue);</li>
 * <li>adjacent contents of one role are merged, and no content is left without parts;</li>
 * <li>{@code tools} → one {@code functionDeclarations} tool (parameters through {@link Schemas}), {@code tool_choice}
 * → {@code toolConfig.functionCallingConfig};</li>
 * <li>{@code generationConfig}: {@code maxOutputTokens} = the host's cap (or the client's, if lower),
 * {@code temperature}, {@code topP}, {@code topK}, {@code stopSequences}, {@code seed}, non-zero penalties,
 * {@code candidateCount: 1}, and {@code response_format} → {@code responseMimeType} (+ {@code responseSchema}).</li>
 * </ul>
 * Input it cannot translate (an unknown role or content part, an image URL of another scheme) fails with
 * {@link Kind#BAD_REQUEST}, naming the message and never quoting it.
 */
final class GenerateContentBody {

    /** Gemini takes up to five stop sequences (OpenAI four). */
    private static final int MAX_STOP_SEQUENCES = 5;
    private static final String UNKNOWN_FUNCTION = "unknown_function";

    private GenerateContentBody() {
    }

    static JsonObject of(ChatRequest chat) {
        JsonObject request = chat.body();
        if (!(request.getValue("messages") instanceof JsonArray messages)) {
            throw invalid("the request has no messages");
        }
        Conversation conversation = new Conversation();
        for (int i = 0; i < messages.size(); ) {
            if (!(messages.getValue(i) instanceof JsonObject message)) {
                throw invalid("messages[" + i + "] is not an object");
            }
            String role = message.getValue("role") instanceof String r ? r : "";
            switch (role) {
                case "system", "developer" -> conversation.system(texts(message.getValue("content"), i));
                case "user" -> conversation.add("user", userParts(message.getValue("content"), i));
                case "assistant" -> conversation.add("model", conversation.assistantParts(message, i));
                case "tool", "function" -> {
                    int end = i;
                    while (end < messages.size() && messages.getValue(end) instanceof JsonObject next
                            && ("tool".equals(next.getValue("role")) || "function".equals(next.getValue("role")))) {
                        end++;
                    }
                    conversation.add("user", conversation.functionResponses(messages, i, end));
                    i = end;
                    continue;
                }
                default -> throw invalid("messages[" + i + "] has a role Gemini cannot take");
            }
            i++;
        }
        JsonObject body = new JsonObject().put("contents", conversation.contents());
        if (!conversation.systemTexts.isEmpty()) {
            body.put("systemInstruction", new JsonObject().put("parts", textParts(conversation.systemTexts)));
        }
        JsonArray declarations = declarations(request);
        if (!declarations.isEmpty()) {
            body.put("tools", new JsonArray().add(new JsonObject().put("functionDeclarations", declarations)));
            JsonObject calling = functionCallingConfig(request);
            if (calling != null) {
                body.put("toolConfig", new JsonObject().put("functionCallingConfig", calling));
            }
        }
        body.put("generationConfig", generationConfig(request, chat.maxTokens()));
        return body;
    }

    /** The contents being built, the system texts and the function names of the tool calls seen so far. */
    private static final class Conversation {
        private final List<JsonObject> contents = new ArrayList<>();
        private final List<String> systemTexts = new ArrayList<>();
        private final Map<String, String> namesByCallId = new HashMap<>();
        /** The ids of the latest assistant turn's tool calls, in order: tool results are sent in that order. */
        private List<String> lastCallIds = List.of();

        void system(List<String> texts) {
            systemTexts.addAll(texts);
        }

        /** Appends parts as a content of {@code role}, merged into the previous content when it has that role. */
        void add(String role, JsonArray parts) {
            if (parts.isEmpty()) {
                if ("model".equals(role)) {
                    return; // an empty assistant turn: nothing to say, and Gemini refuses empty parts
                }
                parts.add(new JsonObject().put("text", " "));
            }
            JsonObject previous = contents.isEmpty() ? null : contents.get(contents.size() - 1);
            if (previous != null && role.equals(previous.getString("role"))) {
                parts.forEach(previous.getJsonArray("parts")::add);
            } else {
                contents.add(new JsonObject().put("role", role).put("parts", parts));
            }
        }

        JsonArray contents() {
            if (contents.isEmpty()) {
                // only system messages: Gemini needs contents, so they become the user's turn
                JsonArray onlyTurn = new JsonArray().add(new JsonObject().put("role", "user")
                        .put("parts", systemTexts.isEmpty() ? new JsonArray().add(new JsonObject().put("text", " "))
                                : textParts(systemTexts)));
                systemTexts.clear();
                return onlyTurn;
            }
            return new JsonArray(new ArrayList<>(contents));
        }

        JsonArray assistantParts(JsonObject message, int index) {
            JsonArray parts = textParts(texts(message.getValue("content"), index));
            List<String> callIds = new ArrayList<>();
            if (message.getValue("tool_calls") instanceof JsonArray calls) {
                for (int c = 0; c < calls.size(); c++) {
                    if (!(calls.getValue(c) instanceof JsonObject call)
                            || !(call.getValue("function") instanceof JsonObject function)
                            || !(function.getValue("name") instanceof String name)) {
                        throw invalid("messages[" + index + "].tool_calls[" + c + "] has no function name");
                    }
                    String id = call.getValue("id") instanceof String i ? i : null;
                    parts.add(functionCall(name, function.getValue("arguments"), ToolCallIds.signature(id)));
                    if (id != null) {
                        namesByCallId.put(id, name);
                        callIds.add(id);
                    }
                }
            } else if (message.getValue("function_call") instanceof JsonObject legacy
                    && legacy.getValue("name") instanceof String name) {
                parts.add(functionCall(name, legacy.getValue("arguments"), null));
            }
            lastCallIds = callIds;
            return parts;
        }

        /** Messages {@code [from, to)} (tool results) as functionResponse parts, in the order of their calls. */
        JsonArray functionResponses(JsonArray messages, int from, int to) {
            List<JsonObject> results = new ArrayList<>();
            for (int i = from; i < to; i++) {
                results.add(messages.getJsonObject(i));
            }
            List<String> order = lastCallIds;
            results.sort(Comparator.comparingInt(result -> {
                int at = order.indexOf(result.getValue("tool_call_id"));
                return at < 0 ? Integer.MAX_VALUE : at;
            }));
            JsonArray parts = new JsonArray();
            for (JsonObject result : results) {
                String name = result.getValue("tool_call_id") instanceof String id ? namesByCallId.get(id) : null;
                if (name == null) {
                    name = result.getValue("name") instanceof String given && !given.isBlank() ? given
                            : UNKNOWN_FUNCTION;
                }
                String output = String.join("", texts(result.getValue("content"), from));
                parts.add(new JsonObject().put("functionResponse", new JsonObject().put("name", name)
                        .put("response", new JsonObject().put("output", output))));
            }
            return parts;
        }
    }

    private static JsonObject functionCall(String name, Object arguments, String thoughtSignature) {
        JsonObject part = new JsonObject().put("functionCall", new JsonObject().put("name", name)
                .put("args", arguments(arguments)));
        if (thoughtSignature != null) {
            part.put("thoughtSignature", thoughtSignature);
        }
        return part;
    }

    /** OpenAI's arguments string as Gemini's args object; anything but a JSON object is kept as {@code raw}. */
    private static JsonObject arguments(Object arguments) {
        if (arguments instanceof JsonObject object) {
            return object;
        }
        if (!(arguments instanceof String text) || text.isBlank()) {
            return new JsonObject();
        }
        try {
            Object parsed = Json.decodeValue(text);
            if (parsed instanceof JsonObject object) {
                return object;
            }
        } catch (DecodeException notJson) {
            // wrapped below
        }
        return new JsonObject().put("raw", text);
    }

    /** The texts of a message's content: a string, or the text parts of an array (refusals, images skipped). */
    private static List<String> texts(Object content, int index) {
        List<String> texts = new ArrayList<>();
        if (content instanceof String text) {
            if (!text.isEmpty()) {
                texts.add(text);
            }
        } else if (content instanceof JsonArray parts) {
            for (Object part : parts) {
                if (part instanceof JsonObject p && "text".equals(p.getValue("type"))
                        && p.getValue("text") instanceof String text && !text.isEmpty()) {
                    texts.add(text);
                }
            }
        } else if (content != null) {
            throw invalid("messages[" + index + "].content is neither text nor parts");
        }
        return texts;
    }

    private static JsonArray textParts(List<String> texts) {
        JsonArray parts = new JsonArray();
        texts.forEach(text -> parts.add(new JsonObject().put("text", text)));
        return parts;
    }

    private static JsonArray userParts(Object content, int index) {
        if (!(content instanceof JsonArray parts)) {
            return textParts(texts(content, index));
        }
        JsonArray out = new JsonArray();
        for (int p = 0; p < parts.size(); p++) {
            String at = "messages[" + index + "].content[" + p + "]";
            if (!(parts.getValue(p) instanceof JsonObject part)) {
                throw invalid(at + " is not an object");
            }
            String type = part.getValue("type") instanceof String t ? t : "";
            switch (type) {
                case "text" -> {
                    if (part.getValue("text") instanceof String text && !text.isEmpty()) {
                        out.add(new JsonObject().put("text", text));
                    }
                }
                case "image_url" -> {
                    Object image = part.getValue("image_url");
                    Object url = image instanceof JsonObject i ? i.getValue("url") : image;
                    out.add(media(url, at, "image/jpeg"));
                }
                case "input_audio" -> {
                    if (!(part.getValue("input_audio") instanceof JsonObject audio)
                            || !(audio.getValue("data") instanceof String data)) {
                        throw invalid(at + " has no input_audio.data");
                    }
                    String format = audio.getValue("format") instanceof String f ? f.toLowerCase(Locale.ROOT) : "wav";
                    out.add(new JsonObject().put("inlineData", new JsonObject()
                            .put("mimeType", "mp3".equals(format) ? "audio/mp3" : "audio/" + format)
                            .put("data", data)));
                }
                case "file" -> {
                    JsonObject file = part.getValue("file") instanceof JsonObject f ? f : new JsonObject();
                    Object data = file.getValue("file_data") != null ? file.getValue("file_data")
                            : file.getValue("file_url");
                    String fallback = file.getValue("filename") instanceof String name ? mimeOf(name) : null;
                    out.add(media(data, at, fallback));
                }
                default -> throw invalid(at + " is a '" + identifier(type) + "' part, which Gemini cannot take");
            }
        }
        return out;
    }

    /** A {@code data:} URL as inlineData, an http(s) URL as fileData. */
    private static JsonObject media(Object url, String at, String fallbackMime) {
        if (!(url instanceof String text) || text.isBlank()) {
            throw invalid(at + " has no URL");
        }
        if (text.startsWith("data:")) {
            int comma = text.indexOf(',');
            String header = comma < 0 ? "" : text.substring("data:".length(), comma);
            if (comma < 0 || !header.endsWith(";base64")) {
                throw invalid(at + " is a data URL that is not base64");
            }
            String mime = header.substring(0, header.indexOf(';'));
            return new JsonObject().put("inlineData", new JsonObject()
                    .put("mimeType", mime.isEmpty() ? fallbackMime : mime)
                    .put("data", text.substring(comma + 1)));
        }
        String lower = text.toLowerCase(Locale.ROOT);
        if (lower.startsWith("https://") || lower.startsWith("http://") || lower.startsWith("gs://")) {
            JsonObject fileData = new JsonObject();
            String mime = mimeOf(text);
            if (mime != null || fallbackMime != null) {
                fileData.put("mimeType", mime != null ? mime : fallbackMime);
            }
            return new JsonObject().put("fileData", fileData.put("fileUri", text));
        }
        throw invalid(at + " has a URL Gemini cannot fetch (data:, http:, https: or gs: only)");
    }

    /** The media type a URL's or file name's extension names, or null. */
    private static String mimeOf(String name) {
        String path = name.toLowerCase(Locale.ROOT);
        int query = path.indexOf('?');
        if (query >= 0) {
            path = path.substring(0, query);
        }
        String extension = path.substring(path.lastIndexOf('.') + 1);
        return switch (extension) {
            case "png" -> "image/png";
            case "jpg", "jpeg" -> "image/jpeg";
            case "webp" -> "image/webp";
            case "gif" -> "image/gif";
            case "heic" -> "image/heic";
            case "heif" -> "image/heif";
            case "pdf" -> "application/pdf";
            case "mp3" -> "audio/mp3";
            case "wav" -> "audio/wav";
            case "mp4" -> "video/mp4";
            case "txt" -> "text/plain";
            default -> null;
        };
    }

    private static JsonArray declarations(JsonObject request) {
        JsonArray declarations = new JsonArray();
        List<JsonObject> functions = new ArrayList<>();
        if (request.getValue("tools") instanceof JsonArray tools) {
            for (Object tool : tools) {
                if (tool instanceof JsonObject t && "function".equals(t.getValue("type"))
                        && t.getValue("function") instanceof JsonObject function) {
                    functions.add(function);
                }
            }
        } else if (request.getValue("functions") instanceof JsonArray legacy) {
            for (Object function : legacy) {
                if (function instanceof JsonObject f) {
                    functions.add(f);
                }
            }
        }
        for (JsonObject function : functions) {
            if (!(function.getValue("name") instanceof String name)) {
                throw invalid("a tool has no function name");
            }
            JsonObject declaration = new JsonObject().put("name", name);
            if (function.getValue("description") instanceof String description && !description.isEmpty()) {
                declaration.put("description", description);
            }
            JsonObject parameters = Schemas.parameters(function.getValue("parameters"));
            if (parameters != null) {
                declaration.put("parameters", parameters);
            }
            declarations.add(declaration);
        }
        return declarations;
    }

    /** {@code tool_choice} (or the legacy {@code function_call}) as a functionCallingConfig, or null: the default. */
    private static JsonObject functionCallingConfig(JsonObject request) {
        Object choice = request.getValue("tool_choice") != null ? request.getValue("tool_choice")
                : request.getValue("function_call");
        if (choice instanceof String mode) {
            return switch (mode) {
                case "none" -> new JsonObject().put("mode", "NONE");
                case "required", "any" -> new JsonObject().put("mode", "ANY");
                default -> new JsonObject().put("mode", "AUTO");
            };
        }
        if (choice instanceof JsonObject named) {
            Object function = named.getValue("function") instanceof JsonObject f ? f.getValue("name")
                    : named.getValue("name");
            if (function instanceof String name) {
                return new JsonObject().put("mode", "ANY").put("allowedFunctionNames", new JsonArray().add(name));
            }
        }
        return null;
    }

    private static JsonObject generationConfig(JsonObject request, int cap) {
        JsonObject config = new JsonObject().put("candidateCount", 1);
        Integer asked = null;
        for (String field : List.of("max_completion_tokens", "max_tokens")) {
            if (asked == null && request.getValue(field) instanceof Number n && n.longValue() > 0) {
                asked = (int) Math.min(n.longValue(), Integer.MAX_VALUE);
            }
        }
        Integer max = cap > 0 ? (asked == null ? cap : Math.min(asked, cap)) : asked;
        if (max != null) {
            config.put("maxOutputTokens", max);
        }
        if (request.getValue("temperature") instanceof Number temperature) {
            config.put("temperature", temperature);
        }
        if (request.getValue("top_p") instanceof Number topP) {
            config.put("topP", topP);
        }
        if (request.getValue("top_k") instanceof Number topK && topK.intValue() > 0) {
            config.put("topK", topK.intValue());
        }
        if (request.getValue("seed") instanceof Number seed) {
            config.put("seed", seed.longValue());
        }
        for (String[] penalty : new String[][] {{"presence_penalty", "presencePenalty"},
                {"frequency_penalty", "frequencyPenalty"}}) {
            // sent only when set: several models refuse penalties altogether
            if (request.getValue(penalty[0]) instanceof Number n && n.doubleValue() != 0) {
                config.put(penalty[1], n);
            }
        }
        JsonArray stops = new JsonArray();
        Object stop = request.getValue("stop");
        if (stop instanceof String one && !one.isEmpty()) {
            stops.add(one);
        } else if (stop instanceof JsonArray many) {
            for (Object s : many) {
                if (s instanceof String text && !text.isEmpty() && stops.size() < MAX_STOP_SEQUENCES) {
                    stops.add(text);
                }
            }
        }
        if (!stops.isEmpty()) {
            config.put("stopSequences", stops);
        }
        if (request.getValue("response_format") instanceof JsonObject format) {
            String type = format.getValue("type") instanceof String t ? t : "";
            if (type.equals("json_object")) {
                config.put("responseMimeType", "application/json");
            } else if (type.equals("json_schema")) {
                config.put("responseMimeType", "application/json");
                JsonObject schema = format.getValue("json_schema") instanceof JsonObject js
                        ? Schemas.toGemini(js.getValue("schema")) : null;
                if (schema != null && !schema.isEmpty()) {
                    config.put("responseSchema", schema);
                }
            }
        }
        return config;
    }

    private static ProviderException invalid(String message) {
        return new ProviderException(Kind.BAD_REQUEST, "cannot translate the request for Gemini: " + message);
    }

    /** A client-given type name reduced to identifier characters, for a message. */
    private static String identifier(String text) {
        StringBuilder kept = new StringBuilder();
        for (int i = 0; i < text.length() && kept.length() < 32; i++) {
            char c = text.charAt(i);
            if (c < 128 && (Character.isLetterOrDigit(c) || c == '_' || c == '-')) {
                kept.append(c);
            }
        }
        return kept.toString();
    }
}
