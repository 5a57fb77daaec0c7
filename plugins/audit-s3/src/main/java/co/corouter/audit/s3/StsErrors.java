package co.corouter.audit.s3;

import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import software.amazon.awssdk.awscore.exception.AwsServiceException;

import java.util.Set;

/**
 * What STS AssumeRole failed with, as an {@link AuditException} of the truthful kind. As in {@link S3Errors}, the
 * message is built from the HTTP status and STS's error code only: STS's own message names the calling identity and
 * the role, the SDK's may quote the request, and neither the configured keys nor the role's temporary credentials may
 * reach the customer's audit page.
 *
 * <p>Codes: the AssumeRole errors of the STS API reference (ExpiredTokenException, MalformedPolicyDocument,
 * PackedPolicyTooLarge, RegionDisabledException) and the errors common to AWS query APIs (AccessDenied,
 * InvalidClientTokenId, SignatureDoesNotMatch, Throttling, ...).
 */
final class StsErrors {

    static final String OPERATION = "STS AssumeRole";

    /** The caller's keys are unknown, wrong, expired or unsigned. */
    private static final Set<String> KEY_CODES = Set.of("InvalidClientTokenId", "SignatureDoesNotMatch",
            "IncompleteSignature", "MissingAuthenticationToken", "InvalidAccessKeyId", "NotAuthorized");
    private static final Set<String> EXPIRED_CODES = Set.of("ExpiredToken", "ExpiredTokenException");
    /** The keys are fine but may not assume the role (its trust policy, the external id, an SCP). */
    private static final Set<String> DENIED_CODES = Set.of("AccessDenied", "AccessDeniedException");
    private static final Set<String> RETRY_CODES = Set.of("Throttling", "ThrottlingException", "RequestExpired",
            "InternalFailure", "ServiceUnavailable");

    private StsErrors() {
    }

    static AuditException of(Throwable failure) {
        AwsServiceException service = S3Errors.answer(failure);
        return service != null ? ofService(service)
                : S3Errors.ofTransport(OPERATION, "STS", "the STS endpoint", failure);
    }

    /** STS answered 200 but without the credentials AssumeRole promises. */
    static AuditException incomplete() {
        return new AuditException(Kind.UNAVAILABLE, OPERATION + " failed: STS answered without credentials");
    }

    private static AuditException ofService(AwsServiceException e) {
        int status = e.statusCode();
        String code = S3Errors.code(e);
        String failed = OPERATION + " failed: STS answered " + status + (code.isEmpty() ? "" : " " + code);
        if (DENIED_CODES.contains(code)) {
            return new AuditException(Kind.AUTH, failed + ": the access keys may not assume the role; check "
                    + S3Options.ROLE_ARN + ", the role's trust policy and " + S3Options.EXTERNAL_ID);
        }
        if (KEY_CODES.contains(code)) {
            return new AuditException(Kind.AUTH, failed + ": STS does not accept the access keys");
        }
        if (EXPIRED_CODES.contains(code)) {
            return new AuditException(Kind.AUTH, failed + ": the " + S3Options.SESSION_TOKEN + " has expired");
        }
        if ("RegionDisabledException".equals(code)) {
            return new AuditException(Kind.CONFIG, failed + ": STS is not activated in this region for the role's"
                    + " account; activate it or set " + S3Options.STS_ENDPOINT);
        }
        if (RETRY_CODES.contains(code) || status == 429 || status >= 500 || status == 0) {
            return new AuditException(Kind.UNAVAILABLE, failed);
        }
        if (status == 401 || status == 403) {
            return new AuditException(Kind.AUTH, failed + ": the access keys were refused");
        }
        if (status >= 300 && status < 400) {
            return new AuditException(Kind.CONFIG, failed + ": redirects are not followed; check "
                    + S3Options.STS_ENDPOINT);
        }
        return new AuditException(Kind.CONFIG, failed + ": check " + S3Options.ROLE_ARN + " and "
                + S3Options.ROLE_SESSION_NAME);
    }
}
