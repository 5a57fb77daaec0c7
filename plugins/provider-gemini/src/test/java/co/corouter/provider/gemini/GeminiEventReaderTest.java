package co.corouter.provider.gemini;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class GeminiEventReaderTest {

    @Test
    void anEventEndsAtItsBlankLine() {
        GeminiEventReader reader = new GeminiEventReader();

        assertThat(reader.accept(Buffer.buffer("data: {\"a\":1}\n"))).isEmpty();
        assertThat(reader.accept(Buffer.buffer("\ndata: {\"b\":2}\n\n"))).containsExactly("{\"a\":1}", "{\"b\":2}");
        assertThat(reader.end()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"\n", "\r\n", "\r"})
    void acceptsEachLineEnding(String newline) {
        String body = "data: {\"a\":1}" + newline + newline + "data:{\"b\":2}" + newline + newline;

        assertThat(readInPieces(body, 1)).containsExactly("{\"a\":1}", "{\"b\":2}");
        assertThat(readInPieces(body, body.length())).containsExactly("{\"a\":1}", "{\"b\":2}");
    }

    @Test
    void joinsSeveralDataLinesAndSkipsCommentsAndOtherFields() {
        String body = ": keep-alive\n\nevent: message\nid: 7\nretry: 10\ndata: {\"a\":\ndata: 1}\n\n";

        assertThat(readInPieces(body, 3)).containsExactly("{\"a\":\n1}");
    }

    @Test
    void keepsAUtf8CharacterThatASplitCutInTwo() {
        String body = "data: {\"text\":\"héllo – 日本\"}\n\n";

        for (int size = 1; size <= 8; size++) {
            assertThat(readInPieces(body, size)).containsExactly("{\"text\":\"héllo – 日本\"}");
        }
    }

    @Test
    void collectsPrettyPrintedJsonOutsideTheFramingUntilItsObjectCloses() {
        String body = "data: {\"a\":1}\n\n{\n  \"error\": {\n    \"code\": 503,\n"
                + "    \"message\": \"a } in a string \\\"{\",\n    \"status\": \"UNAVAILABLE\"\n  }\n}\n";

        for (int size : new int[] {1, 5, body.length()}) {
            List<String> payloads = readInPieces(body, size);
            assertThat(payloads).hasSize(2);
            assertThat(payloads.get(0)).isEqualTo("{\"a\":1}");
            assertThat(new io.vertx.core.json.JsonObject(payloads.get(1)).getJsonObject("error").getInteger("code"))
                    .isEqualTo(503);
        }
    }

    @Test
    void aLastEventWithoutItsBlankLineAndAnUnfinishedRawObjectAreReturnedAtTheEnd() {
        GeminiEventReader events = new GeminiEventReader();
        assertThat(events.accept(Buffer.buffer("data: {\"a\":1}"))).isEmpty();
        assertThat(events.end()).containsExactly("{\"a\":1}");

        GeminiEventReader raw = new GeminiEventReader();
        assertThat(raw.accept(Buffer.buffer("{\"error\": {\"code\": 5"))).isEmpty();
        assertThat(raw.end()).containsExactly("{\"error\": {\"code\": 5\n");
    }

    @Test
    void readsTheElementsOfAJsonArrayBody() {
        String body = "[{\"a\": 1}\r\n,\r\n{\"b\": [2]}\r\n]";

        assertThat(readInPieces(body, 4)).containsExactly("{\"a\": 1}", "{\"b\": [2]}");
    }

    private static List<String> readInPieces(String body, int size) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        GeminiEventReader reader = new GeminiEventReader();
        List<String> payloads = new ArrayList<>();
        for (int from = 0; from < bytes.length; from += size) {
            payloads.addAll(reader.accept(Buffer.buffer().appendBytes(bytes, from,
                    Math.min(size, bytes.length - from))));
        }
        payloads.addAll(reader.end());
        return payloads;
    }
}
