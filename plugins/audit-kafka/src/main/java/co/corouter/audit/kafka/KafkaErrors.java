package co.corouter.audit.kafka;

import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Kafka client failures as {@link AuditException}s of the right kind. The messages are this class's own, shown to the
 * customer; Kafka's text is added only for failures whose text is known to carry no credentials (timeouts, retriable
 * broker errors), and the SASL password is scrubbed from everything regardless.
 */
final class KafkaErrors {

    private KafkaErrors() {
    }

    /**
     * @param brokerAnswered whether any broker has answered this producer (a metadata wait that timed out after an
     *                       answer means the topic does not exist; without one, no broker was reachable)
     */
    static AuditException toAuditException(Throwable failure, KafkaOptions options, boolean brokerAnswered) {
        AuditException mapped = map(failure, options, brokerAnswered);
        String password = options.saslPassword();
        if (password != null && mapped.getMessage().contains(password)) {
            return new AuditException(mapped.kind(), mapped.getMessage().replace(password, "(hidden)"));
        }
        return mapped;
    }

    private static AuditException map(Throwable failure, KafkaOptions options, boolean brokerAnswered) {
        String topic = options.topic();
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof AuditException audit) {
                return audit;
            }
            if (cause instanceof SslAuthenticationException) {
                return new AuditException(Kind.CONFIG, "the TLS handshake with the broker failed: its certificate is "
                        + "not trusted (ssl_truststore_pem) or does not name the host in bootstrap_servers, or the "
                        + "listener does not speak TLS");
            }
            if (cause instanceof AuthenticationException) {
                return new AuditException(Kind.AUTH, "the broker refused the SASL credentials ("
                        + options.saslMechanism().kafkaName() + ", user " + options.saslUsername() + ")");
            }
            if (cause instanceof ClusterAuthorizationException) {
                return new AuditException(Kind.AUTH, "the credentials may not use an idempotent producer on this "
                        + "cluster (IDEMPOTENT_WRITE)");
            }
            if (cause instanceof AuthorizationException) {
                return new AuditException(Kind.AUTH, "the credentials may not write to topic " + topic);
            }
            if (cause instanceof UnknownTopicOrPartitionException || cause instanceof InvalidTopicException) {
                return new AuditException(Kind.CONFIG, "topic " + topic + " does not exist");
            }
            if (cause instanceof RecordTooLargeException || cause instanceof RecordBatchTooLargeException) {
                return new AuditException(Kind.CONFIG, "a record is larger than the topic accepts (max.message.bytes)");
            }
            if (cause instanceof TimeoutException) {
                return timeout(cause, options, brokerAnswered);
            }
            if (cause instanceof ConfigException) {
                return new AuditException(Kind.CONFIG, "the Kafka producer refused its configuration");
            }
            if (cause instanceof RetriableException) {
                return new AuditException(Kind.UNAVAILABLE, "the brokers failed the write: " + describe(cause));
            }
        }
        return new AuditException(Kind.UNAVAILABLE, "the Kafka producer failed: " + failure.getClass().getSimpleName());
    }

    private static AuditException timeout(Throwable cause, KafkaOptions options, boolean brokerAnswered) {
        boolean metadataWait = cause.getMessage() != null && cause.getMessage().contains("not present in metadata");
        if (metadataWait && brokerAnswered) {
            return new AuditException(Kind.CONFIG, "topic " + options.topic() + " does not exist (or these "
                    + "credentials may not see it)");
        }
        if (!brokerAnswered) {
            return new AuditException(Kind.UNAVAILABLE, "no broker of " + options.bootstrapServers()
                    + " answered within " + options.timeoutMs() + " ms");
        }
        return new AuditException(Kind.TIMEOUT, "the brokers did not acknowledge the records within "
                + options.timeoutMs() + " ms: " + describe(cause));
    }

    private static String describe(Throwable cause) {
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
