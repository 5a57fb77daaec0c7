package co.corouter.testkit.audit;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditRecord;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Audit batches as the host builds them, for audit plugin tests: unique batch ids of 26 characters {@code [0-9a-z]},
 * {@code gen-...} generation ids, and record JSON with the content that breaks naive writers (quotes, escaped line
 * breaks, non-ASCII, astral characters), one line each.
 */
public final class AuditBatches {

    private static final String ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";
    private static final SecureRandom RANDOM = new SecureRandom();

    private AuditBatches() {
    }

    /** {@code records} records of account {@code accountId}, completed at and after {@code windowStart}. */
    public static AuditBatch batch(long accountId, Instant windowStart, int records) {
        List<AuditRecord> list = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            String generationId = "gen-" + randomId(24);
            Instant at = windowStart.plusMillis(i);
            JsonObject json = new JsonObject()
                    .put("generation_id", generationId)
                    .put("account_id", accountId)
                    .put("completed_at", at.toString())
                    .put("model", "mock/echo")
                    .put("prompt", "Say \"hi\" in línea " + i + ",\nthen ☃ and 🎉 \\ done")
                    .put("usage", new JsonObject().put("prompt_tokens", 7 + i).put("completion_tokens", 3));
            list.add(new AuditRecord(generationId, at, json.toBuffer()));
        }
        return new AuditBatch(accountId, randomId(26), windowStart, list);
    }

    /** What a JSON Lines destination must hold after these batches, in order: each record's bytes then a newline. */
    public static Buffer jsonLines(List<AuditBatch> batches) {
        Buffer lines = Buffer.buffer();
        for (AuditBatch batch : batches) {
            for (AuditRecord record : batch.records()) {
                lines.appendBuffer(record.json()).appendByte((byte) '\n');
            }
        }
        return lines;
    }

    private static String randomId(int length) {
        StringBuilder id = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            id.append(ID_ALPHABET.charAt(RANDOM.nextInt(ID_ALPHABET.length())));
        }
        return id.toString();
    }
}
