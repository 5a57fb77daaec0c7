package co.corouter.server.ingress;

import co.corouter.plugin.api.Embeddings;
import co.corouter.server.common.Money;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Failure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * {@code POST /v1/embeddings}, OpenAI's shape: {@code {"object":"list","data":[{"object":"embedding","index":i,
 * "embedding":[…]}],"model":…,"usage":{"prompt_tokens","total_tokens","cost"}}}, each vector as float numbers or, when
 * {@code encoding_format} is {@code base64}, as the base64 of its little-endian float32 bytes (what the OpenAI SDKs
 * decode). Embeddings never stream.
 */
final class EmbeddingsDialect implements Dialect {

    static final EmbeddingsDialect INSTANCE = new EmbeddingsDialect();

    @Override
    public void whole(Exchange exchange, HttpServerResponse response) {
        Embeddings embeddings = exchange.embeddings();
        boolean base64 = exchange.chat().embedding().base64();
        List<float[]> vectors = embeddings.vectors();
        int floats = 0;
        for (float[] vector : vectors) {
            floats += vector.length;
        }
        StringBuilder out = new StringBuilder(256 + floats * (base64 ? 6 : 12));
        out.append("{\"id\":\"").append(exchange.id()).append("\",\"object\":\"list\",\"data\":[");
        for (int i = 0; i < vectors.size(); i++) {
            out.append(i == 0 ? "" : ",").append("{\"object\":\"embedding\",\"index\":").append(i)
                    .append(",\"embedding\":");
            float[] vector = vectors.get(i);
            if (base64) {
                ByteBuffer bytes = ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
                for (float value : vector) {
                    bytes.putFloat(value);
                }
                out.append('"').append(Base64.getEncoder().encodeToString(bytes.array())).append('"');
            } else {
                out.append('[');
                for (int v = 0; v < vector.length; v++) {
                    if (v > 0) {
                        out.append(',');
                    }
                    float value = vector[v];
                    out.append(Float.isFinite(value) ? Float.toString(value) : "0"); // JSON has no NaN
                }
                out.append(']');
            }
            out.append('}');
        }
        int tokens = embeddings.usage().promptTokens();
        out.append("],\"model\":").append(new String(OpenAiChatDialect.quoted(exchange.served().model().id()),
                        StandardCharsets.UTF_8))
                .append(",\"provider\":").append(new String(OpenAiChatDialect.quoted(exchange.provider()),
                        StandardCharsets.UTF_8))
                .append(",\"usage\":{\"prompt_tokens\":").append(tokens).append(",\"total_tokens\":").append(tokens)
                .append(",\"cost\":").append(Money.toUsd(exchange.charged()).toPlainString()).append("}}");
        Delivered.end(exchange, response.putHeader("Content-Type", "application/json"), Buffer.buffer(out.toString()));
    }

    @Override
    public void streamEnd(Exchange exchange, ResponseChunkSink sink, HttpServerResponse response) {
        throw new IllegalStateException("embeddings do not stream");
    }

    @Override
    public void streamError(Exchange exchange, Failure failure, ResponseChunkSink sink, HttpServerResponse response) {
        throw new IllegalStateException("embeddings do not stream");
    }

    @Override
    public void error(Exchange exchange, Failure failure, HttpServerResponse response) {
        Errors.send(exchange, response, failure);
    }
}
