package co.corouter.testkit.anthropic;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The Message a {@link AnthropicBehaviour} answers to one request, before it is written whole or as events: its
 * content blocks cut into the pieces a stream sends, cut short at the request's {@code max_tokens} (one token per
 * non-empty piece), its stop reason and its usage.
 */
final class ScriptedAnswer {

    static final String SIGNATURE = "EqQBCgIYAhIMfakeSignature";

    /** One content block: {@code thinking}, {@code text} or {@code tool_use} (with its id and name). */
    record Block(String type, List<String> pieces, String toolId, String toolName) {

        String joined() {
            return String.join("", pieces);
        }
    }

    final String id;
    final String model;
    final List<Block> blocks;
    final String stopReason;
    final String stopSequence;
    final int outputTokens;
    final AnthropicBehaviour behaviour;

    private ScriptedAnswer(String id, String model, List<Block> blocks, String stopReason, String stopSequence,
                           int outputTokens, AnthropicBehaviour behaviour) {
        this.id = id;
        this.model = model;
        this.blocks = blocks;
        this.stopReason = stopReason;
        this.stopSequence = stopSequence;
        this.outputTokens = outputTokens;
        this.behaviour = behaviour;
    }

    /** The answer to {@code request} (already validated: it has a model and an integer max_tokens). */
    static ScriptedAnswer of(String id, JsonObject request, AnthropicBehaviour b) {
        int budget = request.getInteger("max_tokens");
        List<Block> wanted = new ArrayList<>();
        if (b.thinking != null) {
            wanted.add(new Block("thinking", split(b.thinking, b.thinkingChunks), null, null));
        }
        if (!b.text.isEmpty() || (b.thinking == null && b.tools.isEmpty())) {
            wanted.add(new Block("text", split(b.text, b.chunks), null, null));
        }
        for (AnthropicBehaviour.ToolUse tool : b.tools) {
            List<String> pieces = new ArrayList<>();
            pieces.add("");
            pieces.addAll(split(tool.inputJson(), b.toolFragments));
            wanted.add(new Block("tool_use", pieces, tool.id(), tool.name()));
        }
        List<Block> sent = new ArrayList<>();
        int tokens = 0;
        boolean truncated = false;
        for (Block block : wanted) {
            if (truncated) {
                break;
            }
            List<String> kept = new ArrayList<>();
            for (String piece : block.pieces()) {
                if (!piece.isEmpty() && tokens == budget) {
                    truncated = true;
                    break;
                }
                kept.add(piece);
                tokens += piece.isEmpty() ? 0 : 1;
            }
            boolean spent = kept.stream().anyMatch(piece -> !piece.isEmpty());
            if (!truncated || spent || sent.isEmpty()) {
                sent.add(new Block(block.type(), List.copyOf(kept), block.toolId(), block.toolName()));
            }
        }
        String stopReason = truncated ? "max_tokens"
                : b.stopReason != null ? b.stopReason : b.tools.isEmpty() ? "end_turn" : "tool_use";
        String stopSequence = null;
        if ("stop_sequence".equals(stopReason) && request.getValue("stop_sequences") instanceof JsonArray stops
                && !stops.isEmpty()) {
            stopSequence = String.valueOf(stops.getValue(0));
        }
        int output = b.outputTokens != null ? b.outputTokens : tokens == 0 && budget > 0 ? 1 : tokens;
        return new ScriptedAnswer(id, request.getString("model"), List.copyOf(sent), stopReason, stopSequence,
                Math.min(output, budget), b);
    }

    /** The whole Message, every field of the real one (nulls included). */
    JsonObject message() {
        JsonArray content = new JsonArray();
        for (Block block : blocks) {
            content.add(switch (block.type()) {
                case "thinking" -> new JsonObject().put("type", "thinking").put("thinking", block.joined())
                        .put("signature", SIGNATURE);
                case "text" -> new JsonObject().put("type", "text").put("text", block.joined()).putNull("citations");
                default -> new JsonObject().put("type", "tool_use").put("id", block.toolId())
                        .put("name", block.toolName()).put("input", toolInput(block.joined()));
            });
        }
        JsonObject message = envelope(content).put("stop_reason", stopReason).put("stop_sequence", stopSequence);
        if (!behaviour.omitUsage) {
            message.put("usage", usage(outputTokens));
        }
        return message;
    }

    /** The Message of {@code message_start}: no content, no stop reason, the input usage and one output token. */
    JsonObject startedMessage() {
        JsonObject message = envelope(new JsonArray()).putNull("stop_reason").putNull("stop_sequence");
        if (!behaviour.omitUsage) {
            message.put("usage", usage(1));
        }
        return message;
    }

    /** The {@code usage} of {@code message_delta}: cumulative output tokens. */
    JsonObject deltaUsage() {
        return new JsonObject().put("output_tokens", outputTokens);
    }

    private JsonObject envelope(JsonArray content) {
        return new JsonObject()
                .put("id", id)
                .put("type", "message")
                .put("role", "assistant")
                .put("model", model)
                .put("content", content)
                .putNull("stop_details")
                .putNull("container");
    }

    private JsonObject usage(int output) {
        return new JsonObject()
                .put("input_tokens", behaviour.inputTokens)
                .put("output_tokens", output)
                .put("cache_creation_input_tokens", behaviour.cacheCreationTokens)
                .put("cache_read_input_tokens", behaviour.cacheReadTokens)
                .put("cache_creation", new JsonObject()
                        .put("ephemeral_5m_input_tokens", behaviour.cacheCreationTokens)
                        .put("ephemeral_1h_input_tokens", 0))
                .putNull("server_tool_use")
                .put("service_tier", "standard");
    }

    /** A tool's input object; a tool input cut short by max_tokens is not JSON and becomes {@code {}}. */
    private static JsonObject toolInput(String json) {
        try {
            return new JsonObject(json);
        } catch (RuntimeException cutShort) {
            return new JsonObject();
        }
    }

    /** {@code text} in {@code pieces} nearly equal parts, piece {@code i} = {@code [i*n/pieces, (i+1)*n/pieces)}. */
    static List<String> split(String text, int pieces) {
        List<String> out = new ArrayList<>(pieces);
        for (int i = 0; i < pieces; i++) {
            String piece = text.substring(i * text.length() / pieces, (i + 1) * text.length() / pieces);
            if (!piece.isEmpty()) {
                out.add(piece);
            }
        }
        return out;
    }
}
