package co.corouter.server.ingress;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.routing.ModelCatalog;
import co.corouter.server.routing.Router;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Stage "validate": parses and checks a chat-completions body. Error messages name fields, never echo content.
 */
final class ChatRequestParser {

    /** A validated request. {@code maxTokens} is the completion cap credit is reserved for. */
    record ParsedChat(JsonObject body, ModelCatalog.Model model, boolean stream, int maxTokens, int bodyBytes) {
    }

    private final Router router;

    ChatRequestParser(Router router) {
        this.router = router;
    }

    ParsedChat parse(Buffer raw) {
        if (raw == null || raw.length() == 0) {
            throw bad("the request body is empty; send a JSON object");
        }
        JsonObject body;
        try {
            Object value = raw.toJsonValue();
            if (!(value instanceof JsonObject object)) {
                throw bad("the request body must be a JSON object");
            }
            body = object;
        } catch (DecodeException e) {
            throw bad("the request body is not valid JSON");
        }
        Object modelValue = body.getValue("model");
        if (!(modelValue instanceof String modelId) || modelId.isBlank()) {
            throw bad("'model' is required and must be a string");
        }
        Object messagesValue = body.getValue("messages");
        if (!(messagesValue instanceof JsonArray messages) || messages.isEmpty()) {
            throw bad("'messages' is required and must be a non-empty array");
        }
        for (int i = 0; i < messages.size(); i++) {
            if (!(messages.getValue(i) instanceof JsonObject message)) {
                throw bad("'messages[" + i + "]' must be an object");
            }
            if (!(message.getValue("role") instanceof String role)
                    || !(role.equals("system") || role.equals("user") || role.equals("assistant")
                    || role.equals("tool") || role.equals("developer") || role.equals("function"))) {
                throw bad("'messages[" + i + "].role' must be one of system, developer, user, assistant, tool");
            }
            Object content = message.getValue("content");
            if (content != null && !(content instanceof String) && !(content instanceof JsonArray)) {
                throw bad("'messages[" + i + "].content' must be a string or an array of content parts");
            }
        }
        Object streamValue = body.getValue("stream");
        if (streamValue != null && !(streamValue instanceof Boolean)) {
            throw bad("'stream' must be a boolean");
        }
        boolean stream = Boolean.TRUE.equals(streamValue);
        ModelCatalog.Model model = router.model(modelId);
        int maxTokens = model.maxOutputTokens();
        for (String field : new String[] {"max_tokens", "max_completion_tokens"}) {
            Object value = body.getValue(field);
            if (value == null) {
                continue;
            }
            if (!(value instanceof Number number) || number.doubleValue() != Math.rint(number.doubleValue())
                    || number.longValue() < 1) {
                throw bad("'" + field + "' must be a positive integer");
            }
            maxTokens = (int) Math.min(maxTokens, number.longValue());
        }
        for (String field : new String[] {"temperature", "top_p", "frequency_penalty", "presence_penalty"}) {
            Object value = body.getValue(field);
            if (value != null && !(value instanceof Number)) {
                throw bad("'" + field + "' must be a number");
            }
        }
        return new ParsedChat(body, model, stream, maxTokens, raw.length());
    }

    private static ApiException bad(String message) {
        return new ApiException(ErrorCodes.BAD_REQUEST, message);
    }
}
