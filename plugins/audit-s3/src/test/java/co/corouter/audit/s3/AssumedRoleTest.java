package co.corouter.audit.s3;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

/**
 * A destination with {@code role_arn}: it calls STS AssumeRole (a faithful fake that checks SigV4 signatures) with the
 * configured keys and signs S3 requests (a recording fake S3) with the role's temporary credentials. Time is a
 * {@link TestClock}: the fake STS counts expirations from it and the destination renews by it.
 */
@ExtendWith(VertxExtension.class)
class AssumedRoleTest {

    private static final String ROLE_ARN = "arn:aws:iam::111122223333:role/corouter-audit";
    private static final String BASE_TOKEN = "IQoJb3JpZ2luX2VjBASEsessionTOKENneverShown";
    private static final Instant START = Instant.parse("2026-03-07T10:00:00Z");

    private Destinations destinations;
    private TestClock clock;

    @BeforeEach
    void setUp(Vertx vertx) {
        destinations = new Destinations(vertx, new S3AuditSink());
        clock = new TestClock(START);
    }

    @AfterEach
    void tearDown() throws Exception {
        destinations.closeAll();
    }

    /** An STS that knows the configured keys (of Destinations) and the role, on the test's clock. */
    private FakeSts.Builder sts() {
        return FakeSts.builder().caller(Destinations.ACCESS_KEY, Destinations.SECRET, null).role(ROLE_ARN).clock(clock);
    }

    private static JsonObject config(FakeS3 s3, FakeSts sts) {
        return Destinations.config("http://127.0.0.1:" + s3.port(), "audit", "p/").put("role_arn", ROLE_ARN)
                .put("sts_endpoint", sts.endpoint());
    }

    /** Opened as the sink does, but renewing by the test's clock. */
    private AuditDestination open(TestGuard guard, JsonObject config) {
        return destinations.adopt(new S3Destination(destinations.context(guard), S3Options.parse(config),
                S3Destination.CONNECT_TIMEOUT_MS, S3Destination.IDLE_TIMEOUT_MS, clock));
    }

    private void write(AuditDestination destination) throws Exception {
        destinations.onEventLoop(destination, d -> d.write(Batches.batch(Destinations.ACCOUNT, clock.instant(), 2)));
    }

    private static void assertSignedWith(FakeS3.Seen request, FakeSts.Issued credentials) {
        assertThat(request.headers().get("Authorization"))
                .contains("Credential=" + credentials.accessKeyId() + "/")
                .contains("/us-east-1/s3/aws4_request")
                .doesNotContain(Destinations.ACCESS_KEY);
        assertThat(request.headers().get("x-amz-security-token")).isEqualTo(credentials.sessionToken());
    }

    private static void assertNoCredentialIn(AuditException e, FakeSts sts) {
        assertThat(e.getMessage()).doesNotContain(Destinations.SECRET).doesNotContain(Destinations.ACCESS_KEY)
                .doesNotContain(BASE_TOKEN).doesNotContain("Signature=").doesNotContain(FakeSts.MESSAGE_MARKER)
                .doesNotContain("999988887777");
        for (FakeSts.Issued issued : sts.issued()) {
            assertThat(e.getMessage()).doesNotContain(issued.accessKeyId()).doesNotContain(issued.secretAccessKey())
                    .doesNotContain(issued.sessionToken());
        }
    }

