package co.corouter.provider.openai;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One allocation-free pass over an SSE {@code data:} payload, so ordinary content deltas are never parsed.
 * It checks that the payload is shaped like one JSON object (balanced brackets, terminated strings, only
 * JSON tokens between them), notices keys whose values need a real parse ({@code usage},
 * {@code finish_reason} or {@code error} with a non-null value), and records where the {@code content} and
 * {@code arguments} string values are, so the text can be kept, still escaped, for a token count later. It also
 * records where the top-level {@code id} and {@code model} string values are, so they can be replaced by splicing.
 *
 * <p>Not a validator: {@code {"a" 1}} passes. It exists to reject truncated or non-JSON lines cheaply;
 * payloads that need parsing are parsed for real.
 */
final class PayloadScanner {

    private static final byte[][] PARSE_KEYS = {bytes("usage"), bytes("finish_reason"), bytes("error")};
    private static final byte[][] TEXT_KEYS = {bytes("content"), bytes("arguments")};
    private static final byte[] ID = bytes("id");
    private static final byte[] MODEL = bytes("model");
    private static final int NO_STAMP = 0;
    private static final int ID_VALUE = 1;
    private static final int MODEL_VALUE = 2;

    private boolean needsParse;
    /** {@code [start, end)} of the last payload's top-level {@code id}/{@code model} string value, quotes included. */
    private int idStart = -1;
    private int idEnd = -1;
    private int modelStart = -1;
    private int modelEnd = -1;
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

    /** Where the last payload's top-level {@code id} string value starts (its opening quote), or -1. */
    int idStart() {
        return idStart;
    }

    /** Just past the closing quote of the top-level {@code id} value, or -1. */
    int idEnd() {
        return idEnd;
    }

    /** Where the last payload's top-level {@code model} string value starts (its opening quote), or -1. */
    int modelStart() {
        return modelStart;
    }

    /** Just past the closing quote of the top-level {@code model} value, or -1. */
    int modelEnd() {
        return modelEnd;
    }

    /** Scans {@code data[from, to)}; false when it cannot be a JSON object. */
    boolean scan(byte[] data, int from, int to) {
        needsParse = false;
        textRangeCount = 0;
        idStart = idEnd = modelStart = modelEnd = -1;
        int i = skipWhitespace(data, from, to);
        if (i >= to || data[i] != '{') {
            return false;
        }
        int depth = 0;
        boolean closed = false;
        boolean textValueNext = false;
        int stampValueNext = NO_STAMP;
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
                        boolean stringValue = value < to && data[value] == '"';
                        textValueNext = stringValue && matchesAny(TEXT_KEYS, data, start, end);
                        stampValueNext = !stringValue || depth != 1 ? NO_STAMP
                                : matches(ID, data, start, end) ? ID_VALUE
                                : matches(MODEL, data, start, end) ? MODEL_VALUE : NO_STAMP;
                        i = value;
                    } else {
                        if (textValueNext && end > start) {
                            recordText(start, end);
                        }
                        if (stampValueNext == ID_VALUE) {
                            idStart = start - 1;
                            idEnd = end + 1;
                        } else if (stampValueNext == MODEL_VALUE) {
                            modelStart = start - 1;
                            modelEnd = end + 1;
                        }
                        textValueNext = false;
                        stampValueNext = NO_STAMP;
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
            stampValueNext = NO_STAMP;
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
            if (matches(key, data, start, end)) {
                return true;
            }
        }
        return false;
    }

    private static boolean matches(byte[] key, byte[] data, int start, int end) {
        return key.length == end - start && Arrays.equals(key, 0, key.length, data, start, end);
    }

    private static byte[] bytes(String key) {
        return key.getBytes(StandardCharsets.US_ASCII);
    }
}
