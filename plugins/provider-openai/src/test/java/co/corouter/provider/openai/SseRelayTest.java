package co.corouter.provider.openai;

import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.Usage;
import co.corouter.testkit.tck.Tokens;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class SseRelayTest {

    private static final String DELTA = "data: {\"choices\":[{\"index\":0,"
            + "\"delta\":{\"content\":\"Hi \\\"you\\\" é\"},"
            + "\"finish_reason\":null}],\"usage\":null}\n\n";

    private static SseRelay relay() {
        return new SseRelay("gen-1", "public/model");
    }

    @Test
    void forwardsAReadOfCompleteUnchangedEventsWithoutCopying() {
        SseRelay relay = relay();
        Buffer read = Buffer.buffer(DELTA + DELTA);

        assertThat(relay.accept(read)).isSameAs(read);
        assertThat(relay.forwardedText()).isEqualTo("Hi \"you\" é".repeat(2));
    }

    @Test
    void keepsTheUnescapedContentAndToolCallArgumentsOfForwardedChunks() {
        SseRelay relay = relay();
        String role = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\","
                + "\"refusal\":null}}]}\n\n";
        String escaped = "data: {\"choices\":[{\"delta\":{\"content\":"
                + "\"a\\nb \\u00e9 \\\"q\\\" \\ud83d\\ude00\"}}]}\n\n";
        String noContent = "data: {\"choices\":[{\"delta\":{\"content\":null,\"refusal\":\"not output\"}}]}\n\n";
        String toolCall = "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\","
                + "\"function\":{\"name\":\"weather\",\"arguments\":\"{\\\"city\\\":\"}}]}}]}\n\n";
        String moreArguments = "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
                + "\"function\":{\"arguments\":\"\\\"Paris\\\"}\"}}]}}]}\n\n";

        relay.accept(Buffer.buffer(role + escaped + noContent + toolCall + moreArguments));

        assertThat(relay.failure()).isNull();
        assertThat(relay.forwardedText()).isEqualTo("a\nb é \"q\" \uD83D\uDE00{\"city\":\"Paris\"}");
    }

    @Test
    void keepsTheTextOfAChunkWhoseUsageIsRemovedButNotOfEventsThatAreNotForwarded() {
        SseRelay relay = relay();
        String withUsage = "data: {\"choices\":[{\"delta\":{\"content\":\"end\"},\"finish_reason\":\"stop\"}],"
                + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n";
        String error = "data: {\"error\":{\"type\":\"server_error\"},"
                + "\"choices\":[{\"delta\":{\"content\":\"never shown\"}}]}\n\n";

        relay.accept(Buffer.buffer(withUsage + error));

        assertThat(relay.forwardedText()).isEqualTo("end");
        assertThat(relay.failure().kind()).isEqualTo(Kind.UPSTREAM_ERROR);

        SseRelay malformed = relay();
        malformed.accept(Buffer.buffer(DELTA + "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}] oops\n\n"));
        assertThat(malformed.failure().kind()).isEqualTo(Kind.BAD_RESPONSE);
        assertThat(malformed.forwardedText()).isEqualTo("Hi \"you\" é");
    }

    @Test
    void keepsTheTextOfEventsSplitAcrossReadsAndOfMultiLineData() {
        SseRelay relay = relay();
        String delta = "data: {\"choices\":[{\"delta\":{\"content\":\" hello\"}}]}\n\n";
        String twoLines = "data: {\"choices\":[{\"delta\":\ndata: {\"content\":\" world\"}}]}\n\n";
        String all = delta + twoLines + delta;

        for (int i = 0; i < all.length(); i += 5) {
            relay.accept(Buffer.buffer(all.substring(i, Math.min(all.length(), i + 5))));
        }

        assertThat(relay.failure()).isNull();
        assertThat(relay.forwardedText()).isEqualTo(" hello world hello");
    }

    @Test
    void forwardedOneTokenDeltasCountOneTokenEach() {
        SseRelay relay = relay();
        String delta = "data: {\"choices\":[{\"delta\":{\"content\":\" hello\"}}]}\n\n";

        relay.accept(Buffer.buffer(delta.repeat(5)));

        assertThat(Tokens.counter().count(relay.forwardedText())).isEqualTo(5);
        assertThat(relay().forwardedText()).as("nothing forwarded yet").isEmpty();
    }

    @Test
    void countsTextWithAnEscapeJsonDoesNotKnowAsItCame() {
        SseRelay relay = relay();

        relay.accept(Buffer.buffer("data: {\"choices\":[{\"delta\":{\"content\":\"a\\qb\"}}]}\n\n"));

        assertThat(relay.failure()).as("the scanner does not check escapes").isNull();
        assertThat(relay.forwardedText()).isEqualTo("a\\qb");
    }

    @Test
    void keepsAnIncompleteEventUntilTheNextRead() {
        SseRelay relay = relay();
        String crlf = DELTA.replace("\n", "\r\n");
        int cut = crlf.length() - 1; // between the \r and \n of the blank line

        assertThat(relay.accept(Buffer.buffer(crlf.substring(0, cut))).length()).isZero();
        assertThat(relay.accept(Buffer.buffer(crlf.substring(cut) + "data: [DONE]\r\n\r\n")))
                .hasToString(crlf);
        assertThat(relay.done()).isTrue();
    }

    @Test
    void dropsCommentsDoneAndTheUsageOnlyChunkButKeepsItsUsage() {
        SseRelay relay = relay();
        String usageChunk = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,"
                + "\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\n";
        String finish = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"length\"}]}\n\n";

        Buffer out = relay.accept(Buffer.buffer(": OPENROUTER PROCESSING\n\n" + DELTA + finish + usageChunk
                + "data: [DONE]\n\n" + "data: ignored after done\n\n"));

        assertThat(out).hasToString(DELTA + finish);
        assertThat(relay.reportedUsage()).isEqualTo(new Usage(3, 4, 2, 0, false));
        assertThat(relay.finishReason()).isEqualTo("length");
        assertThat(relay.done()).isTrue();
    }

    @Test
    void theUsageOnlyChunkEndsTheStreamWithoutWaitingForDone() {
        SseRelay relay = relay();
        String usageChunk = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n";

        assertThat(relay.accept(Buffer.buffer(DELTA + usageChunk))).hasToString(DELTA);
        assertThat(relay.done()).as("complete at the usage chunk: [DONE] may come one upstream gap later").isTrue();
        assertThat(relay.reportedUsage()).isEqualTo(new Usage(3, 4, 0, 0, false));
        assertThat(relay.accept(Buffer.buffer("data: [DONE]\n\n")).length()).isZero();

        SseRelay unusable = relay();
        unusable.accept(Buffer.buffer("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":\"x\"}}\n\n"));
        assertThat(unusable.done()).as("an unusable usage chunk does not end the stream").isFalse();
    }

    @Test
    void failsOnANonJsonDataLineAfterForwardingTheEventsBeforeIt() {
        SseRelay relay = relay();

        String truncated = "data: {\"choices\":[{\"delta\":{\"content\":\"tru\n\n";

        Buffer out = relay.accept(Buffer.buffer(DELTA + truncated + DELTA));

        assertThat(out).hasToString(DELTA);
        assertThat(relay.failure().kind()).isEqualTo(Kind.BAD_RESPONSE);
    }

    @Test
    void treatsTheEndOfTheResponseAsTheEndOfAnUnterminatedLastEvent() {
        SseRelay relay = relay();

        assertThat(relay.accept(Buffer.buffer(DELTA + "data: [DONE]")).toString()).isEqualTo(DELTA);
        assertThat(relay.done()).isFalse();
        assertThat(relay.end().length()).isZero();
        assertThat(relay.done()).isTrue();
    }

    @Test
    void replacesTheTopLevelIdAndModelAndForwardsEveryOtherByteAsItCame() {
        SseRelay relay = relay();
        String upstream = "data: {\"id\":\"chatcmpl-abc\",\"object\":\"chat.completion.chunk\",\"created\":1,"
                + "\"model\":\"gpt-4o-2024-08-06\", \"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,"
                + "\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"function\":{\"name\":\"model\","
                + "\"arguments\":\"{\\\"id\\\":1}\"}}]},\"finish_reason\":null}],\"meta\":{\"model\":\"inner\"}}\n\n";

        Buffer out = relay.accept(Buffer.buffer(upstream));

        assertThat(out).hasToString(upstream.replace("\"chatcmpl-abc\"", "\"gen-1\"")
                .replace("\"gpt-4o-2024-08-06\"", "\"public/model\""));
        assertThat(relay.forwardedText()).isEqualTo("{\"id\":1}");
    }

    @Test
    void stampsAModelThatComesBeforeTheIdAndEscapesTheReplacement() {
        SseRelay relay = new SseRelay("gen-\"1\"", "vendor/m\u00e9");
        String upstream = "data: {\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"id\":\"c\"}\n\n";

        Buffer out = relay.accept(Buffer.buffer(upstream));

        assertThat(out).hasToString("data: {\"model\":\"vendor/m\u00e9\",\"choices\":[{\"delta\":{\"content\":\"x\"}}],"
                + "\"id\":\"gen-\\\"1\\\"\"}\n\n");
    }

    @Test
    void forwardsAChunkThatAlreadyCarriesTheIdAndModelWithoutCopying() {
        SseRelay relay = relay();
        Buffer read = Buffer.buffer("data: {\"id\":\"gen-1\",\"model\":\"public/model\",\"choices\":[{\"delta\":"
                + "{\"content\":\"a\"}}]}\n\n");

        assertThat(relay.accept(read)).isSameAs(read);
    }

    @Test
    void stampsEventsSplitAcrossReadsWithCommentsCrlfOrSeveralDataLines() {
        SseRelay relay = relay();
        String split = "data: {\"id\":\"chatcmpl-1\",\"model\":\"up\",\"choices\":[{\"delta\":{\"content\":\"a\"}}]}"
                + "\r\n\r\n";
        String commented = ": keep-alive\ndata: {\"id\":\"chatcmpl-1\",\"model\":\"up\",\"choices\":[{\"delta\":"
                + "{\"content\":\"b\"}}]}\n\n";
        String twoLines = "data: {\"id\":\n: comment\ndata:\"chatcmpl-1\",\"choices\":[{\"delta\":"
                + "{\"content\":\"c\"}}],\"model\":\"up\"}\n\n";
        String all = split + commented + twoLines;
        StringBuilder forwarded = new StringBuilder();

        for (int i = 0; i < all.length(); i += 7) {
            forwarded.append(relay.accept(Buffer.buffer(all.substring(i, Math.min(all.length(), i + 7)))));
        }

        assertThat(relay.failure()).isNull();
        assertThat(forwarded.toString()).isEqualTo(
                "data: {\"id\":\"gen-1\",\"model\":\"public/model\",\"choices\":[{\"delta\":{\"content\":\"a\"}}]}"
                        + "\r\n\r\n"
                        + "data: {\"id\":\"gen-1\",\"model\":\"public/model\",\"choices\":[{\"delta\":"
                        + "{\"content\":\"b\"}}]}\n\n"
                        + "data: {\"id\":\ndata:\"gen-1\",\"choices\":[{\"delta\":{\"content\":\"c\"}}],"
                        + "\"model\":\"public/model\"}\n\n");
        assertThat(relay.forwardedText()).isEqualTo("abc");
    }

    @Test
    void stampsAChunkWhoseUsageIsRemovedAndOneWithAFinishReason() {
        SseRelay relay = relay();
        String finish = "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"index\":0,\"delta\":{},"
                + "\"finish_reason\":\"stop\"}]}\n\n";
        String withUsage = "data: {\"id\":\"c\",\"model\":\"up\",\"choices\":[{\"delta\":{\"content\":\"end\"}}],"
                + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\n";

        Buffer out = relay.accept(Buffer.buffer(finish + withUsage));

        assertThat(out.toString())
                .startsWith(finish.replace("\"c\"", "\"gen-1\"").replace("\"up\"", "\"public/model\""));
        String reencoded = out.toString().substring(out.toString().indexOf("\n\n") + 2);
        assertThat(new JsonObject(reencoded.substring("data: ".length()).trim()).getMap())
                .containsEntry("id", "gen-1").containsEntry("model", "public/model").doesNotContainKey("usage");
        assertThat(relay.reportedUsage()).isEqualTo(Usage.of(3, 4));
    }

    @Test
    void leavesAnIdOrModelThatIsNotAStringAlone() {
        SseRelay relay = relay();
        String upstream = "data: {\"id\":7,\"model\":null,\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n";
        Buffer read = Buffer.buffer(upstream);

        assertThat(relay.accept(read)).isSameAs(read);
    }

    @Test
    void scansOnlyChunksWithNonNullUsageFinishReasonOrError() {
        PayloadScanner scanner = new PayloadScanner();
        byte[] delta = DELTA.substring(6, DELTA.length() - 2).getBytes(StandardCharsets.UTF_8);
        byte[] withUsage = "{\"choices\":[],\"usage\" : {\"prompt_tokens\":1}}".getBytes(StandardCharsets.UTF_8);
        byte[] notJson = "{not json}".getBytes(StandardCharsets.UTF_8);
        byte[] twoObjects = "{}{}".getBytes(StandardCharsets.UTF_8);

        assertThat(scanner.scan(delta, 0, delta.length)).isTrue();
        assertThat(scanner.needsParse()).isFalse();
        assertThat(scanner.scan(withUsage, 0, withUsage.length)).isTrue();
        assertThat(scanner.needsParse()).isTrue();
        assertThat(scanner.scan(notJson, 0, notJson.length)).isFalse();
        assertThat(scanner.scan(twoObjects, 0, twoObjects.length)).isFalse();
    }
}
