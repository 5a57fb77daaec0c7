package co.corouter.provider.openai;

import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.Usage;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Filters an upstream SSE byte stream into what the client should see, one upstream read at a time.
 * Complete events (ended by a blank line, any of {@code \n}, {@code \r\n}, {@code \r}) pass unchanged, except:
 * comment lines are dropped, {@code data: [DONE]} is dropped and ends the stream, a usage-only chunk (OpenAI sends
 * it last, just before {@code [DONE]}) is dropped, its usage kept, and ends the stream, a chunk with choices
 * that also carries usage loses its {@code usage} field, and the top-level {@code id} and {@code model} string values
 * of every forwarded chunk are replaced by the request's generation id and response model. That replacement is
 * spliced into the bytes where the scanner found the values: an ordinary delta is never parsed, and every other byte
 * of it is forwarded as it came. (A chunk without an {@code id} or {@code model} keeps its shape.)
 * An incomplete event is kept until the next read completes it.
 *
 * <p>It also keeps the text it forwarded (the {@code content} and tool-call {@code arguments} values of forwarded
 * chunks), for a token count when the upstream reports no usage: as the escaped bytes the scanner found, appended
 * without parsing, and unescaped only when {@link #forwardedText()} is asked for.
 *
 * <p>Not thread-safe: one instance per stream, used on that stream's event loop.
 */
final class SseRelay {

    private static final byte[] NO_BYTES = new byte[0];
    private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);

    private final PayloadScanner scanner = new PayloadScanner();
    private final String id;
    private final String model;
    /** {@link #id} and {@link #model} as JSON string literals, quotes included. */
    private final byte[] idLiteral;
    private final byte[] modelLiteral;
    /** The forwarded text values, still JSON-escaped, without their quotes. */
    private final Buffer forwardedEscaped = Buffer.buffer();
    /** Up to two splices of the event being rewritten, in ascending order: {@code [start, end)} in its bytes. */
    private final int[] spliceStart = new int[2];
    private final int[] spliceEnd = new int[2];
    private final byte[][] spliceWith = new byte[2][];
    private int spliceCount;
    /** What {@link #accept} returns when an event of the read was changed; null while all passed unchanged. */
    private Buffer out;
    private byte[] tail = NO_BYTES;
    private Usage usage;
    private String finishReason;
    private boolean done;
    private ProviderException failure;

    /**
     * @param id    the {@code id} every forwarded chunk gets ({@code ChatRequest.generationId()})
     * @param model the {@code model} every forwarded chunk gets ({@code ChatRequest.responseModel()})
     */
    SseRelay(String id, String model) {
        this.id = id;
        this.model = model;
        this.idLiteral = quoted(id);
        this.modelLiteral = quoted(model);
    }

    /**
     * Takes one upstream read and returns the bytes to forward (possibly empty; the input itself when it
     * consisted of complete events that all pass unchanged). Afterwards check {@link #failure()} and
     * {@link #done()}; once either is set, further input is ignored.
     */
    Buffer accept(Buffer read) {
        if (done || failure != null) {
            return Buffer.buffer();
        }
        boolean startsAtBoundary = tail.length == 0;
        byte[] data = startsAtBoundary ? read.getBytes() : concat(tail, read.getBytes());
        out = null;
        int eventStart = 0;
        int lineStart = 0;
        while (!done && failure == null) {
            int lineEnd = lineEnd(data, lineStart);
            if (lineEnd < 0) {
                break;
            }
            int next;
            if (data[lineEnd] == '\r') {
                if (lineEnd + 1 == data.length) {
                    break; // the \n of a \r\n may arrive with the next read
                }
                next = data[lineEnd + 1] == '\n' ? lineEnd + 2 : lineEnd + 1;
            } else {
                next = lineEnd + 1;
            }
            if (lineEnd == lineStart) {
                if (handleEvent(data, eventStart, lineStart, next) && out != null) {
                    out.appendBytes(data, eventStart, next - eventStart);
                }
                eventStart = next;
            }
            lineStart = next;
        }
        tail = done || failure != null ? NO_BYTES : Arrays.copyOfRange(data, eventStart, data.length);
        Buffer changed = out;
        out = null;
        if (changed != null) {
            return changed;
        }
        // every event so far passed unchanged: forward data[0, eventStart) without copying where possible
        if (startsAtBoundary && eventStart == data.length) {
            return read;
        }
        return Buffer.buffer(data.length).appendBytes(data, 0, eventStart);
    }

    /**
     * The upstream ended its response. An event left without its blank line is processed as if it had one;
     * returns what to forward from it.
     */
    Buffer end() {
        if (done || failure != null || tail.length == 0) {
            return Buffer.buffer();
        }
        byte[] terminated = concat(tail, "\n\n".getBytes(StandardCharsets.US_ASCII));
        tail = NO_BYTES;
        return accept(Buffer.buffer(terminated));
    }

    /** True once {@code data: [DONE]} or the usage-only chunk arrived. */
    boolean done() {
        return done;
    }

    /** Why the stream cannot continue, or {@code null}. */
    ProviderException failure() {
        return failure;
    }

    /** The last {@code finish_reason} seen, or {@code null}. */
    String finishReason() {
        return finishReason;
    }

    /** The usage the upstream reported, or {@code null}. */
    Usage reportedUsage() {
        return usage;
    }

    /**
     * The content and tool-call arguments forwarded so far, concatenated and unescaped, for counting tokens. Off the
     * hot path: called when a stream ends, fails or is cancelled without the upstream's usage.
     */
    String forwardedText() {
        int length = forwardedEscaped.length();
        if (length == 0) {
            return "";
        }
        Buffer quoted = Buffer.buffer(length + 2).appendByte((byte) '"').appendBuffer(forwardedEscaped)
                .appendByte((byte) '"');
        try {
            return Json.decodeValue(quoted, String.class);
        } catch (RuntimeException badEscape) {
            // the scanner does not check escapes; such text was still forwarded, so it is counted as it came
            return forwardedEscaped.toString(StandardCharsets.UTF_8);
        }
    }

    /**
     * Decides the fate of the event in {@code data[start, next)}: its lines are {@code [start, end)}, its blank line
     * {@code [end, next)}. Returns true to forward it unchanged; otherwise it has appended what to forward instead
     * to {@link #out} (nothing, to drop it).
     */
    private boolean handleEvent(byte[] data, int start, int end, int next) {
        int dataLines = 0;
        int commentLines = 0;
        int otherLines = 0;
        int payloadStart = -1;
        int payloadEnd = -1;
        for (int line = start; line < end; ) {
            int lineEnd = lineEnd(data, line);
            if (data[line] == ':') {
                commentLines++;
            } else if (startsWith(data, line, lineEnd, DATA)) {
                dataLines++;
                payloadStart = valueStart(data, line, lineEnd);
                payloadEnd = lineEnd;
            } else {
                otherLines++;
            }
            line = afterTerminator(data, lineEnd);
        }
        if (dataLines == 0) {
            if (otherLines > 0 && commentLines == 0) {
                return true;
            }
            startOutput(data, start);
            if (otherLines > 0) {
                spliceCount = 0;
                appendWithoutComments(data, start, end, next);
            }
            return false;
        }
        byte[] payload = data;
        if (dataLines > 1) {
            payload = joinedData(data, start, end);
            payloadStart = 0;
            payloadEnd = payload.length;
        }
        if (isDone(payload, payloadStart, payloadEnd)) {
            done = true;
            startOutput(data, start);
            return false;
        }
        if (!scanner.scan(payload, payloadStart, payloadEnd)) {
            failure = new ProviderException(Kind.BAD_RESPONSE, 0, "upstream sent a stream event that is not JSON");
            startOutput(data, start);
            return false;
        }
        if (scanner.needsParse()) {
            byte[] inspected = inspect(payload, payloadStart, payloadEnd);
            if (inspected != null) {
                if (inspected != NO_BYTES) {
                    scanner.appendText(payload, forwardedEscaped);
                }
                startOutput(data, start);
                out.appendBytes(inspected);
                return false;
            }
        }
        scanner.appendText(payload, forwardedEscaped);
        spliceCount = 0;
        boolean idChanges = differs(payload, scanner.idStart(), scanner.idEnd(), idLiteral);
        boolean modelChanges = differs(payload, scanner.modelStart(), scanner.modelEnd(), modelLiteral);
        if (!idChanges && !modelChanges && commentLines == 0) {
            return true;
        }
        // in the order they appear: OpenAI sends id first, but nothing says an upstream must
        boolean modelFirst = modelChanges && scanner.modelStart() < scanner.idStart();
        if (modelFirst) {
            addSplice(data, start, end, payload, scanner.modelStart(), scanner.modelEnd(), modelLiteral);
        }
        if (idChanges) {
            addSplice(data, start, end, payload, scanner.idStart(), scanner.idEnd(), idLiteral);
        }
        if (modelChanges && !modelFirst) {
            addSplice(data, start, end, payload, scanner.modelStart(), scanner.modelEnd(), modelLiteral);
        }
        startOutput(data, start);
        appendWithoutComments(data, start, end, next);
        return false;
    }

    /** From the first changed event of a read on, {@link #out} collects what to forward, starting with what passed. */
    private void startOutput(byte[] data, int unchangedUpTo) {
        if (out == null) {
            out = Buffer.buffer(data.length + 64).appendBytes(data, 0, unchangedUpTo);
        }
    }

    /** True when the payload has a value at {@code [start, end)} and it is not already {@code literal}. */
    private static boolean differs(byte[] payload, int start, int end, byte[] literal) {
        return start >= 0 && !(end - start == literal.length
                && Arrays.equals(payload, start, end, literal, 0, literal.length));
    }

    /**
     * Records that the value at payload {@code [from, to)} is replaced by {@code literal}, at its place in the event's
     * bytes: the payload is {@code data} itself for one data line, or the data lines joined (with newlines, which a
     * JSON string cannot span) for several.
     */
    private void addSplice(byte[] data, int start, int end, byte[] payload, int from, int to, byte[] literal) {
        spliceStart[spliceCount] = payload == data ? from : inEvent(data, start, end, from);
        spliceEnd[spliceCount] = payload == data ? to : inEvent(data, start, end, to);
        spliceWith[spliceCount] = literal;
        spliceCount++;
    }

    /** The index in {@code data} of position {@code joined} of the event's joined data-line values. */
    private static int inEvent(byte[] data, int start, int end, int joined) {
        int offset = 0;
        for (int line = start; line < end; ) {
            int lineEnd = lineEnd(data, line);
            if (startsWith(data, line, lineEnd, DATA)) {
                int from = valueStart(data, line, lineEnd);
                if (joined <= offset + lineEnd - from) {
                    return from + joined - offset;
                }
                offset += lineEnd - from + 1;
            }
            line = afterTerminator(data, lineEnd);
        }
        throw new IllegalStateException("position " + joined + " is outside the event's data");
    }

    /** Appends the event's lines minus comment lines, with the recorded splices applied, and its blank line. */
    private void appendWithoutComments(byte[] data, int start, int end, int next) {
        for (int line = start; line < end; ) {
            int lineNext = afterTerminator(data, lineEnd(data, line));
            if (data[line] != ':') {
                appendSpliced(data, line, lineNext);
            }
            line = lineNext;
        }
        out.appendBytes(data, end, next - end);
    }

    private void appendSpliced(byte[] data, int from, int to) {
        int at = from;
        for (int k = 0; k < spliceCount; k++) {
            if (spliceStart[k] >= from && spliceEnd[k] <= to) {
                out.appendBytes(data, at, spliceStart[k] - at).appendBytes(spliceWith[k]);
                at = spliceEnd[k];
            }
        }
        out.appendBytes(data, at, to - at);
    }

    /**
     * Parses a chunk that carries usage, a finish reason or an error. Returns {@code null} to forward it as it came
     * (stamped), {@link #NO_BYTES} to drop it, or the event to forward instead (usage removed, stamped).
     */
    private byte[] inspect(byte[] payload, int from, int to) {
        JsonObject chunk;
        try {
            chunk = new JsonObject(Buffer.buffer(to - from).appendBytes(payload, from, to - from));
        } catch (RuntimeException notJson) {
            failure = new ProviderException(Kind.BAD_RESPONSE, 0, "upstream sent a stream event that is not JSON");
            return NO_BYTES;
        }
        if (chunk.getValue("error") instanceof JsonObject) {
            failure = UpstreamErrors.ofStreamEvent(chunk);
            return NO_BYTES;
        }
        JsonArray choices = chunk.getValue("choices") instanceof JsonArray array ? array : new JsonArray();
        for (Object choice : choices) {
            if (choice instanceof JsonObject c && c.getValue("finish_reason") instanceof String reason) {
                finishReason = reason;
            }
        }
        Object reported = chunk.getValue("usage");
        if (reported == null) {
            return null;
        }
        Usage parsed = Usages.reported(reported);
        if (parsed != null) {
            usage = parsed;
        }
        if (choices.isEmpty()) {
            // OpenAI's usage-only chunk is the last event before [DONE] (stream_options.include_usage): the answer is
            // complete here, so the client gets corouter's usage chunk now instead of one upstream gap later
            done = parsed != null;
            return NO_BYTES;
        }
        chunk.remove("usage");
        if (chunk.getValue("id") instanceof String) {
            chunk.put("id", id);
        }
        if (chunk.getValue("model") instanceof String) {
            chunk.put("model", model);
        }
        return ("data: " + chunk.encode() + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    private static boolean isDone(byte[] payload, int from, int to) {
        while (to > from && (payload[to - 1] == ' ' || payload[to - 1] == '\t')) {
            to--;
        }
        return to - from == 6 && payload[from] == '[' && payload[from + 1] == 'D' && payload[from + 2] == 'O'
                && payload[from + 3] == 'N' && payload[from + 4] == 'E' && payload[from + 5] == ']';
    }

    /** SSE joins the values of several data lines of one event with newlines. */
    private static byte[] joinedData(byte[] data, int start, int end) {
        Buffer joined = Buffer.buffer();
        for (int line = start; line < end; ) {
            int lineEnd = lineEnd(data, line);
            if (startsWith(data, line, lineEnd, DATA)) {
                int from = valueStart(data, line, lineEnd);
                if (joined.length() > 0) {
                    joined.appendByte((byte) '\n');
                }
                joined.appendBytes(data, from, lineEnd - from);
            }
            line = afterTerminator(data, lineEnd);
        }
        return joined.getBytes();
    }

    /** Where the value of a {@code data:} line starts: after the colon and one optional space. */
    private static int valueStart(byte[] data, int line, int lineEnd) {
        int afterColon = line + DATA.length;
        return afterColon < lineEnd && data[afterColon] == ' ' ? afterColon + 1 : afterColon;
    }

    /** Index of the first {@code \r} or {@code \n} at or after {@code from}, or -1. */
    private static int lineEnd(byte[] data, int from) {
        for (int i = from; i < data.length; i++) {
            if (data[i] == '\n' || data[i] == '\r') {
                return i;
            }
        }
        return -1;
    }

    private static int afterTerminator(byte[] data, int lineEnd) {
        return data[lineEnd] == '\r' && lineEnd + 1 < data.length && data[lineEnd + 1] == '\n'
                ? lineEnd + 2 : lineEnd + 1;
    }

    private static boolean startsWith(byte[] data, int from, int to, byte[] prefix) {
        return to - from >= prefix.length && Arrays.equals(data, from, from + prefix.length, prefix, 0, prefix.length);
    }

    private static byte[] quoted(String value) {
        byte[] inner = JsonStringEncoder.getInstance().quoteAsUTF8(value);
        byte[] literal = new byte[inner.length + 2];
        literal[0] = '"';
        System.arraycopy(inner, 0, literal, 1, inner.length);
        literal[literal.length - 1] = '"';
        return literal;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }
}
