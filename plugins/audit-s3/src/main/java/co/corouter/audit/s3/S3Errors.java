package co.corouter.audit.s3;

import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;

import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * Turns what the SDK and the transport fail with into an {@link AuditException} of the truthful kind. Messages are
 * built here from the operation, the HTTP status and S3's error code: never from S3's message text, the SDK's message
 * or the request, so neither credentials nor signatures nor record content can reach the customer's audit page.
 * {@link StsErrors} does the same for STS and shares the transport half.
 */
final class S3Errors {

    private static final Set<String> AUTH_CODES = Set.of("AccessDenied", "InvalidAccessKeyId",
            "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "AllAccessDisabled",
            "AccountProblem", "InvalidSecurity");
    private static final Set<String> TOKEN_CODES = Set.of("ExpiredToken", "InvalidToken", "TokenRefreshRequired");
    private static final Set<String> CONFIG_CODES = Set.of("NoSuchBucket", "InvalidBucketName", "PermanentRedirect",
            "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "InvalidArgument",
            "InvalidEncryptionAlgorithmError", "KMS.NotFoundException", "KMS.DisabledException",
            "KMS.InvalidKeyUsageException", "KMS.KMSInvalidStateException", "InvalidRequest", "NoSuchKey");

    private S3Errors() {
    }

    /** @param operation what was attempted, e.g. "write batch 01j..." */
    static AuditException of(String operation, Throwable failure) {
        AwsServiceException service = answer(failure);
        return service != null ? ofService(operation, service) : ofTransport(operation, "S3", "the endpoint", failure);
    }

    /** The service's error answer in {@code failure}, or {@code null} when it did not answer (or was not asked). */
    static AwsServiceException answer(Throwable failure) {
        return find(failure, AuditException.class) != null ? null : find(failure, AwsServiceException.class);
    }

    /** Whether S3 refused the request's session token as expired or invalid (temporary credentials only). */
    static boolean tokenRefused(Throwable failure) {
        AwsServiceException service = answer(failure);
        return service != null && TOKEN_CODES.contains(code(service));
    }

    /** The service's error code when it is one (letters, digits, dots), else "". */
    static String code(AwsServiceException e) {
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        // none, or not an error code (and Set.of(...).contains(null) would throw)
        return code == null || !code.matches("[A-Za-z0-9.]{1,64}") ? "" : code;
    }

    /**
     * A failure without the service's answer: the guard's refusal, a timeout, a name or connection failure.
     *
     * @param service  who was talked to, e.g. "S3"
     * @param endpoint its endpoint in words, e.g. "the endpoint"
     */
    static AuditException ofTransport(String operation, String service, String endpoint, Throwable failure) {
        AuditException ours = find(failure, AuditException.class);
        if (ours != null) {
            // the endpoint guard's refusal (or our own): its message is the host's, free of secrets by contract
            return new AuditException(ours.kind(), operation + " refused: " + ours.getMessage());
        }
        if (find(failure, ApiCallTimeoutException.class) != null
                || find(failure, ApiCallAttemptTimeoutException.class) != null
                || find(failure, TimeoutException.class) != null
                || find(failure, SocketTimeoutException.class) != null
                || hasClassNamed(failure, "ConnectTimeoutException")) {
            return new AuditException(Kind.TIMEOUT, operation + " failed: " + service + " did not answer in time");
        }
        UnknownHostException unknownHost = find(failure, UnknownHostException.class);
        if (unknownHost != null) {
            return new AuditException(Kind.UNAVAILABLE, operation + " failed: " + endpoint + "'s host name does not"
                    + " resolve");
        }
        if (find(failure, ConnectException.class) != null) {
            return new AuditException(Kind.UNAVAILABLE, operation + " failed: cannot connect to " + endpoint);
        }
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return new AuditException(Kind.UNAVAILABLE, operation + " failed: " + root.getClass().getSimpleName()
                + " talking to " + service);
    }

    private static AuditException ofService(String operation, AwsServiceException e) {
        int status = e.statusCode();
        String code = code(e);
        String answer = "S3 answered " + status + (code.isEmpty() ? "" : " " + code);
        if ("RequestTimeTooSkewed".equals(code)) {
            // a 403, but not the credentials: the SDK corrects its clock offset from this answer for the next try
            return new AuditException(Kind.UNAVAILABLE, operation + " failed: " + answer
                    + ": this server's clock differs from S3's");
        }
        if ("RequestTimeout".equals(code)) {
            return new AuditException(Kind.TIMEOUT, operation + " failed: " + answer);
        }
        if (AUTH_CODES.contains(code) || status == 401 || status == 403) {
            return new AuditException(Kind.AUTH, operation + " failed: " + answer
                    + ": the credentials are wrong or lack permission for the bucket");
        }
        if ("NoSuchBucket".equals(code)) {
            return new AuditException(Kind.CONFIG, operation + " failed: " + answer + ": the bucket does not exist");
        }
        if (status >= 300 && status < 400) {
            return new AuditException(Kind.CONFIG, operation + " failed: " + answer
                    + ": redirects are not followed; check the region and the endpoint");
        }
        if (CONFIG_CODES.contains(code)) {
            return new AuditException(Kind.CONFIG, operation + " failed: " + answer
                    + ": check the bucket, region and encryption settings");
        }
        if (status == 429 || status == 409 || status >= 500 || status == 0) {
            return new AuditException(Kind.UNAVAILABLE, operation + " failed: " + answer);
        }
        return new AuditException(Kind.CONFIG, operation + " failed: " + answer);
    }

    private static <T extends Throwable> T find(Throwable failure, Class<T> type) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    /** Netty's connect timeout, named rather than imported: Netty belongs to the host. */
    private static boolean hasClassNamed(Throwable failure, String simpleName) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getClass().getSimpleName().equals(simpleName)) {
                return true;
            }
        }
        return false;
    }
}
