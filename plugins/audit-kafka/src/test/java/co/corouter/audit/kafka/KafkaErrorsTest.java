package co.corouter.audit.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.junit.jupiter.api.Test;

class KafkaErrorsTest {

    private static final KafkaOptions SASL = KafkaOptions.parse(KafkaOptionsTest.sasl().put("timeout_ms", 2000));

    private static AuditException map(Throwable failure, boolean answered) {
        return KafkaErrors.toAuditException(failure, SASL, answered);
    }

    @Test
    void authenticationFailuresAreAuthAndNameTheUserButNotThePassword() {
        AuditException e = map(new KafkaException("Failed to construct kafka producer",
                new SaslAuthenticationException("Authentication failed: Invalid username or password")), true);

        assertThat(e.kind()).isEqualTo(Kind.AUTH);
        assertThat(e.getMessage()).contains("SCRAM-SHA-512", "corouter").doesNotContain("hunter2");
    }

    @Test
    void aTlsHandshakeFailureIsAConfigurationProblem() {
        assertThat(map(new SslAuthenticationException("PKIX path building failed"), true).kind())
                .isEqualTo(Kind.CONFIG);
    }

    @Test
    void missingPermissionIsAuthAndAMissingTopicIsConfig() {
        assertThat(map(new TopicAuthorizationException("denied"), true).kind()).isEqualTo(Kind.AUTH);
        assertThat(map(new UnknownTopicOrPartitionException("gone"), true).kind()).isEqualTo(Kind.CONFIG);
    }

    @Test
    void aMetadataWaitThatTimedOutIsAMissingTopicOnlyWhenABrokerAnswered() {
        TimeoutException metadata = new TimeoutException("Topic corouter-audit not present in metadata after 2000 ms.");

        assertThat(map(new ExecutionException(metadata), true).kind()).isEqualTo(Kind.CONFIG);
        assertThat(map(metadata, false).kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(map(metadata, false).getMessage()).contains("kafka-1.example.com:9093", "2000 ms");
    }

    @Test
    void aDeliveryTimeoutIsTimeoutAndRetriableBrokerErrorsAreUnavailable() {
        AuditException timeout = map(new TimeoutException("Expiring 3 record(s) for corouter-audit-0"), true);

        assertThat(timeout.kind()).isEqualTo(Kind.TIMEOUT);
        assertThat(timeout.retryable()).isTrue();
        assertThat(map(new NotEnoughReplicasException("isr"), true).kind()).isEqualTo(Kind.UNAVAILABLE);
        assertThat(map(new IllegalStateException("?"), true).kind()).isEqualTo(Kind.UNAVAILABLE);
    }

    @Test
    void theGuardsRefusalPassesThrough() {
        AuditException refused = new AuditException(Kind.REFUSED, "10.0.0.1 is a private address");

        assertThat(map(refused, false)).isSameAs(refused);
    }

    @Test
    void aPasswordInKafkasTextIsScrubbed() {
        AuditException e = map(new NotEnoughReplicasException("echo " + KafkaOptionsTest.PASSWORD), true);

        assertThat(e.getMessage()).doesNotContain(KafkaOptionsTest.PASSWORD).contains("(hidden)");
    }
}
