package co.corouter.audit.s3;

import io.vertx.core.Context;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.sts.StsAsyncClient;
import software.amazon.awssdk.services.sts.model.AssumeRoleRequest;
import software.amazon.awssdk.services.sts.model.AssumeRoleResponse;
import software.amazon.awssdk.services.sts.model.Credentials;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;

/**
 * The configured role's temporary credentials, for the S3 client to sign with: STS AssumeRole called with the
 * configured keys through {@link StsAsyncClient} (over the guarded transport), the answer cached until shortly before
 * it expires.
 *
 * <p><b>Never blocks.</b> The SDK calls {@link #resolveCredentials()} synchronously on the event loop that sends the
 * request, so it only returns what is cached. Every S3 call is preceded by {@link #ensureFresh}, which completes at
 * once while the cached credentials have more than {@link #REFRESH_AHEAD} left and otherwise calls AssumeRole
 * asynchronously; callers meanwhile share that one call. The SDK's {@code StsAssumeRoleCredentialsProvider} cannot be
 * used: it takes a synchronous {@code StsClient} and calls it inside {@code resolveCredentials()} (blocking the event
 * loop), or with {@code asyncCredentialUpdateEnabled} on a thread of its own.
 *
 * <p>No timer and no thread: an idle destination asks STS again when it next writes. A refresh that fails while the
 * cached credentials still have more than {@link #STALE_AHEAD} left does not fail the write; they sign it, and the next
 * write asks STS again.
 */
final class AssumedRoleCredentials implements AwsCredentialsProvider {

    private static final Logger log = LoggerFactory.getLogger(AssumedRoleCredentials.class);

    /** Credentials expiring sooner are renewed before use (the SDK's STS providers' prefetch time). */
    static final Duration REFRESH_AHEAD = Duration.ofMinutes(5);
    /** Credentials expiring sooner are not used even when renewing them failed (the SDK's stale time). */
    static final Duration STALE_AHEAD = Duration.ofMinutes(1);

    /** Credentials as STS issued them, and when STS said they expire. */
    private record Issued(AwsSessionCredentials credentials, Instant expiration) {
    }

    private final StsAsyncClient sts;
    private final AssumeRoleRequest request;
    private final Clock clock;
    private volatile Issued current;
    /** The AssumeRole call under way, shared by every caller that needs it; guarded by {@code this}. */
    private CompletableFuture<Issued> refreshing;

    /** @param clock tells when cached credentials are due for renewal (injectable so tests need not wait an hour) */
    AssumedRoleCredentials(StsAsyncClient sts, S3Options.Role role, Clock clock) {
        this.sts = sts;
        this.clock = clock;
        this.request = AssumeRoleRequest.builder()
                .roleArn(role.arn())
                .roleSessionName(role.sessionName())
                .externalId(role.externalId())
                .build();
    }

    /**
     * Completes on {@code caller} once {@link #resolveCredentials()} has credentials worth signing with; fails with the
     * {@link StsErrors} mapping of what AssumeRole failed with.
     */
    Future<Void> ensureFresh(Context caller) {
        Issued cached = current;
        if (cached != null && cached.expiration().isAfter(clock.instant().plus(REFRESH_AHEAD))) {
            return Future.succeededFuture();
        }
        return Future.fromCompletionStage(refresh(), caller).<Void>mapEmpty().recover(failure -> {
            Issued still = current;
            if (still != null && still.expiration().isAfter(clock.instant().plus(STALE_AHEAD))) {
                log.warn("audit s3: renewing the credentials of role {} failed, the current ones sign until they"
                        + " expire at {}: {}", request.roleArn(), still.expiration(), failure.getMessage());
                return Future.succeededFuture();
            }
            return Future.failedFuture(failure);
        });
    }

    /** S3 refused the cached credentials as expired or invalid: the next {@link #ensureFresh} asks STS again. */
    void expire() {
        Issued cached = current;
        if (cached != null) {
            // kept for resolveCredentials(), so a request signed meanwhile does not fail for want of credentials
            current = new Issued(cached.credentials(), Instant.MIN);
        }
    }

    /** The cached credentials; {@link #ensureFresh} must have succeeded first. Never blocks, never calls STS. */
    @Override
    public AwsCredentials resolveCredentials() {
        Issued cached = current;
        if (cached == null) {
            throw SdkClientException.create("the role's credentials have not been fetched");
        }
        return cached.credentials();
    }

    /** Closes the STS client (not its transport, which the destination owns). */
    void close() {
        sts.close();
    }

    @Override
    public String toString() {
        return "AssumedRoleCredentials[" + request.roleArn() + "]";
    }

    private CompletableFuture<Issued> refresh() {
        CompletableFuture<Issued> next;
        synchronized (this) {
            if (refreshing != null) {
                return refreshing;
            }
            next = new CompletableFuture<>();
            refreshing = next;
        }
        CompletableFuture<AssumeRoleResponse> answer;
        try {
            answer = sts.assumeRole(request);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((response, failure) -> {
            Issued issued = failure == null ? issued(response) : null;
            synchronized (this) {
                if (issued != null) {
                    current = issued;
                }
                refreshing = null;
            }
            if (issued != null) {
                log.debug("audit s3: assumed role {} until {}", request.roleArn(), issued.expiration());
                next.complete(issued);
            } else {
                next.completeExceptionally(failure != null ? StsErrors.of(failure) : StsErrors.incomplete());
            }
        });
        return next;
    }

    /** The credentials of a successful answer, or {@code null} when it lacks any part of them. */
    private static Issued issued(AssumeRoleResponse response) {
        Credentials credentials = response == null ? null : response.credentials();
        if (credentials == null || credentials.accessKeyId() == null || credentials.secretAccessKey() == null
                || credentials.sessionToken() == null || credentials.expiration() == null) {
            return null;
        }
        return new Issued(AwsSessionCredentials.create(credentials.accessKeyId(), credentials.secretAccessKey(),
                credentials.sessionToken()), credentials.expiration());
    }
}
