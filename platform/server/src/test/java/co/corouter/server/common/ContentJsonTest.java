package co.corouter.server.common;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.plugin.api.ContentJson;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.sym.ByteQuadsCanonicalizer;
import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.InternCache;
import com.fasterxml.jackson.core.util.RecyclerPool;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Content read or written as JSON leaves nothing behind once its request has ended ({@link ContentJson#forget}): no
 * recycled buffer holds it, no name table keeps its keys.
 */
class ContentJsonTest {

    private final String canary = "canary-" + UUID.randomUUID();

    @Test
    void onceForgottenNoRecycledBufferOfTheThreadHoldsWhatWasParsedOrWritten() throws Exception {
        String body = new JsonObject().put("messages", new JsonArray()
                .add(new JsonObject().put("role", "user").put("content", "say " + canary))).encode();
        new JsonObject(Buffer.buffer(body));
        new JsonObject(body);
        new JsonObject().put("answer", canary).toBuffer();
        try (JsonParser parser = ContentJson.parser(body.getBytes(StandardCharsets.UTF_8))) {
            while (parser.nextToken() != null) {
                parser.getText();
            }
        }
        assertThat(recycled()).as("the buffers are recycled, contents and all")
                .anyMatch(text -> text.contains(canary));

        ContentJson.forget();

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
        Field table = JsonFactory.class.getDeclaredField("_byteSymbolCanonicalizer");
        table.setAccessible(true);
        assertThat(((ByteQuadsCanonicalizer) table.get(ContentJson.FACTORY)).size())
                .as("names in the shared factory's table").isZero();
    }

    @Test
    void anEventLoopForgetsTheNamesABodyAddedToItsTableWhenTheRequestEnds() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            byte[] protocol = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
                    .getBytes(StandardCharsets.UTF_8);
            byte[] custom = ("{\"model\":\"m\",\"metadata\":{\"" + canary + "\":1}}").getBytes(StandardCharsets.UTF_8);
            int[] sizes = vertx.<int[]>executeBlocking(() -> null).compose(v -> {
                io.vertx.core.Promise<int[]> sizesOnLoop = io.vertx.core.Promise.promise();
                vertx.runOnContext(go -> {
                    try {
                        int[] seen = new int[3];
                        read(protocol);
                        seen[0] = loopNames();
                        read(custom);
                        seen[1] = loopNames();
                        ContentJson.forget();
                        read(protocol);
                        seen[2] = loopNames();
                        sizesOnLoop.complete(seen);
                    } catch (Exception e) {
                        sizesOnLoop.fail(e);
                    }
                });
                return sizesOnLoop.future();
            }).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);

            assertThat(sizes[0]).as("the protocol's names only").isPositive();
            assertThat(sizes[1]).as("the body's key joined the loop's table").isEqualTo(sizes[0] + 1);
            assertThat(sizes[2]).as("a fresh table, without it").isEqualTo(sizes[0]);
        } finally {
            vertx.close().await();
        }
    }

    private static void read(byte[] body) throws Exception {
        try (JsonParser parser = ContentJson.parser(body)) {
            while (parser.nextToken() != null) {
                parser.currentName();
            }
        }
    }

    /** The size of the calling event loop's name table. */
    private static int loopNames() throws Exception {
        Field recyclers = ContentJson.class.getDeclaredField("RECYCLERS");
        recyclers.setAccessible(true);
        Object recycler = ((ThreadLocal<?>) recyclers.get(null)).get();
        Field names = recycler.getClass().getDeclaredField("names");
        names.setAccessible(true);
        return ((ByteQuadsCanonicalizer) names.get(recycler)).size();
    }

    /** The text of every buffer in this thread's recycler of content (bytes as Latin-1, so any ASCII canary shows). */
    @SuppressWarnings("unchecked")
    private static List<String> recycled() throws Exception {
        Field poolField = JsonFactory.class.getDeclaredField("_recyclerPool");
        poolField.setAccessible(true);
        RecyclerPool<BufferRecycler> pool = (RecyclerPool<BufferRecycler>) poolField.get(ContentJson.FACTORY);
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
