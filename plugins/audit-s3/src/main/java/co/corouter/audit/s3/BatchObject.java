package co.corouter.audit.s3;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditRecord;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Locale;
import java.util.zip.GZIPOutputStream;

/**
 * How one batch is stored: its object key, derived from the batch alone so that a retried batch overwrites its own
 * object, and its body, the records as gzip JSON Lines.
 */
final class BatchObject {

    static final String CONTENT_TYPE = "application/gzip";

    private BatchObject() {
    }

    /**
     * {@code <prefix>account-<id>/<yyyy>/<MM>/<dd>/<HH>/<windowStart epoch millis>-<batchId>.jsonl.gz}, the date of
     * the window's start in UTC.
     *
     * @throws IllegalArgumentException when the batch id could change the key's layout (it is [0-9a-z] by contract)
     */
    static String key(String prefix, AuditBatch batch) {
        if (!batch.batchId().matches("[0-9A-Za-z_-]{1,64}")) {
            throw new IllegalArgumentException("batch id '" + batch.batchId() + "' is not usable in an object key");
        }
        ZonedDateTime start = batch.windowStart().atZone(ZoneOffset.UTC);
        return String.format(Locale.ROOT, "%saccount-%d/%04d/%02d/%02d/%02d/%d-%s.jsonl.gz", prefix,
                batch.accountId(), start.getYear(), start.getMonthValue(), start.getDayOfMonth(), start.getHour(),
                batch.windowStart().toEpochMilli(), batch.batchId());
    }

    /** The uncompressed size: each record's JSON and a line feed. */
    static long jsonLinesSize(AuditBatch batch) {
        long size = 0;
        for (AuditRecord record : batch.records()) {
            size += record.json().length() + 1;
        }
        return size;
    }

    /** Each record's bytes as given, then {@code \n}; gzip without name or time: a batch always gives one result. */
    static byte[] gzipJsonLines(AuditBatch batch) {
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(jsonLinesSize(batch) / 4 + 64,
                Integer.MAX_VALUE - 8));
        try (GZIPOutputStream gzip = new GZIPOutputStream(out, 64 * 1024)) {
            for (AuditRecord record : batch.records()) {
                gzip.write(record.json().getBytes());
                gzip.write('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException("gzip into memory failed", e);
        }
        return out.toByteArray();
    }
}
