package co.corouter.testkit.anthropic;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The request checks the real Messages API makes that a translating client gets wrong (specs/anthropic-messages.md
 * §1.3–1.5, §6.4): unknown top-level fields, a missing {@code max_tokens}, roles other than user/assistant, empty or
 * whitespace-only text blocks, {@code tool_use} blocks not answered by {@code tool_result} blocks at the start of the
 * next user turn, orphan {@code tool_result}s, sampling parameters out of range (or sent at all to
 * {@code 2026-10-21}), malformed images, tools and {@code tool_choice}, and more than four {@code cache_control}
 * breakpoints. Each problem is reported as the API words it: {@code <field path>: <what is wrong>}.
 */
final class MessagesValidator {

    /** The API version that removed {@code temperature}, {@code top_p} and {@code top_k}. */
    static final String SAMPLING_REMOVED_IN = "2026-10-21";
    private static final Set<String> FIELDS = Set.of("model", "max_tokens", "messages", "system", "stop_sequences",
            "temperature", "top_p", "top_k", "stream", "tools", "tool_choice", "metadata", "thinking",
            "cache_control", "output_config", "service_tier", "container", "inference_geo", "speed", "diagnostics",
            "mcp_servers");
    private static final Set<String> MEDIA_TYPES = Set.of("image/jpeg", "image/png", "image/gif", "image/webp");
    private static final Set<String> BLOCK_TYPES = Set.of("text", "image", "document", "tool_use", "tool_result",
            "thinking", "redacted_thinking", "search_result", "server_tool_use", "web_search_tool_result");
    private static final Set<String> TOOL_CHOICES = Set.of("auto", "any", "tool", "none");
    private static final int MAX_BREAKPOINTS = 4;

    private int breakpoints;

    private MessagesValidator() {
    }

    /** The first problem with a create-message body, or {@code null} when the API would accept it. */
    static String problem(JsonObject body, String version) {
        return new MessagesValidator().check(body, version);
    }

    private String check(JsonObject body, String version) {
        for (String field : body.fieldNames()) {
            if (!FIELDS.contains(field)) {
                return field + ": Extra inputs are not permitted";
            }
        }
        if (!(body.getValue("model") instanceof String model) || model.isBlank()) {
            return "model: Field required";
        }
        if (!body.containsKey("max_tokens")) {
            return "max_tokens: Field required";
        }
        if (!(body.getValue("max_tokens") instanceof Integer maxTokens) || maxTokens < 0) {
            return "max_tokens: Input should be a valid non-negative integer";
        }
        String sampling = sampling(body, version != null && version.compareTo(SAMPLING_REMOVED_IN) >= 0);
        if (sampling != null) {
            return sampling;
        }
        if (body.containsKey("stream") && !(body.getValue("stream") instanceof Boolean)) {
            return "stream: Input should be a valid boolean";
        }
        String problem = system(body.getValue("system"));
        if (problem == null) {
            problem = messages(body.getValue("messages"));
        }
        if (problem == null) {
            problem = stopSequences(body.getValue("stop_sequences"));
        }
        if (problem == null) {
            problem = tools(body.getValue("tools"));
        }
        if (problem == null) {
            problem = toolChoice(body.getValue("tool_choice"));
        }
        if (problem == null && body.containsKey("metadata")) {
            problem = metadata(body.getValue("metadata"));
        }
        if (problem == null && breakpoints > MAX_BREAKPOINTS) {
            problem = "A maximum of " + MAX_BREAKPOINTS + " blocks with cache_control may be provided. Found "
                    + breakpoints + ".";
        }
        return problem;
    }

