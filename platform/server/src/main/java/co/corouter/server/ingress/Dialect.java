package co.corouter.server.ingress;

import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Failure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;

/**
 * One HTTP API served by a pipeline (OpenAI chat, Anthropic messages, legacy completions, embeddings): how its request
 * becomes the pipeline's input and how the pipeline's outcome becomes its response. The pipeline itself always works
 * on OpenAI chat-completions shapes (providers answer in them); a dialect translates at the edges.
 */
interface Dialect {

    /** The caller's credential as an {@code Authorization} value ({@code Bearer <key>}), or null. */
    default String authorization(HttpServerRequest request) {
        return request.getHeader(HttpHeaders.AUTHORIZATION);
    }

    /** The client's body as an OpenAI chat-completions body (400 {@code ApiException} when it is not valid here). */
    default Buffer chatBody(Buffer body) {
        return body;
    }

    /** Headers every response of this API carries (set before anything is sent). */
    default void open(Exchange exchange, HttpServerResponse response) {
    }

    /** A new translator of the provider's OpenAI stream events into this API's, or null to forward them as they are. */
    default StreamTranslator streamTranslator(Exchange exchange) {
        return null;
    }

    /** Writes a successful whole answer. */
    void whole(Exchange exchange, HttpServerResponse response);

    /** Ends a successful stream (the usage and the end marker). */
    void streamEnd(Exchange exchange, ResponseChunkSink sink, HttpServerResponse response);

    /** Ends a stream that failed after it started. */
    void streamError(Exchange exchange, Failure failure, ResponseChunkSink sink, HttpServerResponse response);

    /** Writes a failure before anything was sent. */
    void error(Exchange exchange, Failure failure, HttpServerResponse response);

    /** Turns the OpenAI chunk events one provider write delivered into this API's events. Confined to one stream. */
    interface StreamTranslator {
        Buffer translate(Buffer openAiEvents);
    }
}
