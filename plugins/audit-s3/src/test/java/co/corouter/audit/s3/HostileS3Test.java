package co.corouter.audit.s3;

import co.corouter.plugin.api.audit.AuditContext;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The destination against endpoints that misbehave the ways AWS S3 can and S3Mock will not: S3Mock accepts any
 * credentials, never redirects, never throttles and never stalls.
 */
@ExtendWith(VertxExtension.class)
class HostileS3Test {

    private static final String SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLEsessionTOKENneverShown";

    private Destinations destinations;

    @BeforeEach
    void setUp(Vertx vertx) {
        destinations = new Destinations(vertx, new S3AuditSink());
    }

    @AfterEach
    void tearDown() throws Exception {
        destinations.closeAll();
    }

    private static JsonObject config(String endpoint) {
        return Destinations.config(endpoint, "audit", "p/");
    }

    private static void assertNoCredentialIn(AuditException e) {
        assertThat(e.getMessage()).doesNotContain(Destinations.SECRET).doesNotContain(Destinations.ACCESS_KEY)
                .doesNotContain(SESSION_TOKEN).doesNotContain("Signature=").doesNotContain("refused by the fake");
    }

    @Test
    void refusedCredentialsAreAnAuthErrorWhoseMessageHoldsNoCredential(Vertx vertx) throws Exception {
        FakeS3 fake = FakeS3.start(vertx, FakeS3.error(403, "SignatureDoesNotMatch")).await();
        TestGuard guard = TestGuard.loopbackOnly().pin("s3.example.test", "127.0.0.1");
        AuditDestination destination = destinations.open(guard,
                config("http://s3.example.test:" + fake.port()).put("session_token", SESSION_TOKEN));

        assertThatThrownBy(() -> destinations.onEventLoop(destination,
                d -> d.write(Batches.batch(Destinations.ACCOUNT, Instant.now(), 1))))
                .isInstanceOfSatisfying(AuditException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.AUTH);
                    assertThat(e.getMessage()).contains("403 SignatureDoesNotMatch");
                    assertNoCredentialIn(e);
                });
        assertThatThrownBy(() -> destinations.onEventLoop(destination, AuditDestination::test))
                .isInstanceOfSatisfying(AuditException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.AUTH);
                    assertNoCredentialIn(e);
                });

        // signed with the configured key, sent to the pinned address under the configured name
        FakeS3.Seen put = fake.requests().get(0);
        assertThat(put.method()).isEqualTo("PUT");
        assertThat(put.host()).isEqualTo("s3.example.test:" + fake.port());
        assertThat(put.headers().get("Authorization")).contains("Credential=" + Destinations.ACCESS_KEY + "/");
        assertThat(put.headers().get("x-amz-security-token")).isEqualTo(SESSION_TOKEN);
        assertThat(fake.requests()).hasSize(2);
    }

    @Test
    void everyRequestStatesItsLengthAndNoneIsSentChunkedWhichS3Refuses(Vertx vertx) throws Exception {
        FakeS3 fake = FakeS3.start(vertx, FakeS3.accepting()).await();
        AuditDestination destination = destinations.open(TestGuard.loopbackOnly(),
                config("http://127.0.0.1:" + fake.port()));

        destinations.onEventLoop(destination, AuditDestination::test);
        destinations.onEventLoop(destination, d -> d.write(Batches.batch(Destinations.ACCOUNT, Instant.now(), 3)));

        assertThat(fake.requests()).extracting(FakeS3.Seen::method).containsExactly("PUT", "DELETE", "PUT");
        assertThat(fake.requests()).allSatisfy(seen -> {
            assertThat(seen.headers().get("Transfer-Encoding")).isNull();
            assertThat(seen.headers().get("Expect")).isNull();
            assertThat(seen.headers().get("Content-Length")).isNotNull();
        });
        assertThat(fake.requests().get(2).uri()).startsWith("/audit/p/account-42/").endsWith(".jsonl.gz");
        assertThat(fake.requests().get(2).headers().get("Content-Type")).isEqualTo("application/gzip");
    }

    @Test
    void anUnknownAccessKeyIsAnAuthError(Vertx vertx) throws Exception {
        FakeS3 fake = FakeS3.start(vertx, FakeS3.error(403, "InvalidAccessKeyId")).await();
        AuditDestination destination = destinations.open(TestGuard.loopbackOnly(),
                config("http://127.0.0.1:" + fake.port()));

        assertThatThrownBy(() -> destinations.onEventLoop(destination, AuditDestination::test))
                .isInstanceOfSatisfying(AuditException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.AUTH);
                    assertThat(e.retryable()).isFalse();
                    assertNoCredentialIn(e);
                });
    }

    @Test
    void aRedirectIsNeverFollowedNotEvenToAnAddressTheGuardWouldAllow(Vertx vertx) throws Exception {
        FakeS3 target = FakeS3.start(vertx, request -> request.response().end()).await();
        FakeS3 redirecting = FakeS3.start(vertx, request -> request.body().onSuccess(body -> request.response()
                .setStatusCode(307).putHeader("Location", "http://127.0.0.1:" + target.port() + "/audit/stolen")
                .end())).await();
        TestGuard guard = TestGuard.loopbackOnly();
        AuditDestination destination = destinations.open(guard, config("http://127.0.0.1:" + redirecting.port()));

        assertThatThrownBy(() -> destinations.onEventLoop(destination,
                d -> d.write(Batches.batch(Destinations.ACCOUNT, Instant.now(), 1))))
                .isInstanceOfSatisfying(AuditException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.CONFIG);
                    assertThat(e.getMessage()).contains("307").contains("redirects are not followed");
                });

        assertThat(redirecting.requests()).hasSize(1);
        assertThat(target.connections()).isZero();
        assertThat(guard.checks()).containsExactly(new TestGuard.Check("http", "127.0.0.1", redirecting.port()));
    }

    @Test
    void aRedirectToCloudMetadataIsNotFollowed(Vertx vertx) throws Exception {
        FakeS3 redirecting = FakeS3.start(vertx, request -> request.body().onSuccess(body -> request.response()
                .setStatusCode(307).putHeader("Location", "http://169.254.169.254/latest/meta-data/").end()))
                .await();
        TestGuard guard = TestGuard.loopbackOnly();
        AuditDestination destination = destinations.open(guard, config("http://127.0.0.1:" + redirecting.port()));

        assertThatThrownBy(() -> destinations.onEventLoop(destination, AuditDestination::test))
                .isInstanceOfSatisfying(AuditException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFIG));

        // the only endpoint ever checked (and so connected to) is the configured one
        assertThat(guard.checks()).containsOnly(new TestGuard.Check("http", "127.0.0.1", redirecting.port()));
        assertThat(redirecting.requests()).hasSize(1);
    }

    @Test
    void throttlingIsUnavailableAndLeftToTheHostToRetry(Vertx vertx) throws Exception {
        FakeS3 fake = FakeS3.start(vertx, FakeS3.error(503, "SlowDown")).await();
        AuditDestination destination = destinations.open(TestGuard.loopbackOnly(),
                config("http://127.0.0.1:" + fake.port()));

        assertThatThrownBy(() -> destinations.onEventLoop(destination,
                d -> d.write(Batches.batch(Destinations.ACCOUNT, Instant.now(), 1))))
                .isInstanceOfSatisfying(AuditException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
                    assertThat(e.retryable()).isTrue();
                    assertThat(e.getMessage()).contains("503 SlowDown");
                });
        assertThat(fake.requests()).hasSize(1);
    }

    @Test
    void aServerThatStopsAnsweringIsATimeout(Vertx vertx) throws Exception {
        FakeS3 silent = FakeS3.start(vertx, request -> request.body()).await();
        AuditDestination destination = new S3Destination(new AuditContext(vertx, Destinations.ACCOUNT,
                TestGuard.loopbackOnly(), Path.of("unused")),
                S3Options.parse(config("http://127.0.0.1:" + silent.port())), 2_000, 300, Clock.systemUTC());

        try {
            assertThatThrownBy(() -> destinations.onEventLoop(destination,
                    d -> d.write(Batches.batch(Destinations.ACCOUNT, Instant.now(), 1))))
                    .isInstanceOfSatisfying(AuditException.class, e -> {
                        assertThat(e.kind()).isEqualTo(Kind.TIMEOUT);
                        assertThat(e.retryable()).isTrue();
                    });
            assertThat(silent.requests()).hasSize(1);
        } finally {
            destination.close().await();
        }
    }
}
