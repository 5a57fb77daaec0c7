package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ProviderException;
import co.corouter.provider.anthropic.SseDecoder.Event;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SseDecoderTest {

    private static final String STREAM = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
            + ": a comment\n\n"
            + "event: content_block_delta\nid: 7\nretry: 100\ndata: {\"text\":\"é ✓ 😀\"}\n\n"
            + "event:ping\ndata:{\"type\":\"ping\"}\n\n";

    private static final List<Event> EVENTS = List.of(
            new Event("message_start", "{\"type\":\"message_start\"}"),
            new Event("content_block_delta", "{\"text\":\"é ✓ 😀\"}"),
            new Event("ping", "{\"type\":\"ping\"}"));

    @Test
    void cutsAReadIntoEventsIgnoringCommentsIdAndRetryLines() {
        assertThat(new SseDecoder().decode(Buffer.buffer(STREAM))).isEqualTo(EVENTS);
    }

    @ParameterizedTest(name = "{0}-byte reads")
    @ValueSource(ints = {1, 2, 3, 5, 13})
    void reassemblesEventsAndCharactersSplitAcrossReads(int size) {
        assertThat(decodeInPieces(STREAM.getBytes(StandardCharsets.UTF_8), size)).isEqualTo(EVENTS);
    }

    @ParameterizedTest(name = "line ends {0}")
    @ValueSource(strings = {"\r\n", "\r"})
    void acceptsCrlfAndLoneCarriageReturnsEvenWhenAReadEndsBetweenThem(String lineEnd) {
        byte[] stream = STREAM.replace("\n", lineEnd).getBytes(StandardCharsets.UTF_8);

        assertThat(new SseDecoder().decode(Buffer.buffer(stream))).isEqualTo(EVENTS);
        assertThat(decodeInPieces(stream, 1)).isEqualTo(EVENTS);
    }

    @Test
    void joinsSeveralDataLinesWithNewlinesAndNamesAnUnnamedEventMessage() {
        List<Event> events = new SseDecoder().decode(Buffer.buffer("data: {\"a\":\ndata: 1}\n\n"));

        assertThat(events).containsExactly(new Event("message", "{\"a\":\n1}"));
    }

    @Test
    void skipsALeadingByteOrderMark() {
        byte[] bom = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};
        Buffer read = Buffer.buffer(bom).appendString(STREAM);

        assertThat(new SseDecoder().decode(read)).isEqualTo(EVENTS);
    }

    @Test
    void keepsAnEventWithoutItsBlankLineUntilTheEnd() {
        SseDecoder decoder = new SseDecoder();

        assertThat(decoder.decode(Buffer.buffer("event: message_stop\ndata: {\"type\":\"message_stop\"}")))
                .isEmpty();
        assertThat(decoder.end()).containsExactly(new Event("message_stop", "{\"type\":\"message_stop\"}"));
        assertThat(new SseDecoder().end()).isEmpty();
    }

    @Test
    void refusesALineThatNeverEnds() {
        SseDecoder decoder = new SseDecoder();
        Buffer huge = Buffer.buffer(new byte[SseDecoder.MAX_LINE_BYTES + 1]);

        assertThatThrownBy(() -> decoder.decode(huge)).isInstanceOf(ProviderException.class)
                .hasMessageContaining("longer than");
    }

    private static List<Event> decodeInPieces(byte[] stream, int size) {
        SseDecoder decoder = new SseDecoder();
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < stream.length; i += size) {
            events.addAll(decoder.decode(Buffer.buffer().appendBytes(stream, i, Math.min(size, stream.length - i))));
        }
        events.addAll(decoder.end());
        return events;
    }
}
