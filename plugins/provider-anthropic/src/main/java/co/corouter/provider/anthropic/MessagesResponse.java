package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A whole Anthropic Message as an OpenAI chat completion (specs/anthropic-messages.md §6.2): its {@code text} blocks
 * concatenated into {@code message.content} ({@code null} when there is none but tool calls), its {@code tool_use}
 * blocks as {@code tool_calls} (arguments = the input as a JSON string), its {@code thinking} as
 * {@code message.reasoning}, its stop reason as {@link StopReasons#finishReason the finish reason} and its usage in
 * OpenAI's shape. The completion carries the request's generation id and response model.
 *
 * <p>A Message without usage is counted with the host's {@link TokenCounter} (its text, reasoning and tool
 * arguments), capped at the request's {@code max_tokens} the upstream was held to, and the host counts the prompt.
 */
final class MessagesResponse {

    private MessagesResponse() {
    }

    /** The completion for a 2xx answer's body; BAD_RESPONSE when it is not a Message. */
    static ChatCompletion completion(int status, Buffer body, ChatRequest chat, TokenCounter tokens) {
        JsonObject message;
        try {
            message = new JsonObject(body);
        } catch (RuntimeException notJson) {
            throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent a message that is not JSON");
        }
        if (!(message.getValue("content") instanceof JsonArray content)) {
            throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent a message without content");
        }
        StringBuilder text = new StringBuilder();
        StringBuilder reasoning = new StringBuilder();
        StringBuilder arguments = new StringBuilder();
        JsonArray toolCalls = new JsonArray();
        for (Object item : content) {
            if (!(item instanceof JsonObject block)) {
                throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent a content block that is not"
                        + " an object");
            }
            switch (block.getValue("type") instanceof String type ? type : "") {
                case "text" -> text.append(block.getValue("text") instanceof String piece ? piece : "");
                case "thinking" -> reasoning.append(block.getValue("thinking") instanceof String piece ? piece : "");
                case "tool_use" -> {
                    String input = (block.getValue("input") instanceof JsonObject object ? object : new JsonObject())
                            .encode();
                    arguments.append(input);
                    toolCalls.add(new JsonObject()
                            .put("id", block.getValue("id"))
                            .put("type", "function")
                            .put("function", new JsonObject().put("name", block.getValue("name"))
                                    .put("arguments", input)));
                }
                default -> {
                    // redacted thinking, server-tool blocks: nothing an OpenAI client can use
                }
            }
        }
        String finishReason = StopReasons.finishReason(message.getValue("stop_reason") instanceof String reason
                ? reason : null);
        Usage usage = Usages.reported(message.getValue("usage"));
        if (usage == null) {
            int counted = tokens.count(text.toString() + reasoning + arguments);
            usage = Usage.estimatedCompletion(chat.maxTokens() > 0 ? Math.min(counted, chat.maxTokens()) : counted);
        }
        JsonObject assistant = new JsonObject().put("role", "assistant")
                .put("content", text.isEmpty() && !toolCalls.isEmpty() ? null : text.toString());
        if (!reasoning.isEmpty()) {
            assistant.put("reasoning", reasoning.toString());
        }
        if (!toolCalls.isEmpty()) {
            assistant.put("tool_calls", toolCalls);
        }
        JsonObject completion = new JsonObject()
                .put("id", chat.generationId())
                .put("object", "chat.completion")
                .put("created", System.currentTimeMillis() / 1000)
                .put("model", chat.responseModel())
                .put("choices", new JsonArray().add(new JsonObject()
                        .put("index", 0)
                        .put("message", assistant)
                        .putNull("logprobs")
                        .put("finish_reason", finishReason)))
                .put("usage", openAiUsage(usage));
        return new ChatCompletion(completion, usage, null, finishReason);
    }

    /** A usage in OpenAI's (and OpenRouter's) shape. */
    private static JsonObject openAiUsage(Usage usage) {
        return new JsonObject()
                .put("prompt_tokens", usage.promptTokens())
                .put("completion_tokens", usage.completionTokens())
                .put("total_tokens", usage.totalTokens())
                .put("prompt_tokens_details", new JsonObject().put("cached_tokens", usage.cachedTokens())
                        .put("cache_write_tokens", usage.cacheWriteTokens()))
                .put("completion_tokens_details", new JsonObject().put("reasoning_tokens", usage.reasoningTokens()));
    }
}
