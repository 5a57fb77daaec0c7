package co.corouter.server.ingress;

import co.corouter.plugin.api.ContentJson;
import co.corouter.server.audit.AuditContract;
import co.corouter.server.common.Ids;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Failure;
import co.corouter.server.pipeline.Pipeline;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

/**
 * The HTTP half of a pipeline, for one {@link Dialect}: watches the client from the request head on, reads the body,
 * runs the {@link Pipeline} and has the dialect render its outcome — a whole answer, the end of a stream, or an error
 * (after a stream started, as a final event).
 */
final class PipelineEndpoint {

    private final Pipeline pipeline;
    private final Api api;
    private final Dialect dialect;
    private final EdgeGuard guard;
    private final int bodyLimit;
    private final AuditContract.Recorder audit;

    PipelineEndpoint(Pipeline pipeline, Api api, EdgeGuard guard, int bodyLimit, AuditContract.Recorder audit) {
        this.pipeline = pipeline;
        this.audit = audit;
        this.api = api;
        this.dialect = api.dialect();
        this.guard = guard;
        this.bodyLimit = bodyLimit;
    }

    void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        HttpServerResponse response = ctx.response();
        EdgeGuard.Request watch = ctx.get(IngressVerticle.WATCH);
        String id = Ids.generationId();
        ResponseChunkSink sink = new ResponseChunkSink(response);
        Exchange exchange = new Exchange(id, dialect.authorization(request), sink);
        sink.exchange(exchange);
        exchange.api(api.label());
        sink.translator(dialect.streamTranslator(exchange));
        response.putHeader("X-Generation-Id", id).putHeader("x-request-id", id);
        dialect.open(exchange, response);
        // from here on a client that leaves is noticed, whatever the pipeline is waiting for
        response.closeHandler(v -> {
            exchange.clientClosed();
            if (exchange.body() == null) {
                guard.finished(watch); // it left during its upload: no pipeline will finish it
            }
        });
        watch.holdForPipeline(exchange);
        BodyReader.read(request, watch, bodyLimit, guard)
                .onSuccess(body -> {
                    exchange.body(body);
                    pipeline.run(exchange).onComplete(done -> {
                        boolean delivered = respond(exchange, sink, response);
                        if (exchange.delivered() != null) {
                            audit.record(exchange, delivered && !exchange.clientGone());
                        }
                        ContentJson.forget(); // what this loop parsed and wrote of the exchange, gone from its heap
                        guard.finished(watch);
                    });
                })
                .onFailure(refused -> guard.finished(watch));
    }

    /** Renders the outcome; false when the client had already gone, so nothing more was delivered. */
    private boolean respond(Exchange exchange, ResponseChunkSink sink, HttpServerResponse response) {
        if (response.closed() || response.ended()) {
            return false;
        }
        Failure failure = exchange.failureView();
        if (failure == null) {
            if (exchange.streamOutcome() != null) {
                dialect.streamEnd(exchange, sink, response);
            } else {
                dialect.whole(exchange, response);
            }
        } else if (exchange.streamStarted()) {
            dialect.streamError(exchange, failure, sink, response);
        } else {
            dialect.error(exchange, failure, response);
        }
        return true;
    }
}
