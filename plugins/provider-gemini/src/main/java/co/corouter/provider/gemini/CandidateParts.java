package co.corouter.provider.gemini;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The output of a candidate's {@code content.parts}, in part order: text, thoughts ({@code thought: true}, filtered on
 * that flag and never on a signature, spec pitfall 3) and function calls. Other parts (inline images, code execution)
 * are not output an OpenAI chat client can take and are skipped; so are empty texts (the carrier of a signature).
 */
final class CandidateParts {

    /** One piece of output. */
    sealed interface Piece permits Text, Thought, Call {
    }

    record Text(String text) implements Piece {
    }

    record Thought(String text) implements Piece {
    }

    /** A function call: its args as a JSON string (OpenAI's {@code arguments}), its id and its signature, if any. */
    record Call(String name, String arguments, String id, String thoughtSignature) implements Piece {
    }

    private CandidateParts() {
    }

    /** The first candidate of a GenerateContentResponse, or null. */
    static JsonObject firstCandidate(JsonObject response) {
        return response.getValue("candidates") instanceof JsonArray candidates && !candidates.isEmpty()
                && candidates.getValue(0) instanceof JsonObject candidate ? candidate : null;
    }

    static List<Piece> of(JsonObject candidate) {
        List<Piece> pieces = new ArrayList<>();
        if (candidate == null || !(candidate.getValue("content") instanceof JsonObject content)
                || !(content.getValue("parts") instanceof JsonArray parts)) {
            return pieces;
        }
        for (Object value : parts) {
            if (!(value instanceof JsonObject part)) {
                continue;
            }
            String signature = part.getValue("thoughtSignature") instanceof String s ? s : null;
            if (part.getValue("functionCall") instanceof JsonObject call && call.getValue("name") instanceof String n) {
                JsonObject args = call.getValue("args") instanceof JsonObject a ? a : new JsonObject();
                String id = call.getValue("id") instanceof String i && !i.isBlank() ? i : null;
                pieces.add(new Call(n, args.encode(), id, signature));
            } else if (part.getValue("text") instanceof String text && !text.isEmpty()) {
                pieces.add(Boolean.TRUE.equals(part.getValue("thought")) ? new Thought(text) : new Text(text));
            }
        }
        return pieces;
    }
}
