package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cuts an SSE byte stream into events, one upstream read at a time, as the SSE standard and Anthropic's SDK parsers
 * do (specs/anthropic-messages.md §3.1, §3.5): lines end with {@code \n}, {@code \r\n} or {@code \r} (also when the
 * two bytes of a {@code \r\n} arrive in different reads); a blank line ends an event; {@code event:} names it,
 * {@code data:} lines are joined with {@code \n}; comment lines ({@code :}), {@code id:} and {@code retry:} are
 * ignored; a leading byte-order mark is skipped. A line is decoded as UTF-8 only once it is complete, so a character
 * split across reads is never mangled.
 *
 * <p>Not thread-safe: one instance per stream, used on that stream's event loop.
 */
final class SseDecoder {

    /** One event: its name ({@code message} when it had no {@code event:} line) and its data lines joined. */
    record Event(String name, String data) {
    }

    /** A line this long without an end is not an SSE stream worth buffering further. */
    static final int MAX_LINE_BYTES = 16 * 1024 * 1024;
    private static final byte[] NO_BYTES = new byte[0];

    private byte[] pending = NO_BYTES;
    private boolean afterCarriageReturn;
    private boolean firstLine = true;
    private String name;
    private StringBuilder data;

    /** The events the read completes, in order (possibly none). */
    List<Event> decode(Buffer read) {
        byte[] bytes = pending.length == 0 ? read.getBytes() : concat(pending, read.getBytes());
        List<Event> events = new ArrayList<>();
        int lineStart = 0;
        if (afterCarriageReturn && bytes.length > 0) {
            afterCarriageReturn = false;
            if (bytes[0] == '\n') {
                lineStart = 1;
            }
        }
        for (int i = lineStart; i < bytes.length; i++) {
            byte b = bytes[i];
            if (b != '\n' && b != '\r') {
                continue;
            }
            line(bytes, lineStart, i, events);
            if (b == '\r') {
                if (i + 1 < bytes.length) {
                    if (bytes[i + 1] == '\n') {
                        i++;
                    }
                } else {
                    afterCarriageReturn = true;
                }
            }
            lineStart = i + 1;
        }
        if (bytes.length - lineStart > MAX_LINE_BYTES) {
            throw new ProviderException(Kind.BAD_RESPONSE, 0, "upstream sent a stream line longer than "
                    + MAX_LINE_BYTES + " bytes");
        }
        pending = lineStart == bytes.length ? NO_BYTES : Arrays.copyOfRange(bytes, lineStart, bytes.length);
        return events;
    }

    /** The upstream ended its response: a last line and event left without their end count as ended. */
    List<Event> end() {
        List<Event> events = new ArrayList<>();
        if (pending.length > 0) {
            line(pending, 0, pending.length, events);
            pending = NO_BYTES;
        }
        line(NO_BYTES, 0, 0, events);
        return events;
    }

    private void line(byte[] bytes, int from, int to, List<Event> events) {
        int start = from;
        if (firstLine) {
            firstLine = false;
            if (to - start >= 3 && bytes[start] == (byte) 0xEF && bytes[start + 1] == (byte) 0xBB
                    && bytes[start + 2] == (byte) 0xBF) {
                start += 3;
            }
        }
        if (start == to) {
            if (data != null) {
                events.add(new Event(name == null ? "message" : name, data.toString()));
            }
            name = null;
            data = null;
            return;
        }
        if (bytes[start] == ':') {
            return;
        }
        String line = new String(bytes, start, to - start, StandardCharsets.UTF_8);
        int colon = line.indexOf(':');
        String field = colon < 0 ? line : line.substring(0, colon);
        String value = colon < 0 ? "" : line.substring(colon + 1);
        if (value.startsWith(" ")) {
            value = value.substring(1);
        }
        if (field.equals("event")) {
            name = value;
        } else if (field.equals("data")) {
            if (data == null) {
                data = new StringBuilder(value);
            } else {
                data.append('\n').append(value);
            }
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }
}
