package co.corouter.server.metering;

import co.corouter.server.common.Timestamps;
import co.corouter.server.common.Money;
import co.corouter.server.metering.MeteringContract.UsageRecord;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.time.Instant;

/**
 * A generation as the console shows it (the {@code /api/generations} list, the live feed): metadata only, never
 * content. One shape for a record just written and a row read back.
 */
public final class GenerationView {

    /** The columns {@link #of(Row)} reads. */
    static final String COLUMNS = "id, created_at, model, provider, api_key_id, streamed, status, finish_reason, "
            + "prompt_tokens, completion_tokens, cached_tokens, cost, latency_ms, api";

    private GenerationView() {
    }

    static JsonObject of(UsageRecord r) {
        return view(r.generationId(), Instant.ofEpochMilli(r.createdAtMillis()), r.model(), r.provider(), r.apiKeyId(),
                r.streamed(), r.status(), r.finishReason(), r.promptTokens(), r.completionTokens(), r.cachedTokens(),
                r.cost(), r.latencyMillis(), r.api());
    }

    static JsonObject of(Row row) {
        return view(row.getString("id"), row.getOffsetDateTime("created_at").toInstant(), row.getString("model"),
                row.getString("provider"), row.getLong("api_key_id"), row.getBoolean("streamed"),
                row.getInteger("status"), row.getString("finish_reason"), row.getInteger("prompt_tokens"),
                row.getInteger("completion_tokens"), row.getInteger("cached_tokens"), row.getLong("cost"),
                row.getInteger("latency_ms"), row.getString("api"));
    }

    private static JsonObject view(String id, Instant createdAt, String model, String provider, long keyId,
            boolean streamed, int status, String finishReason, int promptTokens, int completionTokens,
            int cachedTokens, long cost, int latencyMillis, String api) {
        return new JsonObject()
                .put("id", id)
                .put("created_at", Timestamps.iso(createdAt))
                .put("model", model)
                .put("provider", provider)
                .put("key_id", keyId)
                .put("streamed", streamed)
                .put("status", status < 400 ? "ok" : "error")
                .put("status_code", status)
                .put("finish_reason", finishReason)
                .put("prompt_tokens", promptTokens)
                .put("completion_tokens", completionTokens)
                .put("cached_tokens", cachedTokens)
                .put("usage_usd", Money.toUsdText(cost))
                .put("latency_ms", latencyMillis)
                .put("api", api);
    }
}
