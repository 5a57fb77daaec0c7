package co.corouter.provider.gemini;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import co.corouter.provider.gemini.CandidateParts.Call;
import co.corouter.provider.gemini.CandidateParts.Piece;
import co.corouter.provider.gemini.CandidateParts.Text;
import co.corouter.provider.gemini.CandidateParts.Thought;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A whole {@code GenerateContentResponse} as an OpenAI chat completion (spec §3, §7): the first candidate's text
 * parts concatenated into {@code message.content}, its thoughts into {@code message.reasoning}, its function calls into
 * {@code message.tool_calls} (arguments as JSON strings, ids from {@link ToolCallIds}), the finish reason mapped by
 * {@link FinishReasons}, and {@code usageMetadata} read by {@link GeminiUsage}. A blocked prompt ({@code
 * promptFeedback}, no candidates) is an empty {@code content_filter} answer; a response with neither is {@link
 * Kind#BAD_RESPONSE}.
 */
final class GeminiCompletion {

    private GeminiCompletion() {
    }

    static ChatCompletion of(int status, Buffer body, ChatRequest chat, TokenCounter tokens) {
        JsonObject response;
        try {
            response = new JsonObject(body);
        } catch (RuntimeException notJson) {
            throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent a response that is not JSON");
        }
        if (GeminiErrors.isError(response)) {
            throw GeminiErrors.ofStreamError(response);
        }
        JsonObject candidate = CandidateParts.firstCandidate(response);
        StringBuilder content = new StringBuilder();
        StringBuilder reasoning = new StringBuilder();
        StringBuilder arguments = new StringBuilder();
        JsonArray toolCalls = new JsonArray();
        String finishReason;
        if (candidate == null) {
            if (!(response.getValue("promptFeedback") instanceof JsonObject feedback)
                    || !(feedback.getValue("blockReason") instanceof String)) {
                throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent a response without candidates");
            }
            finishReason = FinishReasons.CONTENT_FILTER;
        } else {
            for (Piece piece : CandidateParts.of(candidate)) {
                if (piece instanceof Text text) {
                    content.append(text.text());
                } else if (piece instanceof Thought thought) {
                    reasoning.append(thought.text());
                } else if (piece instanceof Call call) {
                    toolCalls.add(new JsonObject()
                            .put("id", ToolCallIds.of(call.id(), call.thoughtSignature()))
                            .put("type", "function")
                            .put("function", new JsonObject().put("name", call.name())
                                    .put("arguments", call.arguments())));
                    arguments.append(call.arguments());
                }
            }
            finishReason = FinishReasons.of(candidate.getValue("finishReason") instanceof String r ? r : null,
                    !toolCalls.isEmpty());
        }
        Usage usage = GeminiUsage.reported(response.getValue("usageMetadata"));
        if (usage == null) {
            int counted = tokens.count(content.toString() + reasoning + arguments);
            usage = Usage.estimatedCompletion(chat.maxTokens() > 0 ? Math.min(counted, chat.maxTokens()) : counted);
        }
        JsonObject message = new JsonObject().put("role", "assistant");
        if (toolCalls.isEmpty() || content.length() > 0) {
            message.put("content", content.toString());
        } else {
            message.putNull("content");
        }
        if (reasoning.length() > 0) {
            message.put("reasoning", reasoning.toString());
        }
        if (!toolCalls.isEmpty()) {
            message.put("tool_calls", toolCalls);
        }
        JsonObject completion = new JsonObject()
                .put("id", chat.generationId())
                .put("object", "chat.completion")
                .put("created", System.currentTimeMillis() / 1000)
                .put("model", chat.responseModel())
                .put("choices", new JsonArray().add(new JsonObject()
                        .put("index", 0)
                        .put("message", message)
                        .putNull("logprobs")
                        .put("finish_reason", finishReason)))
                .put("usage", usageJson(usage));
        return new ChatCompletion(completion, usage);
    }

    private static JsonObject usageJson(Usage usage) {
        return new JsonObject()
                .put("prompt_tokens", usage.promptTokens())
                .put("completion_tokens", usage.completionTokens())
                .put("total_tokens", usage.totalTokens())
                .put("prompt_tokens_details", new JsonObject().put("cached_tokens", usage.cachedTokens()))
                .put("completion_tokens_details", new JsonObject().put("reasoning_tokens", usage.reasoningTokens()));
    }
}
