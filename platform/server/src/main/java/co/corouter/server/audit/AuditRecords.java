package co.corouter.server.audit;

import co.corouter.plugin.api.Usage;
import co.corouter.plugin.api.audit.AuditRecord;
import co.corouter.server.common.Money;
import co.corouter.server.common.Timestamps;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Failure;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * What one audit record holds (README "Audit logging"): the request's metadata, the request body exactly as received,
 * the response exactly as delivered (a whole body, or the stream's events as written, up to where it stopped), the
 * usage and the cost charged. Both bodies are JSON strings, so the record is one line and the bytes come back exactly.
 */
final class AuditRecords {

    private AuditRecords() {
    }

    static AuditRecord of(Exchange exchange, boolean complete) {
        Instant now = Instant.now();
        JsonObject record = new JsonObject()
                .put("generation_id", exchange.id())
                .put("created_at", Timestamps.iso(Instant.ofEpochMilli(exchange.createdMillis())))
                .put("completed_at", Timestamps.iso(now))
                .put("account_id", exchange.principal().accountId())
                .put("key_id", exchange.principal().keyId())
                .put("api", exchange.api());
        if (exchange.chat() != null) {
            record.put("model", exchange.chat().model() == null ? null : exchange.chat().model().id())
                    .put("stream", exchange.chat().stream());
        }
        if (exchange.served() != null) {
            record.put("served_model", exchange.served().model().id())
                    .put("provider", exchange.served().endpoint().provider());
        }
        Failure failure = exchange.failureView();
        record.put("status", failure == null ? 200 : failure.code());
        if (failure != null) {
            record.put("error", failure.kind());
        }
        record.put("request", text(exchange.body()))
                .put("response", text(exchange.delivered()))
                .put("response_complete", complete)
                .put("client_gone", exchange.clientGone());
        Usage usage = exchange.usage();
        if (usage != null) {
            record.put("usage", new JsonObject()
                    .put("prompt_tokens", usage.promptTokens())
                    .put("completion_tokens", usage.completionTokens())
                    .put("cached_tokens", usage.cachedTokens())
                    .put("reasoning_tokens", usage.reasoningTokens())
                    .put("estimated", usage.estimated()));
        }
        record.put("cost_usd", Money.toUsdText(exchange.charged()));
        return new AuditRecord(exchange.id(), now, record.toBuffer());
    }

    private static String text(Buffer bytes) {
        return bytes == null ? null : bytes.toString(StandardCharsets.UTF_8);
    }
}
