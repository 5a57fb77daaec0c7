package co.corouter.audit.s3;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import co.corouter.plugin.api.audit.AuditRecord;
import co.corouter.testkit.s3.S3MockExtension;
import co.corouter.testkit.s3.S3MockServer;
import co.corouter.testkit.s3.S3MockServer.StoredObject;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The destination against a real S3 server (S3Mock in its own JVM); every case reads the bucket back. */
@ExtendWith(VertxExtension.class)
class S3DestinationTest {

    private static final String BUCKET = "audit";

    @RegisterExtension
    static final S3MockExtension S3 = new S3MockExtension(s3 -> s3.bucket(BUCKET));

    private Destinations destinations;
    private String prefix;

    @BeforeEach
    void setUp(Vertx vertx) {
        destinations = new Destinations(vertx, new S3AuditSink());
        prefix = "run-" + Batches.batchId().substring(0, 10) + "/";
    }

    @AfterEach
    void tearDown() throws Exception {
        destinations.closeAll();
    }

    private JsonObject config(S3MockServer s3) {
        return Destinations.config(s3.endpoint(), BUCKET, prefix);
    }

    private List<String> keys(S3MockServer s3) {
        return s3.keys(BUCKET).stream().filter(key -> key.startsWith(prefix)).toList();
    }

    @Test
    void aBatchIsStoredAsOneGzipJsonLinesObjectKeyedByAccountHourWindowAndBatch(S3MockServer s3) throws Exception {
        AuditDestination destination = destinations.open(TestGuard.loopbackOnly(), config(s3));
        Instant window = Instant.parse("2026-03-07T05:10:00Z");
        AuditBatch batch = Batches.batch(Destinations.ACCOUNT, window, 3);

        destinations.onEventLoop(destination, d -> d.write(batch));

        String key = prefix + "account-42/2026/03/07/05/" + window.toEpochMilli() + "-" + batch.batchId()
                + ".jsonl.gz";
        assertThat(keys(s3)).containsExactly(key);
        StoredObject stored = s3.object(BUCKET, key).orElseThrow();
        assertThat(stored.contentType()).isEqualTo("application/gzip");
        assertThat(stored.header("content-encoding")).isNull();
        assertThat(Batches.gunzip(stored.body())).isEqualTo(Batches.jsonLines(batch));
    }

    @Test
    void retryingABatchOverwritesItsOwnObjectSoExactlyOneRemains(S3MockServer s3) throws Exception {
        AuditDestination destination = destinations.open(TestGuard.loopbackOnly(), config(s3));
        AuditBatch batch = Batches.batch(Destinations.ACCOUNT, Instant.parse("2026-03-07T23:59:59.999Z"), 5);

        for (int attempt = 0; attempt < 3; attempt++) {
            destinations.onEventLoop(destination, d -> d.write(batch));
        }

        assertThat(keys(s3)).hasSize(1);
        assertThat(Batches.gunzip(s3.object(BUCKET, keys(s3).get(0)).orElseThrow().body()))
                .isEqualTo(Batches.jsonLines(batch));
    }

    @Test
    void aBatchOfMoreThanOneMegabyteIsGzippedOnAWorkerAndStoredWhole(S3MockServer s3) throws Exception {
        AuditDestination destination = destinations.open(TestGuard.loopbackOnly(), config(s3));
        Instant window = Instant.parse("2026-03-08T00:00:00Z");
        List<AuditRecord> records = new ArrayList<>();
        String filler = "x".repeat(6000);
        for (int i = 0; i < 300; i++) {
            records.add(new AuditRecord("gen-" + i, window, new JsonObject().put("i", i).put("content", filler + i)
                    .toBuffer()));
        }
        AuditBatch batch = new AuditBatch(Destinations.ACCOUNT, Batches.batchId(), window, records);
        assertThat(BatchObject.jsonLinesSize(batch)).isGreaterThan(S3Destination.INLINE_GZIP_LIMIT);

        destinations.onEventLoop(destination, d -> d.write(batch));

        assertThat(Batches.gunzip(s3.object(BUCKET, keys(s3).get(0)).orElseThrow().body()))
                .isEqualTo(Batches.jsonLines(batch));
    }