    private static String sampling(JsonObject body, boolean removed) {
        for (String field : List.of("temperature", "top_p", "top_k")) {
            if (!body.containsKey(field)) {
                continue;
            }
            if (removed) {
                return field + ": Extra inputs are not permitted";
            }
            if (!(body.getValue(field) instanceof Number n)) {
                return field + ": Input should be a valid number";
            }
            if (field.equals("top_k") ? n.doubleValue() < 0 || n.doubleValue() != Math.rint(n.doubleValue())
                    : n.doubleValue() < 0 || n.doubleValue() > 1) {
                return field + (field.equals("top_k") ? ": Input should be a non-negative integer"
                        : ": Input should be less than or equal to 1");
            }
        }
        return null;
    }

    private String system(Object system) {
        if (system == null || system instanceof String) {
            return null;
        }
        if (!(system instanceof JsonArray blocks)) {
            return "system: Input should be a valid string or list of text blocks";
        }
        for (int i = 0; i < blocks.size(); i++) {
            String where = "system." + i;
            if (!(blocks.getValue(i) instanceof JsonObject block) || !"text".equals(block.getValue("type"))) {
                return where + ".type: Input should be 'text'";
            }
            String problem = text(block, where);
            if (problem == null && block.containsKey("cache_control")) {
                problem = cacheControl(block.getValue("cache_control"), where + ".cache_control");
            }
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    /** A turn after the API's merging of consecutive same-role messages: its blocks and where each came from. */
    private record Turn(String role, int firstMessage, List<JsonObject> blocks, List<String> paths) {
    }

    private String messages(Object value) {
        if (!(value instanceof JsonArray messages)) {
            return "messages: Field required";
        }
        if (messages.isEmpty()) {
            return "messages: at least one message is required";
        }
        List<Turn> turns = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            String where = "messages." + i;
            if (!(messages.getValue(i) instanceof JsonObject message)) {
                return where + ": Input should be a valid dictionary";
            }
            Object role = message.getValue("role");
            if (!"user".equals(role) && !"assistant".equals(role)) {
                return where + ".role: Input should be 'user' or 'assistant'";
            }
            Object content = message.getValue("content");
            List<JsonObject> blocks = new ArrayList<>();
            List<String> paths = new ArrayList<>();
            if (content instanceof String text) {
                if (text.isEmpty()) {
                    return where + ": text content blocks must be non-empty";
                }
                if (text.isBlank()) {
                    return where + ": text content blocks must contain non-whitespace text";
                }
                blocks.add(new JsonObject().put("type", "text").put("text", text));
                paths.add(where + ".content");
            } else if (content instanceof JsonArray parts) {
                for (int j = 0; j < parts.size(); j++) {
                    String path = where + ".content." + j;
                    if (!(parts.getValue(j) instanceof JsonObject block)) {
                        return path + ": Input should be a valid dictionary";
                    }
                    String problem = block(block, path, (String) role);
                    if (problem != null) {
                        return problem;
                    }
                    blocks.add(block);
                    paths.add(path);
                }
            } else {
                return where + ".content: Field required";
            }
            Turn last = turns.isEmpty() ? null : turns.get(turns.size() - 1);
            if (last != null && last.role().equals(role)) {
                last.blocks().addAll(blocks);
                last.paths().addAll(paths);
            } else {
                turns.add(new Turn((String) role, i, blocks, paths));
            }
        }
        return toolResults(turns);
    }

    /** Every tool_use is answered at the start of the next user turn, and every tool_result answers one. */
    private static String toolResults(List<Turn> turns) {
        for (int t = 0; t < turns.size(); t++) {
            Turn turn = turns.get(t);
            Set<String> asked = new LinkedHashSet<>();
            if (t > 0 && turns.get(t - 1).role().equals("assistant")) {
                for (JsonObject block : turns.get(t - 1).blocks()) {
                    if ("tool_use".equals(block.getValue("type"))) {
                        asked.add(String.valueOf(block.getValue("id")));
                    }
                }
            }
            if (!turn.role().equals("user")) {
                continue;
            }
            Set<String> answered = new LinkedHashSet<>();
            boolean leading = true;
            for (int b = 0; b < turn.blocks().size(); b++) {
                JsonObject block = turn.blocks().get(b);
                if (!"tool_result".equals(block.getValue("type"))) {
                    leading = false;
                    continue;
                }
                String id = String.valueOf(block.getValue("tool_use_id"));
                if (!asked.contains(id)) {
                    return turn.paths().get(b) + ": unexpected `tool_use_id` found in `tool_result` blocks: " + id
                            + ". Each `tool_result` block must have a corresponding `tool_use` block in the previous"
                            + " message.";
                }
                if (leading) {
                    answered.add(id);
                }
            }
            asked.removeAll(answered);
            if (!asked.isEmpty()) {
                return "messages." + turn.firstMessage() + ": `tool_use` ids were found without `tool_result` blocks"
                        + " immediately after: " + String.join(", ", asked) + ". Each `tool_use` block must have a"
                        + " corresponding `tool_result` block in the next message.";
            }
        }
        Turn last = turns.get(turns.size() - 1);
        if (last.role().equals("assistant") && last.blocks().stream()
                .anyMatch(block -> "tool_use".equals(block.getValue("type")))) {
            return "messages." + last.firstMessage() + ": `tool_use` ids were found without `tool_result` blocks"
                    + " immediately after. Each `tool_use` block must have a corresponding `tool_result` block in"
                    + " the next message.";
        }
        return null;
    }

    private String block(JsonObject block, String where, String role) {
        Object type = block.getValue("type");
        if (!(type instanceof String name) || !BLOCK_TYPES.contains(name)) {
            return where + ".type: Input tag '" + type + "' found using 'type' does not match any of the expected"
                    + " tags";
        }
        if (block.containsKey("cache_control")) {
            String problem = cacheControl(block.getValue("cache_control"), where + ".cache_control");
            if (problem != null) {
                return problem;
            }
        }
        return switch (name) {
            case "text" -> text(block, where);
            case "image" -> "user".equals(role) ? image(block, where) : where + ": images are only allowed in user"
                    + " messages";
            case "tool_use" -> {
                if (!"assistant".equals(role)) {
                    yield where + ": tool_use blocks are only allowed in assistant messages";
                }
                if (!(block.getValue("id") instanceof String) || !(block.getValue("name") instanceof String)) {
                    yield where + ": tool_use blocks need an id and a name";
                }
                yield block.getValue("input") instanceof JsonObject ? null
                        : where + ".input: Input should be a valid dictionary";
            }
            case "tool_result" -> {
                if (!"user".equals(role)) {
                    yield where + ": tool_result blocks are only allowed in user messages";
                }
                if (!(block.getValue("tool_use_id") instanceof String)) {
                    yield where + ".tool_use_id: Field required";
                }
                yield toolResultContent(block.getValue("content"), where + ".content");
            }
            default -> null;
        };
    }

    private String text(JsonObject block, String where) {
        if (!(block.getValue("text") instanceof String text)) {
            return where + ".text: Field required";
        }
        if (text.isEmpty()) {
            return where + ": text content blocks must be non-empty";
        }
        if (text.isBlank()) {
            return where + ": text content blocks must contain non-whitespace text";
        }
        return null;
    }

    private String toolResultContent(Object content, String where) {
        if (content == null || content instanceof String) {
            return null;
        }
        if (!(content instanceof JsonArray parts)) {
            return where + ": Input should be a valid string or list of blocks";
        }
        for (int i = 0; i < parts.size(); i++) {
            if (!(parts.getValue(i) instanceof JsonObject part)) {
                return where + "." + i + ": Input should be a valid dictionary";
            }
            String problem = "image".equals(part.getValue("type")) ? image(part, where + "." + i)
                    : "text".equals(part.getValue("type")) ? text(part, where + "." + i)
                    : where + "." + i + ".type: Input should be 'text', 'image', 'document' or 'search_result'";
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    private static String image(JsonObject block, String where) {
        if (!(block.getValue("source") instanceof JsonObject source)) {
            return where + ".source: Field required";
        }
        return switch (String.valueOf(source.getValue("type"))) {
            case "base64" -> !MEDIA_TYPES.contains(source.getValue("media_type"))
                    ? where + ".source.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or"
                    + " 'image/webp'"
                    : !(source.getValue("data") instanceof String data) || data.isEmpty()
                    ? where + ".source.data: Field required" : null;
            case "url" -> source.getValue("url") instanceof String url && url.startsWith("http")
                    ? null : where + ".source.url: Input should be a valid URL";
            case "file" -> source.getValue("file_id") instanceof String ? null : where + ".source.file_id: Field"
                    + " required";
            default -> where + ".source.type: Input tag '" + source.getValue("type") + "' found using 'type' does"
                    + " not match any of the expected tags: 'base64', 'url', 'file'";
        };
    }

    private static String stopSequences(Object value) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof JsonArray stops)) {
            return "stop_sequences: Input should be a valid list";
        }
        for (int i = 0; i < stops.size(); i++) {
            if (!(stops.getValue(i) instanceof String stop) || stop.isBlank()) {
                return "stop_sequences." + i + ": each stop sequence must contain non-whitespace";
            }
        }
        return null;
    }

