package co.corouter.plugin.api.audit;

import java.time.Instant;
import java.util.List;

/**
 * Records of one account, in the order their requests completed.
 *
 * @param accountId   whose records these are
 * @param batchId     unique and stable across retries of this batch (26 characters, [0-9a-z]); use it to make a
 *                    repeated write harmless
 * @param windowStart the start of the time window the batch belongs to (UTC; for object keys and file names)
 * @param records     at least one
 * @since 1.6.0
 */
public record AuditBatch(long accountId, String batchId, Instant windowStart, List<AuditRecord> records) {

    public AuditBatch {
        records = List.copyOf(records);
        if (records.isEmpty()) {
            throw new IllegalArgumentException("a batch has at least one record");
        }
    }
}
