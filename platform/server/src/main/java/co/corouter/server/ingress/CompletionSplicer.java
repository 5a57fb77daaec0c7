package co.corouter.server.ingress;

import co.corouter.plugin.api.ContentJson;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;

/**
 * Writes a whole completion back to the client from the upstream's own bytes: corouter's fields first
 * ({@code id}, {@code model}, {@code provider}, {@code usage}), then every other top-level member of the upstream
 * object copied byte for byte. One streaming pass that never materialises the answer (no maps, no strings of
 * content) instead of a parse into objects and a re-encode.
 */
final class CompletionSplicer {

    private CompletionSplicer() {
    }

    /**
     * @param head  corouter's members, already encoded, without braces: {@code "id":"..","model":..,"usage":{..}}
     * @param names the member names {@code head} defines; the upstream's members of the same names are dropped
     */
    static Buffer splice(Buffer upstream, Buffer head, String... names) {
        byte[] bytes = upstream.getBytes();
        Buffer out = Buffer.buffer(bytes.length + head.length() + 16).appendByte((byte) '{').appendBuffer(head);
        try (JsonParser parser = ContentJson.parser(bytes)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw notAnObject();
            }
            JsonToken token = parser.nextToken();
            while (token == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                int start = (int) parser.currentTokenLocation().getByteOffset();
                parser.nextToken();
                parser.skipChildren();
                token = parser.nextToken();
                // the member ends where the next token starts, less the separator and whitespace before it
                int end = trimSeparator(bytes, (int) parser.currentTokenLocation().getByteOffset(), token);
                if (!dropped(name, names)) {
                    out.appendByte((byte) ',').appendBytes(bytes, start, end - start);
                }
            }
            if (token != JsonToken.END_OBJECT || parser.nextToken() != null) {
                throw notAnObject();
            }
        } catch (IOException e) {
            throw notAnObject();
        }
        return out.appendByte((byte) '}');
    }

    private static int trimSeparator(byte[] bytes, int next, JsonToken token) {
        int end = next;
        if (token == JsonToken.FIELD_NAME) {
            end = skipBackWhitespace(bytes, end);
            if (end > 0 && bytes[end - 1] == ',') {
                end--;
            }
        }
        return skipBackWhitespace(bytes, end);
    }

    private static int skipBackWhitespace(byte[] bytes, int end) {
        while (end > 0 && (bytes[end - 1] == ' ' || bytes[end - 1] == '\n' || bytes[end - 1] == '\r'
                || bytes[end - 1] == '\t')) {
            end--;
        }
        return end;
    }

    private static boolean dropped(String name, String[] names) {
        for (String n : names) {
            if (n.equals(name)) {
                return true;
            }
        }
        return false;
    }

    private static ApiException notAnObject() {
        return new ApiException(ErrorCodes.BAD_GATEWAY, "the provider sent a completion that is not a JSON object");
    }
}