    private String tools(Object value) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof JsonArray tools)) {
            return "tools: Input should be a valid list";
        }
        for (int i = 0; i < tools.size(); i++) {
            String where = "tools." + i;
            if (!(tools.getValue(i) instanceof JsonObject tool)) {
                return where + ": Input should be a valid dictionary";
            }
            Object type = tool.getValue("type");
            boolean custom = type == null || "custom".equals(type) || "".equals(type);
            if (!(tool.getValue("name") instanceof String name) || (custom && !name.matches("[a-zA-Z0-9_-]{1,128}"))) {
                return where + ".name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'";
            }
            if (custom && !(tool.getValue("input_schema") instanceof JsonObject schema
                    && "object".equals(schema.getValue("type")))) {
                return where + ".input_schema.type: Input should be 'object'";
            }
            if (tool.containsKey("cache_control")) {
                String problem = cacheControl(tool.getValue("cache_control"), where + ".cache_control");
                if (problem != null) {
                    return problem;
                }
            }
        }
        return null;
    }

    private static String toolChoice(Object value) {
        if (value == null) {
            return null;
        }
        if (!(value instanceof JsonObject choice) || !TOOL_CHOICES.contains(choice.getValue("type"))) {
            return "tool_choice.type: Input tag found using 'type' does not match any of the expected tags: 'auto',"
                    + " 'any', 'tool', 'none'";
        }
        if ("tool".equals(choice.getValue("type")) && !(choice.getValue("name") instanceof String)) {
            return "tool_choice.name: Field required";
        }
        if ("none".equals(choice.getValue("type")) && choice.containsKey("disable_parallel_tool_use")) {
            return "tool_choice.disable_parallel_tool_use: Extra inputs are not permitted";
        }
        return null;
    }

    private static String metadata(Object value) {
        if (!(value instanceof JsonObject metadata)) {
            return "metadata: Input should be a valid dictionary";
        }
        for (String field : metadata.fieldNames()) {
            if (!field.equals("user_id")) {
                return "metadata." + field + ": Extra inputs are not permitted";
            }
        }
        Object user = metadata.getValue("user_id");
        return user == null || user instanceof String ? null : "metadata.user_id: Input should be a valid string";
    }

    private String cacheControl(Object value, String where) {
        if (!(value instanceof JsonObject control) || !"ephemeral".equals(control.getValue("type"))) {
            return where + ".type: Input should be 'ephemeral'";
        }
        Object ttl = control.getValue("ttl");
        if (ttl != null && !"5m".equals(ttl) && !"1h".equals(ttl)) {
            return where + ".ttl: Input should be '5m' or '1h'";
        }
        breakpoints++;
        return null;
    }
}
