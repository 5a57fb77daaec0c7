package co.corouter.server.metering;

import co.corouter.plugin.api.ContentJson;
import co.corouter.plugin.api.TokenCounter;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;

/**
 * Counts tokens with a real BPE tokenizer (jtokkit, {@code o200k_base}: the encoding of OpenAI's current models)
 * for usage an upstream did not report. Thread-safe; handed to provider plugins as their {@link TokenCounter}.
 *
 * <p>A chat prompt is counted the way OpenAI frames it: every message costs its text plus
 * {@value #TOKENS_PER_MESSAGE} tokens of framing (plus one for a name), the reply is primed with
 * {@value #REPLY_PRIMING} more, and tool definitions count as their JSON text.
 */
public final class Tokenizer implements TokenCounter {

    static final int TOKENS_PER_MESSAGE = 3;
    static final int REPLY_PRIMING = 3;

    private final Encoding encoding = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.O200K_BASE);

    @Override
    public int count(CharSequence text) {
        return text.length() == 0 ? 0 : encoding.countTokensOrdinary(text.toString());
    }

    /**
     * Prompt tokens of a validated chat-completions body: message texts (string contents, text parts, names,
     * tool-call names and arguments) with their framing, plus the {@code tools} definitions. Linear in the body;
     * large bodies belong on a worker thread.
     */
    public int countChatPrompt(Buffer body) {
        StringBuilder text = new StringBuilder(Math.min(body.length(), 1 << 16));
        int messages = 0;
        int names = 0;
        try (JsonParser parser = ContentJson.parser(body.getBytes())) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return 0;
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if ("messages".equals(field) && value == JsonToken.START_ARRAY) {
                    while (parser.nextToken() == JsonToken.START_OBJECT) {
                        messages++;
                        names += message(parser, text);
                    }
                } else if ("tools".equals(field) && value == JsonToken.START_ARRAY) {
                    int start = (int) parser.currentTokenLocation().getByteOffset();
                    parser.skipChildren();
                    int end = (int) parser.currentLocation().getByteOffset();
                    text.append(body.getString(start, end));
                } else {
                    parser.skipChildren();
                }
            }
        } catch (IOException e) {
            // the body was validated before it got here; count what was read
        }
        return count(text) + messages * TOKENS_PER_MESSAGE + names + REPLY_PRIMING;
    }

    /** One message object (parser on its START_OBJECT, left on its END_OBJECT); returns 1 when it has a name. */
    private static int message(JsonParser parser, StringBuilder text) throws IOException {
        int named = 0;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            JsonToken value = parser.nextToken();
            if (value == JsonToken.VALUE_STRING) {
                switch (field) {
                    case "content", "role", "tool_call_id" -> text.append(parser.getText()).append('\n');
                    case "name" -> {
                        text.append(parser.getText()).append('\n');
                        named = 1;
                    }
                    default -> {
                    }
                }
            } else if (value == JsonToken.START_ARRAY || value == JsonToken.START_OBJECT) {
                // content parts and tool calls: every "text", "name" and "arguments" string inside
                strings(parser, text);
            }
        }
        return named;
    }

    /** Appends the text-bearing strings of a nested value (parser on its start token, left on its end token). */
    private static void strings(JsonParser parser, StringBuilder text) throws IOException {
        int depth = 1;
        String field = null;
        while (depth > 0) {
            JsonToken token = parser.nextToken();
            if (token == null) {
                return;
            }
            switch (token) {
                case START_OBJECT, START_ARRAY -> depth++;
                case END_OBJECT, END_ARRAY -> depth--;
                case FIELD_NAME -> field = parser.currentName();
                case VALUE_STRING -> {
                    if ("text".equals(field) || "name".equals(field) || "arguments".equals(field)) {
                        text.append(parser.getText()).append('\n');
                    }
                }
                default -> {
                }
            }
        }
    }
}
