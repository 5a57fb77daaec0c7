package co.corouter.server.common;

import co.corouter.plugin.api.ContentJson;
import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.EncodeException;
import io.vertx.core.json.jackson.JacksonCodec;
import io.vertx.core.spi.json.JsonCodec;
import java.io.IOException;
import java.io.StringWriter;

/**
 * Vert.x's JSON codec for corouter (registered as a {@code io.vertx.core.spi.JsonFactory} service). With
 * jackson-databind on the classpath Vert.x would encode every {@code JsonObject} through databind's map
 * serialiser; this codec writes them with Jackson's streaming generator instead (the hot path encodes a response
 * per request), and writes money as plain decimals ({@code 0.000000165}, never {@code 1.65E-7}). It reads and writes
 * with {@link ContentJson#FACTORY}, which keeps no field names and recycles no buffers: a body read into an object,
 * or an object written, leaves nothing behind.
 */
public final class StreamingJsonFactory implements io.vertx.core.spi.JsonFactory {

    private static final JsonCodec CODEC = new PlainDecimalCodec();

    @Override
    public int order() {
        return 0;
    }

    @Override
    public JsonCodec codec() {
        return CODEC;
    }

    static final class PlainDecimalCodec extends JacksonCodec {

        @Override
        public <T> T fromString(String json, Class<T> type) throws DecodeException {
            try {
                return fromParser(ContentJson.parser(json), type);
            } catch (IOException e) {
                throw new DecodeException("Failed to decode: " + e.getMessage(), e);
            }
        }

        @Override
        public <T> T fromBuffer(Buffer json, Class<T> type) throws DecodeException {
            try {
                return fromParser(ContentJson.parser(json.getBytes()), type);
            } catch (IOException e) {
                throw new DecodeException("Failed to decode: " + e.getMessage(), e);
            }
        }

        @Override
        public String toString(Object object, boolean pretty) throws EncodeException {
            StringWriter writer = new StringWriter();
            try (JsonGenerator generator = ContentJson.FACTORY.createGenerator(writer)) {
                if (pretty) {
                    generator.useDefaultPrettyPrinter();
                }
                encodeJson(object, generator);
            } catch (IOException e) {
                throw new EncodeException(e.getMessage(), e);
            }
            return writer.toString();
        }

        @Override
        public Buffer toBuffer(Object object, boolean pretty) throws EncodeException {
            ByteBuf bytes = Unpooled.buffer(256);
            try (JsonGenerator generator = ContentJson.FACTORY.createGenerator(
                    (java.io.OutputStream) new ByteBufOutputStream(bytes), JsonEncoding.UTF8)) {
                if (pretty) {
                    generator.useDefaultPrettyPrinter();
                }
                encodeJson(object, generator);
            } catch (IOException e) {
                throw new EncodeException(e.getMessage(), e);
            }
            return BufferInternal.buffer(bytes);
        }
    }
}
