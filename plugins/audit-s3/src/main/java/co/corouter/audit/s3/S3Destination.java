package co.corouter.audit.s3;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditContext;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsAsyncClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.defaultsmode.DefaultsMode;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.client.config.SdkAdvancedAsyncClientOption;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.sts.StsAsyncClient;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * One account's bucket. Each batch becomes one object whose key is derived from the batch ({@link BatchObject#key}),
 * so the host's retry of a batch overwrites the same object: exactly one object per batch.
 *
 * <p>Gzip runs on the caller's event loop up to {@link #INLINE_GZIP_LIMIT} bytes of JSON (about a millisecond's work)
 * and on a worker above it; batches are bounded by the host at a few MB.
 *
 * <p>With a {@link S3Options#role() role}, S3 requests are signed with the role's temporary credentials
 * ({@link AssumedRoleCredentials}): every call first makes sure they are fresh, calling STS AssumeRole with the
 * configured keys when they are not. STS has its own guarded transport (its endpoint may need TLS SNI where the
 * bucket's does not), on the same Vert.x.
 *
 * <p>The SDK makes no HTTP connection of its own ({@link GuardedSdkHttpClient}), runs no thread of its own (futures
 * complete on the transport's event loop and are handed back to the caller's context) and does not retry: the host
 * retries a failed batch, with its own backoff. It reads no AWS profile file and no instance metadata.
 */
final class S3Destination implements AuditDestination {

    private static final Logger log = LoggerFactory.getLogger(S3Destination.class);

    static final int INLINE_GZIP_LIMIT = 1024 * 1024;
    static final int CONNECT_TIMEOUT_MS = 10_000;
    static final int IDLE_TIMEOUT_MS = 30_000;
    static final String PROBE_CONTENT_TYPE = "text/plain; charset=utf-8";

    private final Vertx vertx;
    private final S3Options options;
    private final GuardedSdkHttpClient http;
    private final S3AsyncClient s3;
    /** With a role: STS's transport and the role's credentials; otherwise {@code null}. */
    private final GuardedSdkHttpClient stsHttp;
    private final AssumedRoleCredentials role;
    private final SecureRandom random = new SecureRandom();

    S3Destination(AuditContext context, S3Options options) {
        this(context, options, CONNECT_TIMEOUT_MS, IDLE_TIMEOUT_MS, Clock.systemUTC());
    }

    /**
     * @param idleTimeoutMs the longest silence from S3 (or STS) within one request
     * @param clock         tells when the role's credentials are due for renewal
     */
    S3Destination(AuditContext context, S3Options options, int connectTimeoutMs, int idleTimeoutMs, Clock clock) {
        this.vertx = context.vertx();
        this.options = options;
        this.http = new GuardedSdkHttpClient(vertx, context.guard(), !options.endpointHostIsIpLiteral(),
                connectTimeoutMs, idleTimeoutMs);
        AwsCredentials credentials = options.sessionToken() == null
                ? AwsBasicCredentials.create(options.accessKeyId(), options.secretAccessKey())
                : AwsSessionCredentials.create(options.accessKeyId(), options.secretAccessKey(),
                        options.sessionToken());
        AwsCredentialsProvider keys = StaticCredentialsProvider.create(credentials);
        if (options.role() == null) {
            this.stsHttp = null;
            this.role = null;
        } else {
            this.stsHttp = new GuardedSdkHttpClient(vertx, context.guard(),
                    !S3Options.isIpLiteral(options.role().stsEndpoint()), connectTimeoutMs, idleTimeoutMs);
            StsAsyncClient sts = onOurTransport(StsAsyncClient.builder(), stsHttp)
                    .endpointOverride(options.role().stsEndpoint())
                    .credentialsProvider(keys)
                    .build();
            this.role = new AssumedRoleCredentials(sts, options.role(), clock);
        }
        this.s3 = onOurTransport(S3AsyncClient.builder(), http)
                .endpointOverride(options.endpoint())
                .forcePathStyle(options.pathStyle())
                .credentialsProvider(role != null ? role : keys)
                .build();
    }

    /**
     * What S3's and STS's clients share: our transport, our region, completion on the transport's event loop, no SDK
     * retries, no profile file.
     */
    private <B extends AwsAsyncClientBuilder<B, C> & AwsClientBuilder<B, C>, C> B onOurTransport(
            B builder, GuardedSdkHttpClient transport) {
        return builder
                .httpClient(transport)
                .region(Region.of(options.region()))
                .defaultsMode(DefaultsMode.STANDARD)
                .asyncConfiguration(async -> async.advancedOption(
                        SdkAdvancedAsyncClientOption.FUTURE_COMPLETION_EXECUTOR, Runnable::run))
                .overrideConfiguration(o -> o
                        .retryStrategy(AwsRetryStrategy.doNotRetry())
                        .defaultProfileFile(ProfileFile.aggregator().build()));
    }

    @Override
    public Future<Void> test() {
        String key = options.prefix() + "corouter-probe-" + HexFormat.of().formatHex(randomBytes()) + ".txt";
        Context caller = vertx.getOrCreateContext();
        byte[] probe = "corouter audit probe; safe to delete\n".getBytes(StandardCharsets.UTF_8);
        return credentials(caller).compose(fresh -> call("write the probe object", caller,
                () -> s3.putObject(put(key, PROBE_CONTENT_TYPE), AsyncRequestBody.fromBytes(probe))))
                .compose(written -> call("delete the probe object", caller,
                        () -> s3.deleteObject(delete -> delete.bucket(options.bucket()).key(key)))
                        .<Void>mapEmpty()
                        .recover(failure -> {
                            // a write-only policy (no s3:DeleteObject) is sound for audit logs: the probe stays
                            if (failure instanceof AuditException e && e.kind() == Kind.AUTH) {
                                log.info("audit s3 probe {} stays in bucket {}: deleting it is not allowed", key,
                                        options.bucket());
                                return Future.succeededFuture();
                            }
                            return Future.failedFuture(failure);
                        }));
    }

    @Override
    public Future<Void> write(AuditBatch batch) {
        Context caller = vertx.getOrCreateContext();
        String key;
        try {
            key = BatchObject.key(options.prefix(), batch);
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(new AuditException(Kind.CONFIG, "write batch refused: " + e.getMessage()));
        }
        Future<byte[]> body = BatchObject.jsonLinesSize(batch) <= INLINE_GZIP_LIMIT
                ? Future.succeededFuture(BatchObject.gzipJsonLines(batch))
                : vertx.executeBlocking(() -> BatchObject.gzipJsonLines(batch), false);
        return body.compose(bytes -> credentials(caller).compose(fresh -> call("write batch " + batch.batchId(),
                caller, () -> s3.putObject(put(key, BatchObject.CONTENT_TYPE), AsyncRequestBody.fromBytes(bytes)))))
                .mapEmpty();
    }

    @Override
    public Future<Void> close() {
        s3.close();
        if (role == null) {
            return http.closeAsync();
        }
        role.close();
        return Future.all(http.closeAsync(), stsHttp.closeAsync()).mapEmpty();
    }

    /** Static keys are always ready; a role's credentials may need STS first. */
    private Future<Void> credentials(Context caller) {
        return role == null ? Future.succeededFuture() : role.ensureFresh(caller);
    }

    private PutObjectRequest put(String key, String contentType) {
        PutObjectRequest.Builder put = PutObjectRequest.builder()
                .bucket(options.bucket())
                .key(key)
                .contentType(contentType);
        if (options.sse() != null) {
            put.serverSideEncryption(ServerSideEncryption.fromValue(options.sse()));
            if (options.sseKmsKeyId() != null) {
                put.ssekmsKeyId(options.sseKmsKeyId());
            }
        }
        return put.build();
    }

    private byte[] randomBytes() {
        byte[] bytes = new byte[8];
        random.nextBytes(bytes);
        return bytes;
    }

    /** Runs one S3 call; its outcome comes back on {@code caller}, failures as {@link AuditException}. */
    private <T> Future<T> call(String operation, Context caller, Supplier<CompletableFuture<T>> request) {
        CompletableFuture<T> started;
        try {
            started = request.get();
        } catch (RuntimeException e) {
            return Future.failedFuture(S3Errors.of(operation, e));
        }
        return Future.fromCompletionStage(started, caller).recover(failure -> {
            if (role != null && S3Errors.tokenRefused(failure)) {
                role.expire();   // clocks apart, or the session revoked: the host's retry assumes the role afresh
            }
            return Future.failedFuture(S3Errors.of(operation, failure));
        });
    }
}