    @Test
    void theConnectionTestWritesAProbeObjectAndDeletesItAgain(S3MockServer s3) throws Exception {
        TestGuard guard = TestGuard.loopbackOnly();
        AuditDestination destination = destinations.open(guard, config(s3));

        destinations.onEventLoop(destination, AuditDestination::test);

        assertThat(keys(s3)).isEmpty();
        // two requests went out, each through the guard: the probe's PUT and its DELETE
        assertThat(guard.checks()).containsExactly(new TestGuard.Check("http", "127.0.0.1", s3.port()),
                new TestGuard.Check("http", "127.0.0.1", s3.port()));
    }

    @Test
    void requestedServerSideEncryptionIsAskedForOnEveryObject(S3MockServer s3) throws Exception {
        AuditDestination destination = destinations.open(TestGuard.loopbackOnly(), config(s3).put("sse", "AES256"));

        destinations.onEventLoop(destination, d -> d.write(Batches.batch(Destinations.ACCOUNT, Instant.now(), 1)));

        assertThat(s3.object(BUCKET, keys(s3).get(0)).orElseThrow().header("x-amz-server-side-encryption"))
                .isEqualTo("AES256");
    }

    @Test
    void aBucketThatDoesNotExistIsAConfigurationError(S3MockServer s3) {
        AuditDestination destination = destinations.open(TestGuard.loopbackOnly(),
                Destinations.config(s3.endpoint(), "no-such-bucket", prefix));

        assertThatThrownBy(() -> destinations.onEventLoop(destination, AuditDestination::test))
                .isInstanceOfSatisfying(AuditException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.CONFIG);
                    assertThat(e.retryable()).isFalse();
                    assertThat(e.getMessage()).contains("NoSuchBucket").doesNotContain(Destinations.SECRET);
                });
        assertThatThrownBy(() -> destinations.onEventLoop(destination,
                d -> d.write(Batches.batch(Destinations.ACCOUNT, Instant.now(), 1))))
                .isInstanceOfSatisfying(AuditException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFIG));
    }

    @Test
    void whileS3IsDownWritesAreUnavailableAndTheSameBatchIsStoredOnceItIsBack(S3MockServer s3) throws Exception {
        AuditDestination destination = destinations.open(TestGuard.loopbackOnly(), config(s3));
        AuditBatch before = Batches.batch(Destinations.ACCOUNT, Instant.parse("2026-03-07T10:00:00Z"), 2);
        AuditBatch during = Batches.batch(Destinations.ACCOUNT, Instant.parse("2026-03-07T10:01:00Z"), 2);
        destinations.onEventLoop(destination, d -> d.write(before));   // leaves a pooled keep-alive connection

        s3.stopForOutage();
        assertThatThrownBy(() -> destinations.onEventLoop(destination, d -> d.write(during)))
                .isInstanceOfSatisfying(AuditException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
                    assertThat(e.retryable()).isTrue();
                });
        assertThatThrownBy(() -> destinations.onEventLoop(destination, AuditDestination::test))
                .isInstanceOfSatisfying(AuditException.class, e -> assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE));

        s3.restart();
        destinations.onEventLoop(destination, d -> d.write(during));

        assertThat(keys(s3)).hasSize(2);
        assertThat(keys(s3).get(1)).endsWith(during.batchId() + ".jsonl.gz");
        assertThat(Batches.gunzip(s3.object(BUCKET, keys(s3).get(1)).orElseThrow().body()))
                .isEqualTo(Batches.jsonLines(during));
    }

    @Test
    void aGuardThatRefusesTheEndpointFailsWithRefusedAndNothingReachesS3(S3MockServer s3) {
        TestGuard guard = TestGuard.refusingEverything();
        AuditDestination destination = destinations.open(guard, config(s3));

        assertThatThrownBy(() -> destinations.onEventLoop(destination,
                d -> d.write(Batches.batch(Destinations.ACCOUNT, Instant.now(), 1))))
                .isInstanceOfSatisfying(AuditException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.REFUSED);
                    assertThat(e.getMessage()).contains("refused by the test guard");
                });
        assertThatThrownBy(() -> destinations.onEventLoop(destination, AuditDestination::test))
                .isInstanceOfSatisfying(AuditException.class, e -> assertThat(e.kind()).isEqualTo(Kind.REFUSED));

        assertThat(keys(s3)).isEmpty();
        assertThat(guard.checks()).containsOnly(new TestGuard.Check("http", "127.0.0.1", s3.port()));
    }

    @Test
    void withoutAnEndpointTheBucketIsAddressedOnTheAwsRegionalEndpointThroughTheGuard() {
        TestGuard guard = TestGuard.refusingEverything();
        JsonObject config = Destinations.config("unused", BUCKET, prefix);
        config.remove("endpoint");
        config.remove("path_style");
        AuditDestination destination = destinations.open(guard, config.put("region", "eu-west-1"));

        assertThatThrownBy(() -> destinations.onEventLoop(destination, AuditDestination::test))
                .isInstanceOfSatisfying(AuditException.class, e -> assertThat(e.kind()).isEqualTo(Kind.REFUSED));

        assertThat(guard.checks()).containsExactly(new TestGuard.Check("https", BUCKET + ".s3.eu-west-1.amazonaws.com",
                443));
    }

    @Test
    void theConnectionGoesToTheAddressTheGuardPinnedNotToWhatTheNameResolvesTo(S3MockServer s3) throws Exception {
        // s3.test resolves nowhere; only the guard's pin can make this work
        TestGuard guard = TestGuard.loopbackOnly().pin("s3.test", "127.0.0.1");
        AuditDestination destination = destinations.open(guard,
                Destinations.config("http://s3.test:" + s3.port(), BUCKET, prefix));
        AuditBatch batch = Batches.batch(Destinations.ACCOUNT, Instant.now(), 2);

        destinations.onEventLoop(destination, d -> d.write(batch));

        assertThat(guard.checks()).containsExactly(new TestGuard.Check("http", "s3.test", s3.port()));
        assertThat(Batches.gunzip(s3.object(BUCKET, keys(s3).get(0)).orElseThrow().body()))
                .isEqualTo(Batches.jsonLines(batch));
    }

    @Test
    void withARoleBatchesAreStoredThroughTheRolesCredentialsFromSts(Vertx vertx, S3MockServer s3) throws Exception {
        FakeSts sts = FakeSts.builder().caller(Destinations.ACCESS_KEY, Destinations.SECRET, null)
                .role("arn:aws:iam::111122223333:role/corouter-audit").start(vertx).await();
        AuditDestination destination = destinations.open(TestGuard.loopbackOnly(), config(s3)
                .put("role_arn", "arn:aws:iam::111122223333:role/corouter-audit").put("sts_endpoint", sts.endpoint()));
        AuditBatch batch = Batches.batch(Destinations.ACCOUNT, Instant.now(), 3);

        destinations.onEventLoop(destination, AuditDestination::test);
        destinations.onEventLoop(destination, d -> d.write(batch));

        assertThat(sts.issued()).hasSize(1);
        assertThat(keys(s3)).hasSize(1);
        assertThat(Batches.gunzip(s3.object(BUCKET, keys(s3).get(0)).orElseThrow().body()))
                .isEqualTo(Batches.jsonLines(batch));
    }

    @Test
    void theSdkStartsNoThreadOfItsOwn(S3MockServer s3) throws Exception {
        AuditDestination destination = destinations.open(TestGuard.loopbackOnly(), config(s3));

        destinations.onEventLoop(destination, AuditDestination::test);
        destinations.onEventLoop(destination, d -> d.write(Batches.batch(Destinations.ACCOUNT, Instant.now(), 1)));

        // the SDK names its completion and timer threads sdk-async-response-* and sdk-ScheduledExecutor-*
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .noneMatch(name -> name.startsWith("sdk-") || name.startsWith("aws-java-sdk"));
    }

    @Test
    void recordBytesAreStoredAsTheyAreEvenWhenTheyAreNotCanonicalJson(S3MockServer s3) throws Exception {
        AuditDestination destination = destinations.open(TestGuard.loopbackOnly(), config(s3));
        Instant window = Instant.parse("2026-03-07T10:00:00Z");
        AuditBatch batch = new AuditBatch(Destinations.ACCOUNT, Batches.batchId(), window, List.of(
                new AuditRecord("gen-a", window, Buffer.buffer("{ \"spaced\" : 1 ,\"u\":\"\\u00e9\"}")),
                new AuditRecord("gen-b", window, Buffer.buffer("{\"raw\":\"é☃\"}"))));

        destinations.onEventLoop(destination, d -> d.write(batch));

        assertThat(Batches.gunzip(s3.object(BUCKET, keys(s3).get(0)).orElseThrow().body()))
                .isEqualTo(Buffer.buffer("{ \"spaced\" : 1 ,\"u\":\"\\u00e9\"}\n{\"raw\":\"é☃\"}\n").getBytes());
    }
}