    @Test
    void theProbeAndEveryBatchAreSignedWithTheRolesTemporaryCredentialsNeverWithTheConfiguredKeys(Vertx vertx)
            throws Exception {
        FakeS3 s3 = FakeS3.start(vertx, FakeS3.accepting()).await();
        FakeSts sts = sts().start(vertx).await();
        TestGuard guard = TestGuard.loopbackOnly().pin("s3.test", "127.0.0.1").pin("sts.test", "127.0.0.1");
        AuditDestination destination = open(guard, config(s3, sts)
                .put("endpoint", "http://s3.test:" + s3.port())
                .put("sts_endpoint", "http://sts.test:" + sts.port()));

        destinations.onEventLoop(destination, AuditDestination::test);
        write(destination);

        // one AssumeRole, signed by the configured keys for sts (the fake recomputed the signature with the secret)
        assertThat(sts.requests()).hasSize(1);
        FakeSts.Seen assume = sts.requests().get(0);
        assertThat(assume.form()).containsEntry("Action", "AssumeRole").containsEntry("Version", "2011-06-15")
                .containsEntry("RoleArn", ROLE_ARN).containsEntry("RoleSessionName", "corouter-audit")
                .doesNotContainKey("ExternalId");
        assertThat(assume.credentialScope()).matches(Destinations.ACCESS_KEY + "/[0-9]{8}/us-east-1/sts/aws4_request");
        assertThat(assume.headers().get("Host")).isEqualTo("sts.test:" + sts.port());
        assertThat(sts.issued()).hasSize(1);
        // S3 saw the role, never the keys; both endpoints went through the guard by name
        assertThat(s3.requests()).extracting(FakeS3.Seen::method).containsExactly("PUT", "DELETE", "PUT");
        assertThat(s3.requests()).allSatisfy(request -> assertSignedWith(request, sts.issued().get(0)));
        assertThat(guard.checks()).contains(new TestGuard.Check("http", "sts.test", sts.port()),
                new TestGuard.Check("http", "s3.test", s3.port()));
        assertThat(guard.checks().get(0)).isEqualTo(new TestGuard.Check("http", "sts.test", sts.port()));
    }

