package co.corouter.audit.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.plugin.api.audit.AuditContext;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import co.corouter.plugin.api.audit.AuditSink;
import co.corouter.testkit.audit.AuditBatches;
import co.corouter.testkit.audit.EventLoop;
import co.corouter.testkit.audit.TestEndpointGuard;
import co.corouter.testkit.kafka.KafkaBroker;
import co.corouter.testkit.plugin.LoadedPlugin;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A broker that goes away under a working destination: writes fail within their bound, never hang. */
@ExtendWith(VertxExtension.class)
class KafkaBrokerDownIT {

    private static final int TIMEOUT_MS = 3000;
    /** The bound plus room for a loaded two-core machine; a hang would take minutes (Kafka's defaults). */
    private static final Duration LIMIT = Duration.ofMillis(TIMEOUT_MS).plusSeconds(7);

    @TempDir
    Path pluginsDir;

    @Test
    void writesFailWithinTheTimeoutOnceTheBrokerIsGone(Vertx vertx) throws Exception {
        try (KafkaBroker broker = KafkaBroker.builder().autoCreateTopics(false).start();
             LoadedPlugin plugin = LoadedPlugin.load(Path.of(System.getProperty("corouter.test.plugin.jar")),
                     pluginsDir)) {
            String topic = "audit-" + UUID.randomUUID();
            Topics.create(broker.bootstrapServers(), topic, 1);
            EventLoop loop = new EventLoop(vertx);
            AuditDestination destination = plugin.extension(AuditSink.class).open(
                    new AuditContext(vertx, 9, new TestEndpointGuard(vertx), null),
                    new JsonObject().put("bootstrap_servers", new JsonArray().add(broker.bootstrapServers()))
                            .put("topic", topic).put("security_protocol", "PLAINTEXT").put("timeout_ms", TIMEOUT_MS));
            loop.await(() -> destination.write(AuditBatches.batch(9, Instant.now(), 2)));

            broker.stop();

            long start = System.nanoTime();
            AuditException connected = loop.failure(AuditException.class, () -> destination.write(AuditBatches.batch(9,
                    Instant.now(), 2)));
            Duration firstFailure = Duration.ofNanos(System.nanoTime() - start);
            // the producer is discarded after a failure: the next write starts over against a cluster that is gone
            start = System.nanoTime();
            AuditException fresh = loop.failure(AuditException.class, () -> destination.write(AuditBatches.batch(9,
                    Instant.now(), 1)));
            Duration secondFailure = Duration.ofNanos(System.nanoTime() - start);

            assertThat(connected.kind()).isIn(Kind.TIMEOUT, Kind.UNAVAILABLE);
            assertThat(firstFailure).isLessThan(LIMIT);
            assertThat(fresh.kind()).isEqualTo(Kind.UNAVAILABLE);
            assertThat(secondFailure).isLessThan(LIMIT);
            loop.await(destination::close);
        }
    }


}
