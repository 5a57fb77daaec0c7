package co.corouter.audit.s3;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditRecord;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BatchObjectTest {

    private static AuditBatch batch(long account, String id, String windowStart) {
        Instant window = Instant.parse(windowStart);
        return new AuditBatch(account, id, window, List.of(new AuditRecord("gen-1", window,
                Buffer.buffer("{\"a\":1}"))));
    }

    @Test
    void theKeyIsThePrefixTheAccountTheUtcHourAndTheWindowAndBatch() {
        AuditBatch batch = batch(7, "01hzy8k3m4n5p6q7r8s9t0v1w2", "2026-01-02T03:04:05.678Z");

        assertThat(BatchObject.key("audit/", batch))
                .isEqualTo("audit/account-7/2026/01/02/03/1767323045678-01hzy8k3m4n5p6q7r8s9t0v1w2.jsonl.gz");
        assertThat(BatchObject.key("", batch)).startsWith("account-7/2026/01/02/03/");
    }

    @Test
    void theSameBatchAlwaysGivesTheSameKeyAndTheSameBytes() {
        AuditBatch batch = Batches.batch(7, Instant.parse("2026-01-02T03:00:00Z"), 20);
        AuditBatch again = new AuditBatch(batch.accountId(), batch.batchId(), batch.windowStart(), batch.records());

        assertThat(BatchObject.key("p/", again)).isEqualTo(BatchObject.key("p/", batch));
        assertThat(BatchObject.gzipJsonLines(again)).isEqualTo(BatchObject.gzipJsonLines(batch));
        assertThat(Batches.gunzip(BatchObject.gzipJsonLines(batch))).isEqualTo(Batches.jsonLines(batch));
    }

    @Test
    void aBatchIdThatWouldChangeTheKeysLayoutIsRefused() {
        assertThatThrownBy(() -> BatchObject.key("", batch(7, "../../other-account", "2026-01-02T03:00:00Z")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not usable in an object key");
    }
}
