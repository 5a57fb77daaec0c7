package co.corouter.audit.kafka;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditContext;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditRecord;
import co.corouter.plugin.api.audit.EndpointGuard.Endpoint;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * One account's Kafka topic. The producer is made on the first write or test, after every bootstrap server has passed
 * the host's endpoint guard, and it connects to the addresses the guard pinned. One message per record: key the
 * account id (so an account's records share a partition and keep their order), value the record's JSON bytes as they
 * are, headers {@code corouter-generation-id} and {@code corouter-batch-id}. A write completes when every message is
 * acknowledged by all in-sync replicas (idempotent producer, {@code acks=all}).
 *
 * <p><b>Brokers learnt from metadata.</b> After bootstrap, Kafka's client connects to the brokers the cluster
 * advertises, resolving their names itself; it offers no hook to pin those. So before any record is sent, every broker
 * of the topic's partitions (leaders and replicas) is passed through the guard too, and the write is refused if one is
 * not allowed. With TLS, {@link PinnedSslEngineFactory} also refuses a handshake with any broker not yet checked.
 * What remains: a broker that joins later is checked at the next write, and Kafka's own DNS answer for an advertised
 * name may differ from the guard's.
 *
 * <p><b>Duplicates.</b> A write that failed part-way is retried whole, and a retry cannot take back what was already
 * acknowledged: consumers de-duplicate on {@code corouter-generation-id}. {@link #test()} sends a real probe message
 * (header {@code corouter-probe: true}) that Kafka cannot delete again.
 *
 * <p>After any failure the producer is closed, and the next call checks and connects anew.
 */
final class KafkaDestination implements AuditDestination {

    static final String GENERATION_ID_HEADER = "corouter-generation-id";
    static final String BATCH_ID_HEADER = "corouter-batch-id";
    static final String PROBE_HEADER = "corouter-probe";

    private static final Logger log = LoggerFactory.getLogger(KafkaDestination.class);

    private final AuditContext context;
    private final KafkaOptions options;
    private final String clientId;
    private final String scheme;

    private Future<Client> client;
    private boolean closed;

    /**
     * The vert.x producer for sends and close; the native one for metadata and metrics; the brokers it may reach (a
     * new list per producer, so a discarded producer's approvals do not carry over).
     */
    private record Client(KafkaProducer<byte[], byte[]> producer, Producer<byte[], byte[]> kafka,
                          BrokerAllowList allowList) {
    }

    KafkaDestination(AuditContext context, KafkaOptions options) {
        this.context = context;
        this.options = options;
        this.clientId = "corouter-audit-" + context.accountId() + "-" + UUID.randomUUID().toString().substring(0, 8);
        this.scheme = options.protocol().tls() ? "tls" : "tcp";
    }

    @Override
    public Future<Void> write(AuditBatch batch) {
        List<KafkaProducerRecord<byte[], byte[]>> messages = new ArrayList<>(batch.records().size());
        for (AuditRecord record : batch.records()) {
            messages.add(message(batch.accountId(), record.json().getBytes())
                    .addHeader(GENERATION_ID_HEADER, record.generationId())
                    .addHeader(BATCH_ID_HEADER, batch.batchId()));
        }
        return send(messages);
    }

    /** Sends one probe message; Kafka cannot delete a single message, so it stays on the topic. */
    @Override
    public Future<Void> test() {
        byte[] probe = new JsonObject().put("corouter_probe", true).put("account_id", context.accountId())
                .put("at", Instant.now().toString()).toBuffer().getBytes();
        return send(List.of(message(context.accountId(), probe).addHeader(PROBE_HEADER, "true")));
    }

    @Override
    public Future<Void> close() {
        Future<Client> current;
        synchronized (this) {
            closed = true;
            current = client;
            client = null;
        }
        return current == null ? Future.succeededFuture() : shutDown(current);
    }

    private KafkaProducerRecord<byte[], byte[]> message(long accountId, byte[] value) {
        return KafkaProducerRecord.create(options.topic(),
                Long.toString(accountId).getBytes(StandardCharsets.US_ASCII), value);
    }

    private Future<Void> send(List<KafkaProducerRecord<byte[], byte[]>> messages) {
        Future<Client> current = client();
        return current
                .compose(c -> checkBrokers(c).map(c))
                .compose(c -> {
                    List<Future<?>> sends = new ArrayList<>(messages.size());
                    for (KafkaProducerRecord<byte[], byte[]> message : messages) {
                        sends.add(c.producer().send(message));
                    }
                    // join, not all: the write is over only when every send is, so a retry never overlaps it
                    return Future.join(sends).<Void>mapEmpty();
                })
                .recover(failure -> {
                    boolean answered = current.succeeded() && brokerAnswered(current.result());
                    AuditException mapped = KafkaErrors.toAuditException(failure, options, answered);
                    discard(current);
                    return Future.failedFuture(mapped);
                });
    }

    private synchronized Future<Client> client() {
        if (closed) {
            return Future.failedFuture(new AuditException(AuditException.Kind.UNAVAILABLE,
                    "the destination is closed"));
        }
        if (client == null) {
            BrokerAllowList allowList = new BrokerAllowList();
            client = pinBootstrapServers(allowList).compose(pinned -> context.vertx().executeBlocking(
                    () -> create(pinned, allowList), false));
        }
        return client;
    }

    private Future<List<Endpoint>> pinBootstrapServers(BrokerAllowList allowList) {
        List<Future<Endpoint>> checks = new ArrayList<>();
        for (KafkaOptions.HostPort server : options.bootstrapServers()) {
            checks.add(context.guard().check(scheme, server.host(), server.port()));
        }
        return Future.all(checks).map(all -> {
            List<Endpoint> pinned = all.list();
            pinned.forEach(allowList::pin);
            return pinned;
        });
    }

    /** On a worker: constructing a producer loads classes, starts its network thread and logs in (SASL). */
    private Client create(List<Endpoint> pinned, BrokerAllowList allowList) {
        Map<String, Object> settings = ProducerSettings.of(options, pinned, allowList, clientId);
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        // JAAS loads login modules through the context class loader, and Kafka's network thread inherits it: both
        // must see the plugin's kafka-clients, never a different copy on the host's class path
        thread.setContextClassLoader(KafkaDestination.class.getClassLoader());
        try {
            Producer<byte[], byte[]> kafka = new org.apache.kafka.clients.producer.KafkaProducer<>(settings,
                    new ByteArraySerializer(), new ByteArraySerializer());
            KafkaProducer<byte[], byte[]> producer = KafkaProducer.create(context.vertx(), kafka);
            // a failed send fails its future, which is where this destination handles it
            producer.exceptionHandler(ignored -> { });
            log.info("audit-kafka: producer {} for account {} to topic {} via {} (pinned {})", clientId,
                    context.accountId(), options.topic(), options.bootstrapServers(),
                    pinned.stream().map(e -> e.address().getHostAddress() + ":" + e.port()).toList());
            return new Client(producer, kafka, allowList);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** Every broker of the topic's partitions must have passed the guard before a record goes to one of them. */
    private Future<Void> checkBrokers(Client c) {
        return context.vertx().executeBlocking(() -> c.kafka().partitionsFor(options.topic()), false)
                .compose(partitions -> {
                    Set<Node> brokers = new LinkedHashSet<>();
                    for (PartitionInfo partition : partitions) {
                        addBroker(brokers, partition.leader());
                        for (Node replica : partition.replicas()) {
                            addBroker(brokers, replica);
                        }
                    }
                    List<Future<?>> checks = new ArrayList<>();
                    for (Node broker : brokers) {
                        if (!c.allowList().approved(broker.host(), broker.port())) {
                            checks.add(context.guard().check(scheme, broker.host(), broker.port())
                                    .onSuccess(allowed -> c.allowList().approve(broker.host(), broker.port()))
                                    .recover(refused -> Future.failedFuture(new AuditException(
                                            AuditException.Kind.REFUSED, "the cluster advertises broker "
                                            + broker.host() + ":" + broker.port() + ", which is not allowed: "
                                            + refused.getMessage()))));
                        }
                    }
                    return Future.all(checks).mapEmpty();
                });
    }

    private static void addBroker(Set<Node> brokers, Node node) {
        if (node != null && !node.isEmpty() && node.port() > 0) {
            brokers.add(node);
        }
    }

    /** Whether a broker has ever answered this producer: tells an unknown topic from an unreachable cluster. */
    private static boolean brokerAnswered(Client c) {
        for (Map.Entry<MetricName, ? extends Metric> metric : c.kafka().metrics().entrySet()) {
            MetricName name = metric.getKey();
            if (name.name().equals("response-total") && name.group().equals("producer-metrics")
                    && metric.getValue().metricValue() instanceof Number n && n.doubleValue() > 0) {
                return true;
            }
        }
        return false;
    }

    private void discard(Future<Client> failed) {
        synchronized (this) {
            if (client != failed) {
                return;
            }
            client = null;
        }
        if (failed.succeeded()) {
            shutDown(failed);
        }
    }

    private Future<Void> shutDown(Future<Client> current) {
        return current.compose(c -> c.producer().close(options.timeoutMs()))
                .recover(failure -> {
                    log.debug("audit-kafka: producer {} did not close cleanly: {}", clientId, failure.toString());
                    return Future.succeededFuture();
                });
    }
}
