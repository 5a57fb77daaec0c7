package co.corouter.server.ingress;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.routing.ModelCatalog;
import co.corouter.server.routing.Router;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import java.io.IOException;

/**
 * Stage "validate": checks a chat-completions body in one streaming pass, without building it into objects — the
 * body travels on as the client's bytes. Error messages name fields, never echo content.
 */
final class ChatRequestParser {

    /** A validated request. {@code maxTokens} is the completion cap credit is reserved for. */
    record ParsedChat(Buffer raw, ModelCatalog.Model model, boolean stream, int maxTokens, int bodyBytes) {
    }

    private static final JsonFactory JSON = new JsonFactory();
    private static final String[] TOKEN_CAPS = {"max_tokens", "max_completion_tokens"};
    private static final String[] NUMBERS = {"temperature", "top_p", "frequency_penalty", "presence_penalty"};

    private final Router router;

    ChatRequestParser(Router router) {
        this.router = router;
    }

    /** What one pass over the body found; checked afterwards in a fixed order, so errors do not depend on key order. */
    private static final class Scan {
        Object model;
        boolean messagesArray;
        int messageCount;
        String messageError;
        Object stream;
        final Object[] caps = new Object[TOKEN_CAPS.length];
        final boolean[] notNumbers = new boolean[NUMBERS.length];
    }

    ParsedChat parse(Buffer raw) {
        if (raw == null || raw.length() == 0) {
            throw bad("the request body is empty; send a JSON object");
        }
        Scan scan = new Scan();
        try (JsonParser parser = JSON.createParser(raw.getBytes())) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw notAnObject(raw);
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                member(name, value, parser, scan);
            }
            if (parser.currentToken() != JsonToken.END_OBJECT || parser.nextToken() != null) {
                throw bad("the request body is not valid JSON");
            }
        } catch (IOException e) {
            throw bad("the request body is not valid JSON");
        }
        if (!(scan.model instanceof String modelId) || modelId.isBlank()) {
            throw bad("'model' is required and must be a string");
        }
        if (!scan.messagesArray || scan.messageCount == 0) {
            throw bad("'messages' is required and must be a non-empty array");
        }
        if (scan.messageError != null) {
            throw bad(scan.messageError);
        }
        if (scan.stream != null && !(scan.stream instanceof Boolean)) {
            throw bad("'stream' must be a boolean");
        }
        boolean stream = Boolean.TRUE.equals(scan.stream);
        ModelCatalog.Model model = router.model(modelId);
        int maxTokens = model.maxOutputTokens();
        for (int i = 0; i < TOKEN_CAPS.length; i++) {
            Object value = scan.caps[i];
            if (value == null) {
                continue;
            }
            if (!(value instanceof Number number) || number.doubleValue() != Math.rint(number.doubleValue())
                    || number.longValue() < 1) {
                throw bad("'" + TOKEN_CAPS[i] + "' must be a positive integer");
            }
            maxTokens = (int) Math.min(maxTokens, number.longValue());
        }
        for (int i = 0; i < NUMBERS.length; i++) {
            if (scan.notNumbers[i]) {
                throw bad("'" + NUMBERS[i] + "' must be a number");
            }
        }
        return new ParsedChat(raw, model, stream, maxTokens, raw.length());
    }

    /** One top-level member; the parser is on its value and is left on the value's last token. */
    private static void member(String name, JsonToken value, JsonParser parser, Scan scan) throws IOException {
        switch (name) {
            case "model" -> scan.model = value == JsonToken.VALUE_STRING ? parser.getText() : skip(parser);
            case "messages" -> {
                scan.messagesArray = value == JsonToken.START_ARRAY;
                scan.messageCount = 0;
                scan.messageError = null;
                if (scan.messagesArray) {
                    messages(parser, scan);
                } else {
                    parser.skipChildren();
                }
            }
            case "stream" -> scan.stream = value == JsonToken.VALUE_TRUE ? Boolean.TRUE
                    : value == JsonToken.VALUE_FALSE ? Boolean.FALSE : value == JsonToken.VALUE_NULL ? null : skip(parser);
            default -> {
                for (int i = 0; i < TOKEN_CAPS.length; i++) {
                    if (TOKEN_CAPS[i].equals(name)) {
                        scan.caps[i] = value == JsonToken.VALUE_NUMBER_INT || value == JsonToken.VALUE_NUMBER_FLOAT
                                ? parser.getNumberValue() : value == JsonToken.VALUE_NULL ? null : skip(parser);
                        return;
                    }
                }
                for (int i = 0; i < NUMBERS.length; i++) {
                    if (NUMBERS[i].equals(name)) {
                        scan.notNumbers[i] = value != JsonToken.VALUE_NUMBER_INT
                                && value != JsonToken.VALUE_NUMBER_FLOAT && value != JsonToken.VALUE_NULL;
                        parser.skipChildren();
                        return;
                    }
                }
                parser.skipChildren();
            }
        }
    }

    /** The messages array (parser on its START_ARRAY, left on its END_ARRAY); keeps the first error. */
    private static void messages(JsonParser parser, Scan scan) throws IOException {
        JsonToken token;
        while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
            int i = scan.messageCount++;
            if (token != JsonToken.START_OBJECT) {
                parser.skipChildren();
                error(scan, "'messages[" + i + "]' must be an object");
                continue;
            }
            String role = null;
            boolean contentOk = true;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if ("role".equals(name)) {
                    role = value == JsonToken.VALUE_STRING ? parser.getText() : null;
                    parser.skipChildren();
                } else if ("content".equals(name)) {
                    contentOk = value == JsonToken.VALUE_STRING || value == JsonToken.START_ARRAY
                            || value == JsonToken.VALUE_NULL;
                    parser.skipChildren();
                } else {
                    parser.skipChildren();
                }
            }
            if (role == null || !(role.equals("system") || role.equals("user") || role.equals("assistant")
                    || role.equals("tool") || role.equals("developer") || role.equals("function"))) {
                error(scan, "'messages[" + i + "].role' must be one of system, developer, user, assistant, tool");
            } else if (!contentOk) {
                error(scan, "'messages[" + i + "].content' must be a string or an array of content parts");
            }
        }
    }

    private static void error(Scan scan, String message) {
        if (scan.messageError == null) {
            scan.messageError = message;
        }
    }

    /** Skips a value whose type is wrong for its field, returning a marker that fails the field's check. */
    private static Object skip(JsonParser parser) throws IOException {
        parser.skipChildren();
        return WRONG_TYPE;
    }

    private static final Object WRONG_TYPE = new Object();

    /** Why a body that does not start with an object is refused: not JSON at all, or JSON of another kind. */
    private static ApiException notAnObject(Buffer raw) {
        try {
            raw.toJsonValue();
        } catch (DecodeException e) {
            return bad("the request body is not valid JSON");
        }
        return bad("the request body must be a JSON object");
    }

    private static ApiException bad(String message) {
        return new ApiException(ErrorCodes.BAD_REQUEST, message);
    }
}
