package co.corouter.plugin.api.audit;

import io.vertx.core.buffer.Buffer;

import java.time.Instant;

/**
 * One request's audit record.
 *
 * @param generationId the request's generation id ({@code gen-...}); the de-duplication key
 * @param at           when the request completed
 * @param json         the record as one JSON object in UTF-8, with no line break: write these bytes as they are
 *                     (one line of a JSON Lines file, one Kafka message value)
 * @since 1.6.0
 */
public record AuditRecord(String generationId, Instant at, Buffer json) {
}
