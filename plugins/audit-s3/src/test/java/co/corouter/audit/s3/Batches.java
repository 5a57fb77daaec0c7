package co.corouter.audit.s3;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditRecord;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** Batches the way the host builds them, and what a consumer of the bucket reads back. */
final class Batches {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ID_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz";

    private Batches() {
    }

    /** A fresh 26-character batch id. */
    static String batchId() {
        StringBuilder id = new StringBuilder();
        for (int i = 0; i < 26; i++) {
            id.append(ID_CHARS.charAt(RANDOM.nextInt(ID_CHARS.length())));
        }
        return id.toString();
    }

    /** {@code count} records with non-ASCII content, the way the host encodes them (one JSON object each). */
    static AuditBatch batch(long accountId, Instant windowStart, int count) {
        List<AuditRecord> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Instant at = windowStart.plusMillis(i);
            JsonObject json = new JsonObject().put("generation_id", "gen-" + i).put("at", at.toString())
                    .put("model", "mock/echo").put("prompt", "héllo ☃ n°" + i + " \"quoted\"\\slash");
            records.add(new AuditRecord("gen-" + i, at, json.toBuffer()));
        }
        return new AuditBatch(accountId, batchId(), windowStart, records);
    }

    /** The JSON Lines a batch must be stored as: each record's bytes and a line feed. */
    static byte[] jsonLines(AuditBatch batch) {
        Buffer lines = Buffer.buffer();
        batch.records().forEach(record -> lines.appendBuffer(record.json()).appendByte((byte) '\n'));
        return lines.getBytes();
    }

    static byte[] gunzip(byte[] gzip) {
        try (GZIPInputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gzip));
             ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            in.transferTo(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("not gzip", e);
        }
    }
}
