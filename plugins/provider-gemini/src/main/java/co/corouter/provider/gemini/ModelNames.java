package co.corouter.provider.gemini;

import java.nio.charset.StandardCharsets;

/**
 * Gemini's two spellings of a model: the bare id in the URL path ({@code gemini-2.5-flash}) and the resource name in
 * bodies ({@code models/gemini-2.5-flash}). The catalog may give either.
 */
final class ModelNames {

    private static final String PREFIX = "models/";

    private ModelNames() {
    }

    /** The bare id, percent-encoded where it holds anything but {@code [A-Za-z0-9._-]}. */
    static String pathSegment(String model) {
        String bare = model.startsWith(PREFIX) ? model.substring(PREFIX.length()) : model;
        StringBuilder out = new StringBuilder(bare.length());
        for (byte b : bare.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                    || c == '-') {
                out.append(c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            }
        }
        return out.toString();
    }

    /** {@code models/{id}}, as {@code batchEmbedContents} repeats it in every request. */
    static String resourceName(String model) {
        return model.startsWith(PREFIX) ? model : PREFIX + model;
    }
}
