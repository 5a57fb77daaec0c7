package co.corouter.provider.openai;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One allocation-free pass over an SSE {@code data:} payload, so ordinary content deltas are never parsed.
 * It checks that the payload is shaped like one JSON object (balanced brackets, terminated strings, only
 * JSON tokens between them), notices keys whose values need a real parse ({@code usage},
 * {@code finish_reason} or {@code error} with a non-null value), and counts the characters of
 * {@code content} and {@code arguments} string values for usage estimates.
 *
 * <p>Not a validator: {@code {"a" 1}} passes. It exists to reject truncated or non-JSON lines cheaply;
 * payloads that need parsing are parsed for real.
 */
final class PayloadScanner {

    private static final byte[][] PARSE_KEYS = {bytes("usage"), bytes("finish_reason"), bytes("error")};
    private static final byte[][] COUNT_KEYS = {bytes("content"), bytes("arguments")};

    private boolean needsParse;
    private long textChars;

    /** True when the payload needs a real JSON parse. Valid after {@link #scan} returned true. */
    boolean needsParse() {
        return needsParse;
    }

    /** Characters in {@code content}/{@code arguments} string values. Valid after {@link #scan}. */
    long textChars() {
        return textChars;
    }

    /** Scans {@code data[from, to)}; false when it cannot be a JSON object. */
    boolean scan(byte[] data, int from, int to) {
        needsParse = false;
        textChars = 0;
        int i = skipWhitespace(data, from, to);
        if (i >= to || data[i] != '{') {
            return false;
        }
        int depth = 0;
        boolean closed = false;
        boolean countNextString = false;
        while (i < to) {
            byte c = data[i];
            if (closed) {
                // after the outermost object closed only whitespace may follow
                if (!isWhitespace(c)) {
                    return false;
                }
                i++;
                continue;
            }
            switch (c) {
                case '"' -> {
                    int start = i + 1;
                    int j = start;
                    long chars = 0;
                    while (j < to && data[j] != '"') {
                        byte d = data[j];
                        if (d == '\\') {
                            j += j + 1 < to && data[j + 1] == 'u' ? 6 : 2;
                            chars++;
                        } else if (d >= 0 && d < 0x20) {
                            return false;
                        } else {
                            if ((d & 0xC0) != 0x80) {
                                chars++;
                            }
                            j++;
                        }
                    }
                    if (j >= to) {
                        return false;
                    }
                    int end = j;
                    i = j + 1;
                    int colon = skipWhitespace(data, i, to);
                    if (colon < to && data[colon] == ':') {
                        int value = skipWhitespace(data, colon + 1, to);
                        if (!isNull(data, value, to) && matchesAny(PARSE_KEYS, data, start, end)) {
                            needsParse = true;
                        }
                        countNextString = value < to && data[value] == '"' && matchesAny(COUNT_KEYS, data, start, end);
                        i = colon + 1;
                    } else {
                        if (countNextString) {
                            textChars += chars;
                        }
                        countNextString = false;
                    }
                    continue;
                }
                case '{', '[' -> depth++;
                case '}', ']' -> {
                    closed = --depth == 0;
                }
                default -> {
                    if (!isWhitespace(c) && !isScalarByte(c)) {
                        return false;
                    }
                }
            }
            countNextString = false;
            i++;
        }
        return closed;
    }

    private static boolean isScalarByte(byte c) {
        return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || c == ','
                || c == ':' || c == 't' || c == 'r' || c == 'u' || c == 'f' || c == 'a' || c == 'l' || c == 's'
                || c == 'n';
    }

    private static boolean isWhitespace(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    private static int skipWhitespace(byte[] data, int i, int to) {
        while (i < to && isWhitespace(data[i])) {
            i++;
        }
        return i;
    }

    private static boolean isNull(byte[] data, int i, int to) {
        return i + 4 <= to && data[i] == 'n' && data[i + 1] == 'u' && data[i + 2] == 'l' && data[i + 3] == 'l';
    }

    private static boolean matchesAny(byte[][] keys, byte[] data, int start, int end) {
        for (byte[] key : keys) {
            if (key.length == end - start && Arrays.equals(key, 0, key.length, data, start, end)) {
                return true;
            }
        }
        return false;
    }

    private static byte[] bytes(String key) {
        return key.getBytes(StandardCharsets.US_ASCII);
    }
}
