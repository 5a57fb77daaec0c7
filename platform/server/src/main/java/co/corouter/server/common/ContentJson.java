package co.corouter.server.common;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.core.util.RecyclerPool;
import java.io.IOException;
import java.util.Arrays;

/**
 * JSON that carries request or response content, read so that none of it stays behind in the heap (privacy policy
 * §1: content is not retained). Jackson keeps two things by default, for the life of the process or until
 * overwritten:
 * <ul>
 *   <li>every field name it reads, in its factory's symbol table and its static intern cache — and the keys of a
 *       client's tool schemas, {@code response_format} or {@code metadata} are content. A {@link #parser} has a
 *       symbol table of its own, which dies with it, and interns nothing. (Not by turning canonicalization off:
 *       Jackson's byte parser then reports no byte offsets of names, which the splicers need.)</li>
 *   <li>the buffers of the last parser and generator of each thread, in that thread's {@link BufferRecycler}, shared
 *       by every factory with Jackson's default pool (Vert.x's codec, these parsers, the provider plugins'): the last
 *       prompt parsed and the last answer written on an event loop. {@link #wipe} zeroes them; whatever ran a request
 *       calls it once the request has ended.</li>
 * </ul>
 */
public final class ContentJson {

    /** The settings of every content parser; never parsed with itself (its symbol table would keep the names). */
    private static final JsonFactory SETTINGS = JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build();

    private ContentJson() {
    }

    /** A parser whose field names die with it: a copy of the settings (about a microsecond) with its own table. */
    public static JsonParser parser(byte[] json) throws IOException {
        return SETTINGS.copy().createParser(json);
    }

    /** A parser whose field names die with it. */
    public static JsonParser parser(String json) throws IOException {
        return SETTINGS.copy().createParser(json);
    }

    /**
     * Zeroes the recycled buffers of the calling thread (those in use by an open parser are not in the pool, and so
     * untouched). Microseconds: a few tens of kilobytes of memset.
     */
    public static void wipe() {
        RecyclerPool<BufferRecycler> pool = JsonRecyclerPools.defaultPool();
        BufferRecycler recycler = pool.acquirePooled();
        try {
            for (int ix = BufferRecycler.BYTE_READ_IO_BUFFER; ix <= BufferRecycler.BYTE_BASE64_CODEC_BUFFER; ix++) {
                byte[] buffer = recycler.allocByteBuffer(ix);
                Arrays.fill(buffer, (byte) 0);
                recycler.releaseByteBuffer(ix, buffer);
            }
            for (int ix = BufferRecycler.CHAR_TOKEN_BUFFER; ix <= BufferRecycler.CHAR_NAME_COPY_BUFFER; ix++) {
                char[] buffer = recycler.allocCharBuffer(ix);
                Arrays.fill(buffer, '\0');
                recycler.releaseCharBuffer(ix, buffer);
            }
        } finally {
            pool.releasePooled(recycler);
        }
    }
}
