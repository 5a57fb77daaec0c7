package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.testkit.kafka.KafkaBroker;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Opt-in audit logging into a customer's Kafka topic (the audit-kafka plugin) on a real node and a real broker (its
 * own JVM): every request once on the topic, keyed by account, both bodies byte-exact. The node's own class path holds
 * kafka-clients 4.3.1 while the plugin carries the 3.7.1 that vertx-kafka-client brings: the plugin loads and works
 * beside a conflicting host library.
 */
class AuditKafkaTest {

    static KafkaBroker broker;

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream()
            .set("audit", "flush_interval_ms", 50)
            .set("audit", "guard", new JsonObject().put("allow_plaintext_tcp", true)
                    .put("allow_list", new JsonArray().add("127.0.0.1/32"))).build();

    @BeforeAll
    static void startBroker() {
        broker = KafkaBroker.builder().autoCreateTopics(true).start();
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void everyRequestOfAnOptedInAccountIsOneMessageOnItsTopicBesideAConflictingHostKafkaClient() {
        assertThat(AppInfoParser.getVersion()).as("the host's kafka-clients").isEqualTo("4.3.1");
        CorouterNode.Account account = NODE.newAccount("2.00");
        String topic = "audit-" + account.id();
        NODE.admin("PUT", "/admin/accounts/" + account.id() + "/audit", new JsonObject().put("sink", "kafka")
                .put("config", new JsonObject().put("bootstrap_servers", new JsonArray().add(broker.bootstrapServers()))
                        .put("topic", topic).put("security_protocol", "PLAINTEXT")), 200);

        Map<String, String[]> exchanged = new LinkedHashMap<>();
        for (boolean stream : new boolean[] {false, true, false}) {
            String body = AuditS3Test.chat("to kafka " + stream, stream);
            HttpResponse<String> response = NODE.chat(account.key(), body);
            assertThat(response.statusCode()).isEqualTo(200);
            exchanged.put(response.headers().firstValue("X-Generation-Id").orElseThrow(),
                    new String[] {body, response.body()});
        }

        Map<String, ConsumerRecord<String, byte[]>> received = new LinkedHashMap<>();
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "audit-test-" + System.nanoTime());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
            while (!received.keySet().containsAll(exchanged.keySet())) {
                assertThat(System.nanoTime()).as("every record on the topic in time").isLessThan(deadline);
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.headers().lastHeader("corouter-probe") != null) {
                        continue; // the test connection's probe
                    }
                    String id = new String(record.headers().lastHeader("corouter-generation-id").value(),
                            StandardCharsets.UTF_8);
                    assertThat(received.put(id, record)).as("record %s twice", id).isNull();
                }
            }
        }
        assertThat(List.copyOf(received.keySet())).containsExactlyElementsOf(exchanged.keySet());
        exchanged.forEach((id, sent) -> {
            ConsumerRecord<String, byte[]> message = received.get(id);
            assertThat(message.key()).isEqualTo(Long.toString(account.id()));
            JsonObject record = new JsonObject(new String(message.value(), StandardCharsets.UTF_8));
            assertThat(record.getString("generation_id")).isEqualTo(id);
            assertThat(record.getString("request")).isEqualTo(sent[0]);
            assertThat(record.getString("response")).isEqualTo(sent[1]);
        });
    }
}
