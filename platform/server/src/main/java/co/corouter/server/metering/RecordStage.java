package co.corouter.server.metering;

import co.corouter.plugin.api.Usage;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.common.Metrics;
import co.corouter.server.metering.MeteringContract.UsageRecord;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Failure;
import co.corouter.server.pipeline.ParsedChat;
import co.corouter.server.pipeline.Stage;
import io.micrometer.core.instrument.Counter;
import co.corouter.server.routing.Router;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * End stage "record": one usage row for every request that reached a provider, handed to the metering writer
 * through the {@link UsageBacklog} (no thread hop). A request refused before any provider call — no or a bad key
 * (401), no credit (402), a limit (429), bad input (400), shed (503), a client gone before the call — leaves no
 * row: it is counted in {@code corouter_requests_refused_total{reason}} instead, so nobody can grow the usage
 * table with requests that cost nothing.
 */
public final class RecordStage implements Stage {

    private static final Usage NO_USAGE = new Usage(0, 0, 0, 0, false);

    private final UsageBacklog backlog;
    private final Metrics metrics;
    private final Map<String, Counter> refused = new ConcurrentHashMap<>();

    public RecordStage(UsageBacklog backlog, Metrics metrics) {
        this.backlog = backlog;
        this.metrics = metrics;
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        if (!exchange.providerCalled()) {
            if (exchange.failure() != null) {
                String reason = exchange.failureView().kind();
                refused.computeIfAbsent(reason, r -> metrics.counter("corouter_requests_refused_total",
                        "requests refused before any provider call", "reason", r)).increment();
            }
            return DONE;
        }
        ParsedChat chat = exchange.chat();
        boolean streamCancelled = exchange.clientGone() && chat.stream() && exchange.failure() != null;
        int status;
        String errorCode;
        String finishReason;
        if (exchange.failure() == null) {
            status = 200;
            errorCode = null;
            finishReason = exchange.completion() != null ? exchange.completion().finishReason()
                    : exchange.streamOutcome() != null ? exchange.streamOutcome().finishReason() : null;
            if (finishReason == null && exchange.completion() != null && exchange.completion().body() != null) {
                finishReason = firstFinishReason(exchange);
            }
        } else if (streamCancelled) {
            status = ErrorCodes.CLIENT_CLOSED;
            errorCode = "client_closed";
            finishReason = null;
        } else {
            Failure failure = exchange.failureView();
            status = failure.code();
            errorCode = failure.kind();
            finishReason = exchange.streamStarted() ? "error" : null;
        }
        Usage u = exchange.usage() == null ? NO_USAGE : exchange.usage();
        Router.Route served = exchange.served();
        backlog.offer(new UsageRecord(exchange.id(), exchange.principal().accountId(), exchange.principal().keyId(),
                served.model().id(), served.endpoint().provider(), served.endpoint().upstreamModel(), chat.stream(),
                status, errorCode, finishReason, u.promptTokens(), u.completionTokens(), u.cachedTokens(),
                u.cacheWriteTokens(), u.reasoningTokens(), u.estimated(), exchange.cancelled(), exchange.charged(), exchange.latencyMillis(),
                exchange.createdMillis(), attempts(exchange.attempts()), exchange.api(),
                co.corouter.server.billing.LimitsStage.limitPeriod(exchange)));
        return DONE;
    }

    /** Every attempt as JSON, only when there was more than one (the single one is the row itself). */
    private static String attempts(List<Exchange.Attempt> attempts) {
        if (attempts.size() < 2) {
            return null;
        }
        JsonArray list = new JsonArray();
        for (Exchange.Attempt attempt : attempts) {
            list.add(new JsonObject().put("model", attempt.model()).put("provider", attempt.provider())
                    .put("status", attempt.status()).put("latency", attempt.latencyMillis()));
        }
        return list.encode();
    }

    private static String firstFinishReason(Exchange exchange) {
        var choices = exchange.completion().body().getJsonArray("choices");
        if (choices == null || choices.isEmpty() || !(choices.getValue(0) instanceof io.vertx.core.json.JsonObject c)) {
            return null;
        }
        return c.getString("finish_reason");
    }
}
