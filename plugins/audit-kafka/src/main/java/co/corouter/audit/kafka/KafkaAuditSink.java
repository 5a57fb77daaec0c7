package co.corouter.audit.kafka;

import co.corouter.plugin.api.audit.AuditContext;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditSink;
import io.vertx.core.json.JsonObject;
import org.pf4j.Extension;

/**
 * Audit destinations of type {@code kafka}: a customer's Kafka topic. Configuration: {@link KafkaOptions}; schema:
 * {@code META-INF/corouter/audit/kafka.schema.json}. The plugin bundles vertx-kafka-client and its kafka-clients,
 * isolated in the plugin's class loader.
 */
@Extension
public final class KafkaAuditSink implements AuditSink {

    public static final String TYPE = "kafka";

    @Override
    public String type() {
        return TYPE;
    }

    /** Validates the configuration; connects nowhere (the producer is made on the first write or test). */
    @Override
    public AuditDestination open(AuditContext context, JsonObject config) {
        return new KafkaDestination(context, KafkaOptions.parse(config));
    }
}