    @Test
    void theExternalIdAndSessionNameReachStsAndAWrongExternalIdIsAnAuthError(Vertx vertx) throws Exception {
        FakeS3 s3 = FakeS3.start(vertx, FakeS3.accepting()).await();
        FakeSts sts = sts().externalId("acme-7f3c:audit").start(vertx).await();
        AuditDestination right = open(TestGuard.loopbackOnly(), config(s3, sts)
                .put("external_id", "acme-7f3c:audit").put("role_session_name", "acme@corouter"));
        AuditDestination wrong = open(TestGuard.loopbackOnly(), config(s3, sts).put("external_id", "guessed-id"));

        write(right);
        assertThatThrownBy(() -> write(wrong)).isInstanceOfSatisfying(AuditException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.AUTH);
            assertThat(e.retryable()).isFalse();
            assertThat(e.getMessage()).startsWith("STS AssumeRole failed: STS answered 403 AccessDenied")
                    .contains("trust policy").contains("external_id");
            assertNoCredentialIn(e, sts);
        });

        assertThat(sts.requests()).extracting(FakeSts.Seen::form)
                .extracting(form -> form.get("ExternalId"), form -> form.get("RoleSessionName"))
                .containsExactly(tuple("acme-7f3c:audit", "acme@corouter"), tuple("guessed-id", "corouter-audit"));
        assertThat(sts.issued()).hasSize(1);
        assertThat(s3.requests()).hasSize(1);
    }

    @Test
    void stsIsAskedOnceWhileTheCredentialsAreFreshAndAgainFiveMinutesBeforeTheyExpire(Vertx vertx)
            throws Exception {
        FakeS3 s3 = FakeS3.start(vertx, FakeS3.accepting()).await();
        FakeSts sts = sts().lifetime(Duration.ofHours(1)).start(vertx).await();
        AuditDestination destination = open(TestGuard.loopbackOnly(), config(s3, sts));

        write(destination);
        write(destination);
        write(destination);
        assertThat(sts.requests()).hasSize(1);

        clock.advance(Duration.ofMinutes(54));     // 6 minutes left: still fresh
        write(destination);
        assertThat(sts.requests()).hasSize(1);

        clock.advance(Duration.ofMinutes(2));      // 4 minutes left: renewed before use
        write(destination);
        write(destination);
        assertThat(sts.requests()).hasSize(2);

        clock.advance(Duration.ofHours(3));        // long expired (an idle destination): renewed on the next write
        write(destination);
        assertThat(sts.requests()).hasSize(3);

        List<FakeS3.Seen> puts = s3.requests();
        assertThat(puts).hasSize(7);
        puts.subList(0, 4).forEach(put -> assertSignedWith(put, sts.issued().get(0)));
        puts.subList(4, 6).forEach(put -> assertSignedWith(put, sts.issued().get(1)));
        assertSignedWith(puts.get(6), sts.issued().get(2));
    }

    @Test
    void aFailedRenewalDoesNotFailWritesWhileTheCredentialsStillWorkButDoesOnceTheyAreAboutToExpire(Vertx vertx)
            throws Exception {
        FakeS3 s3 = FakeS3.start(vertx, FakeS3.accepting()).await();
        FakeSts sts = sts().start(vertx).await();
        AuditDestination destination = open(TestGuard.loopbackOnly(), config(s3, sts));
        write(destination);

        sts.refuse(500, "InternalFailure");
        clock.advance(Duration.ofMinutes(57));     // 3 minutes left: renewal fails, the current ones still sign
        write(destination);
        assertThat(sts.requests()).hasSize(2);
        assertSignedWith(s3.requests().get(1), sts.issued().get(0));

        clock.advance(Duration.ofMinutes(2));      // 1 minute left: too close to use
        assertThatThrownBy(() -> write(destination)).isInstanceOfSatisfying(AuditException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
            assertThat(e.retryable()).isTrue();
            assertThat(e.getMessage()).isEqualTo("STS AssumeRole failed: STS answered 500 InternalFailure");
        });
        assertThat(s3.requests()).hasSize(2);

        sts.grant();
        write(destination);
        assertThat(sts.issued()).hasSize(2);
        assertSignedWith(s3.requests().get(2), sts.issued().get(1));
    }

    @Test
    void keysThatStsRefusesAreAnAuthErrorNamingAssumeRoleAndTheCodeButNoCredential(Vertx vertx) throws Exception {
        FakeS3 s3 = FakeS3.start(vertx, FakeS3.accepting()).await();
        FakeSts sts = sts().start(vertx).await();
        FakeSts otherCaller = FakeSts.builder().caller("AKIAANOTHERCALLER001", "another-secret", null).role(ROLE_ARN)
                .clock(clock).start(vertx).await();
        FakeSts otherSecret = FakeSts.builder().caller(Destinations.ACCESS_KEY, "not-the-configured-secret", null)
                .role(ROLE_ARN).clock(clock).start(vertx).await();
        FakeSts withToken = FakeSts.builder().caller(Destinations.ACCESS_KEY, Destinations.SECRET, BASE_TOKEN)
                .role(ROLE_ARN).clock(clock).start(vertx).await();

        assertAuth(config(s3, otherCaller), "STS answered 403 InvalidClientTokenId", otherCaller);
        assertAuth(config(s3, otherSecret), "STS answered 403 SignatureDoesNotMatch", otherSecret);
        // the caller's own temporary keys expired: the request carried (and signed) the token, STS refuses it
        withToken.refuse(403, "ExpiredToken");
        assertAuth(config(s3, withToken).put("session_token", BASE_TOKEN), "STS answered 403 ExpiredToken",
                withToken);
        assertThat(withToken.requests()).allSatisfy(request -> assertThat(request.headers()
                .get("X-Amz-Security-Token")).isEqualTo(BASE_TOKEN));
        sts.refuse(403, "AccessDenied");
        assertAuth(config(s3, sts), "STS answered 403 AccessDenied", sts);

        assertThat(s3.connections()).isZero();
        assertThat(List.of(sts, otherCaller, otherSecret, withToken)).allSatisfy(fake -> {
            assertThat(fake.requests()).hasSize(2);     // the probe's and the write's AssumeRole
            assertThat(fake.issued()).isEmpty();
        });
    }

    /** Both the connection test and a write fail with AUTH, naming STS's answer and nothing secret. */
    private void assertAuth(JsonObject config, String answer, FakeSts sts) {
        AuditDestination destination = open(TestGuard.loopbackOnly(), config);
        for (Function<AuditDestination, Future<Void>> call : List.<Function<AuditDestination, Future<Void>>>of(
                AuditDestination::test, d -> d.write(Batches.batch(Destinations.ACCOUNT, clock.instant(), 1)))) {
            assertThatThrownBy(() -> destinations.onEventLoop(destination, call))
                    .isInstanceOfSatisfying(AuditException.class, e -> {
                        assertThat(e.kind()).isEqualTo(Kind.AUTH);
                        assertThat(e.retryable()).isFalse();
                        assertThat(e.getMessage()).startsWith("STS AssumeRole failed: " + answer + ": ");
                        assertNoCredentialIn(e, sts);
                    });
        }
    }

    @Test
    void stsThrottlingIsUnavailableAndADisabledRegionIsAConfigurationError(Vertx vertx) throws Exception {
        FakeS3 s3 = FakeS3.start(vertx, FakeS3.accepting()).await();
        FakeSts sts = sts().start(vertx).await();
        AuditDestination destination = open(TestGuard.loopbackOnly(), config(s3, sts));

        sts.refuse(400, "Throttling");
        assertThatThrownBy(() -> write(destination)).isInstanceOfSatisfying(AuditException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
            assertThat(e.getMessage()).isEqualTo("STS AssumeRole failed: STS answered 400 Throttling");
        });
        sts.refuse(403, "RegionDisabledException");
        assertThatThrownBy(() -> write(destination)).isInstanceOfSatisfying(AuditException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.CONFIG);
            assertThat(e.getMessage()).contains("403 RegionDisabledException").contains("sts_endpoint");
        });
        assertThat(s3.requests()).isEmpty();
    }

    @Test
    void aGuardThatRefusesTheStsEndpointFailsWithRefusedAndStsHearsNothing(Vertx vertx) throws Exception {
        FakeS3 s3 = FakeS3.start(vertx, FakeS3.accepting()).await();
        FakeSts sts = sts().start(vertx).await();
        TestGuard guard = TestGuard.loopbackOnly();    // allows 127.0.0.1, refuses names it has not pinned
        AuditDestination destination = open(guard, config(s3, sts)
                .put("sts_endpoint", "http://sts.unpinned.test:" + sts.port()));

        for (Function<AuditDestination, Future<Void>> call : List.<Function<AuditDestination, Future<Void>>>of(
                AuditDestination::test, d -> d.write(Batches.batch(Destinations.ACCOUNT, clock.instant(), 1)))) {
            assertThatThrownBy(() -> destinations.onEventLoop(destination, call))
                    .isInstanceOfSatisfying(AuditException.class, e -> {
                        assertThat(e.kind()).isEqualTo(Kind.REFUSED);
                        assertThat(e.getMessage()).isEqualTo("STS AssumeRole refused: sts.unpinned.test is not"
                                + " pinned by the test guard");
                    });
        }

        assertThat(sts.connections()).isZero();
        assertThat(s3.connections()).isZero();
        assertThat(guard.checks()).containsOnly(new TestGuard.Check("http", "sts.unpinned.test", sts.port()));
    }

    @Test
    void withoutAnStsEndpointTheRegionalOneIsAskedThroughTheGuard() {
        TestGuard guard = TestGuard.refusingEverything();
        JsonObject config = Destinations.config("http://127.0.0.1:9", "audit", "p/").put("role_arn", ROLE_ARN)
                .put("region", "eu-west-1");
        AuditDestination destination = open(guard, config);

        assertThatThrownBy(() -> destinations.onEventLoop(destination, AuditDestination::test))
                .isInstanceOfSatisfying(AuditException.class, e -> assertThat(e.kind()).isEqualTo(Kind.REFUSED));

        assertThat(guard.checks()).containsExactly(new TestGuard.Check("https", "sts.eu-west-1.amazonaws.com", 443));
    }

    @Test
    void anStsThatCannotBeReachedIsUnavailableAndRetryable(Vertx vertx) throws Exception {
        FakeS3 s3 = FakeS3.start(vertx, FakeS3.accepting()).await();
        FakeSts gone = sts().start(vertx).await();
        JsonObject config = config(s3, gone);
        gone.close().await();
        AuditDestination destination = open(TestGuard.loopbackOnly(), config);

        assertThatThrownBy(() -> write(destination)).isInstanceOfSatisfying(AuditException.class, e -> {
            assertThat(e.kind()).isEqualTo(Kind.UNAVAILABLE);
            assertThat(e.retryable()).isTrue();
            assertThat(e.getMessage()).isEqualTo("STS AssumeRole failed: cannot connect to the STS endpoint");
        });
        assertThat(s3.requests()).isEmpty();
    }

    @Test
    void callersThatNeedCredentialsWhileAssumeRoleIsUnderWayShareThatOneCall(Vertx vertx) throws Exception {
        FakeS3 s3 = FakeS3.start(vertx, FakeS3.accepting()).await();
        FakeSts sts = sts().start(vertx).await();
        AuditDestination destination = open(TestGuard.loopbackOnly(), config(s3, sts));
        AuditBatch first = Batches.batch(Destinations.ACCOUNT, clock.instant(), 1);
        AuditBatch second = Batches.batch(Destinations.ACCOUNT, clock.instant(), 1);
        Promise<Void> answer = Promise.promise();
        sts.holdAnswersUntil(answer.future());

        // three callers on three event loops, each returned (having asked for credentials) while STS holds its answer
        Future<Void> probe = destinations.callOnEventLoop(destination, AuditDestination::test);
        Future<Void> write = destinations.callOnEventLoop(destination, d -> d.write(first));
        Future<Void> other = destinations.callOnEventLoop(destination, d -> d.write(second));
        answer.complete();
        Future.all(probe, write, other).await(30, TimeUnit.SECONDS);

        assertThat(sts.requests()).hasSize(1);
        assertThat(s3.requests()).hasSize(4).allSatisfy(request -> assertSignedWith(request, sts.issued().get(0)));
    }

    @Test
    void s3RefusingTheSessionTokenAsExpiredMakesTheRetryAssumeTheRoleAfresh(Vertx vertx) throws Exception {
        AtomicInteger puts = new AtomicInteger();
        Consumer<HttpServerRequest> expiredOnce = FakeS3.error(400, "ExpiredToken");
        FakeS3 s3 = FakeS3.start(vertx, request -> (puts.incrementAndGet() == 1 ? expiredOnce : FakeS3.accepting())
                .accept(request)).await();
        FakeSts sts = sts().start(vertx).await();
        AuditDestination destination = open(TestGuard.loopbackOnly(), config(s3, sts));
        AuditBatch batch = Batches.batch(Destinations.ACCOUNT, clock.instant(), 1);

        // the clocks disagree: STS's hour is already over by S3's
        assertThatThrownBy(() -> destinations.onEventLoop(destination, d -> d.write(batch)))
                .isInstanceOfSatisfying(AuditException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.AUTH);
                    assertThat(e.getMessage()).contains("400 ExpiredToken");
                    assertNoCredentialIn(e, sts);
                });
        destinations.onEventLoop(destination, d -> d.write(batch));

        assertThat(sts.issued()).hasSize(2);
        assertSignedWith(s3.requests().get(0), sts.issued().get(0));
        assertSignedWith(s3.requests().get(1), sts.issued().get(1));
    }

    @Test
    void theSdkStartsNoThreadOfItsOwnForStsEither(Vertx vertx) throws Exception {
        FakeS3 s3 = FakeS3.start(vertx, FakeS3.accepting()).await();
        FakeSts sts = sts().start(vertx).await();
        AuditDestination destination = open(TestGuard.loopbackOnly(), config(s3, sts));

        destinations.onEventLoop(destination, AuditDestination::test);
        clock.advance(Duration.ofMinutes(58));
        write(destination);

        assertThat(sts.requests()).hasSize(2);
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .noneMatch(name -> name.startsWith("sdk-") || name.startsWith("aws-java-sdk")
                        || name.startsWith("sts-"));
    }
}
