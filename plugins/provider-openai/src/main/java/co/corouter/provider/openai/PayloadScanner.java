package co.corouter.provider.openai;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One allocation-free pass over an SSE {@code data:} payload, so ordinary content deltas are never parsed.
 * It checks that the payload is shaped like one JSON object (balanced brackets, terminated strings, only
 * JSON tokens between them), notices keys whose values need a real parse ({@code usage},
 * {@code finish_reason} or {@code error} with a non-null value), and records where the {@code content} and
 * {@code arguments} string values are, so the text can be kept, still escaped, for a token count later.
 *
 * <p>Not a validator: {@code {"a" 1}} passes. It exists to reject truncated or non-JSON lines cheaply;
 * payloads that need parsing are parsed for real.
 */
final class PayloadScanner {

    private static final byte[][] PARSE_KEYS = {bytes("usage"), bytes("finish_reason"), bytes("error")};
    private static final byte[][] TEXT_KEYS = {bytes("content"), bytes("arguments")};

    private boolean needsParse;
    /** {@code [start, end)} pairs of the last payload's non-empty text values, inside their quotes; reused. */
    private int[] textRanges = new int[8];
    private int textRangeCount;

    /** True when the payload needs a real JSON parse. Valid after {@link #scan} returned true. */
    boolean needsParse() {
        return needsParse;
    }

    /**
     * Appends the {@code content}/{@code arguments} string values of the last scanned payload to {@code text}, as
     * the escaped bytes between their quotes. Valid after {@link #scan} returned true, with the same {@code data}.
     */
    void appendText(byte[] data, Buffer text) {
        for (int i = 0; i < textRangeCount; i += 2) {
            text.appendBytes(data, textRanges[i], textRanges[i + 1] - textRanges[i]);
        }
    }

    /** Scans {@code data[from, to)}; false when it cannot be a JSON object. */
    boolean scan(byte[] data, int from, int to) {
        needsParse = false;
        textRangeCount = 0;
        int i = skipWhitespace(data, from, to);
        if (i >= to || data[i] != '{') {
            return false;
        }
        int depth = 0;
        boolean closed = false;
        boolean textValueNext = false;
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
                    while (j < to && data[j] != '"') {
                        byte d = data[j];
                        if (d == '\\') {
                            j += j + 1 < to && data[j + 1] == 'u' ? 6 : 2;
                        } else if (d >= 0 && d < 0x20) {
                            return false;
                        } else {
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
                        textValueNext = value < to && data[value] == '"' && matchesAny(TEXT_KEYS, data, start, end);
                        i = colon + 1;
                    } else {
                        if (textValueNext && end > start) {
                            recordText(start, end);
                        }
                        textValueNext = false;
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
            textValueNext = false;
            i++;
        }
        return closed;
    }

    private void recordText(int start, int end) {
        if (textRangeCount == textRanges.length) {
            textRanges = Arrays.copyOf(textRanges, textRanges.length * 2);
        }
        textRanges[textRangeCount++] = start;
        textRanges[textRangeCount++] = end;
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
