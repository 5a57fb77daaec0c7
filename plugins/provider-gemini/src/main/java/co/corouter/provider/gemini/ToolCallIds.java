package co.corouter.provider.gemini;

import java.util.UUID;
import java.util.regex.Pattern;

/**
 * OpenAI tool-call ids for Gemini's function calls, which mostly come without one (spec §7). An id is Gemini's own
 * {@code functionCall.id} when it sent one, else {@code call_} and 24 random hex digits; when the part carried a
 * {@code thoughtSignature}, the id also carries it ({@code <id>__thought__<signature>}, LiteLLM's encoding), because
 * Gemini 3 refuses a tool loop whose history lost the signature and OpenAI clients keep nothing but the id. The next
 * request splits it back out.
 */
final class ToolCallIds {

    static final String SIGNATURE_SEPARATOR = "__thought__";
    private static final Pattern BASE64 = Pattern.compile("[A-Za-z0-9+/_-]+={0,2}");

    private ToolCallIds() {
    }

    /** The id an OpenAI client sees for a function call. */
    static String of(String geminiId, String thoughtSignature) {
        String id = geminiId != null && !geminiId.isBlank() ? geminiId
                : "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
        boolean signed = thoughtSignature != null && !thoughtSignature.isEmpty();
        return signed ? id + SIGNATURE_SEPARATOR + thoughtSignature : id;
    }

    /** The thought signature an id carries, or null (also for an id another gateway made). */
    static String signature(String openAiId) {
        if (openAiId == null) {
            return null;
        }
        int at = openAiId.indexOf(SIGNATURE_SEPARATOR);
        if (at < 0) {
            return null;
        }
        String signature = openAiId.substring(at + SIGNATURE_SEPARATOR.length());
        return BASE64.matcher(signature).matches() ? signature : null;
    }
}
