package co.corouter.server.common;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.InternCache;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.core.util.RecyclerPool;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Content read or written as JSON leaves nothing behind: no recycled buffer holds it, no name table keeps its keys. */
class ContentJsonTest {

    private final String canary = "canary-" + UUID.randomUUID();

    @Test
    void afterAWipeNoRecycledBufferOfTheThreadHoldsWhatWasParsedOrWritten() {
        String body = new JsonObject().put("messages", new io.vertx.core.json.JsonArray()
                .add(new JsonObject().put("role", "user").put("content", "say " + canary))).encode();
        new JsonObject(Buffer.buffer(body));
        new JsonObject(body);
        new JsonObject().put("answer", canary).toBuffer();
        assertThat(recycled()).as("Jackson keeps its buffers, contents and all")
                .anyMatch(text -> text.contains(canary));

        ContentJson.wipe();

        assertThat(recycled()).noneMatch(text -> text.contains(canary));
    }

    @Test
    void aParserKeepsNoFieldNameItReadOnceItIsClosed() throws Exception {
        String key = canary + "-key";
        byte[] body = ("{\"metadata\":{\"" + key + "\":1},\"n\":2}").getBytes(StandardCharsets.UTF_8);
        List<String> names = new ArrayList<>();
        List<Long> offsets = new ArrayList<>();
        try (JsonParser parser = ContentJson.parser(body)) {
            for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
                if (token == JsonToken.FIELD_NAME) {
                    names.add(parser.currentName());
                    offsets.add(parser.currentTokenLocation().getByteOffset());
                }
            }
        }
        new JsonObject(Buffer.buffer(body));

        assertThat(names).containsExactly("metadata", key, "n");
        assertThat(offsets).as("names keep their byte offsets (the splicers copy from them)").containsExactly(1L, 13L,
                (long) new String(body, StandardCharsets.UTF_8).indexOf("\"n\""));
        assertThat(InternCache.instance).doesNotContainKey(key);
    }

    /** The text of every buffer in this thread's recycler (bytes as Latin-1, so any ASCII canary shows). */
    private static List<String> recycled() {
        RecyclerPool<BufferRecycler> pool = JsonRecyclerPools.defaultPool();
        BufferRecycler recycler = pool.acquirePooled();
        List<String> texts = new ArrayList<>();
        try {
            for (int ix = BufferRecycler.BYTE_READ_IO_BUFFER; ix <= BufferRecycler.BYTE_BASE64_CODEC_BUFFER; ix++) {
                byte[] buffer = recycler.allocByteBuffer(ix);
                texts.add(new String(buffer, StandardCharsets.ISO_8859_1));
                recycler.releaseByteBuffer(ix, buffer);
            }
            for (int ix = BufferRecycler.CHAR_TOKEN_BUFFER; ix <= BufferRecycler.CHAR_NAME_COPY_BUFFER; ix++) {
                char[] buffer = recycler.allocCharBuffer(ix);
                texts.add(new String(buffer));
                recycler.releaseCharBuffer(ix, buffer);
            }
        } finally {
            pool.releasePooled(recycler);
        }
        return texts;
    }
}
