package co.corouter.provider.gemini;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts Gemini's {@code alt=sse} body into JSON payloads, one upstream read at a time (spec §4). An event is its
 * {@code data:} lines (several are joined with newlines) up to a blank line; lines end with {@code \n}, {@code \r\n} or
 * {@code \r}, and a read may end anywhere, inside a line or a UTF-8 character. Comments and {@code event:}/{@code id:}/
 * {@code retry:} lines are skipped. Any other line is JSON outside the SSE framing — Gemini has been seen to send a
 * pretty-printed {@code {"error":…}} (or {@code [{"error":…}]}) that way — and is collected, counting braces outside
 * strings, until its object closes; the brackets and commas of an array of objects are skipped, so its elements come
 * out one by one as they complete.
 *
 * <p>Not thread-safe: one instance per stream, on its event loop.
 */
final class GeminiEventReader {

    private static final byte[] NO_BYTES = new byte[0];

    private byte[] tail = NO_BYTES;
    private final StringBuilder data = new StringBuilder();
    private boolean hasData;
    private final StringBuilder raw = new StringBuilder();
    private int depth;
    private boolean inString;
    private boolean escaped;

    /** The payloads completed by {@code read}, in order (often none, or one). */
    List<String> accept(Buffer read) {
        List<String> payloads = new ArrayList<>(1);
        byte[] bytes = tail.length == 0 ? read.getBytes() : concat(tail, read.getBytes());
        int lineStart = 0;
        for (int i = 0; i < bytes.length; i++) {
            byte b = bytes[i];
            if (b != '\n' && b != '\r') {
                continue;
            }
            if (b == '\r' && i + 1 == bytes.length) {
                break; // the \n of a \r\n may come with the next read
            }
            line(new String(bytes, lineStart, i - lineStart, StandardCharsets.UTF_8), payloads);
            if (b == '\r' && bytes[i + 1] == '\n') {
                i++;
            }
            lineStart = i + 1;
        }
        tail = lineStart == bytes.length ? NO_BYTES : Arrays.copyOfRange(bytes, lineStart, bytes.length);
        return payloads;
    }

    /** The body ended: what is left counts as terminated (an unfinished raw JSON is returned as it is, to fail). */
    List<String> end() {
        List<String> payloads = new ArrayList<>(1);
        if (tail.length > 0) {
            byte[] last = tail;
            tail = NO_BYTES;
            int length = last[last.length - 1] == '\r' ? last.length - 1 : last.length;
            line(new String(last, 0, length, StandardCharsets.UTF_8), payloads);
        }
        if (depth == 0) {
            line("", payloads); // the blank line the last event may lack
        } else {
            payloads.add(raw.toString());
            raw.setLength(0);
            depth = 0;
        }
        return payloads;
    }

    private void line(String line, List<String> payloads) {
        if (depth > 0) {
            scanRaw(line, payloads);
            return;
        }
        if (line.isEmpty()) {
            if (hasData) {
                payloads.add(data.toString());
                data.setLength(0);
                hasData = false;
            }
        } else if (line.startsWith("data:")) {
            int from = line.length() > 5 && line.charAt(5) == ' ' ? 6 : 5;
            if (hasData) {
                data.append('\n');
            }
            data.append(line, from, line.length());
            hasData = true;
        } else if (!line.startsWith(":") && !line.startsWith("event:") && !line.startsWith("id:")
                && !line.startsWith("retry:")) {
            scanRaw(line, payloads);
        }
    }

    /** Collects JSON outside the framing; completes a payload when its outermost object closes. */
    private void scanRaw(String line, List<String> payloads) {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (depth == 0) {
                if (c == '{') {
                    raw.setLength(0);
                    raw.append(c);
                    depth = 1;
                    inString = false;
                    escaped = false;
                }
                continue; // whitespace, or the brackets and commas of a JSON array of events
            }
            raw.append(c);
            if (inString) {
                if (escaped) {
                    escaped = false;
                } else if (c == '\\') {
                    escaped = true;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                payloads.add(raw.toString());
                raw.setLength(0);
            }
        }
        if (depth > 0) {
            raw.append('\n');
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }
}
