package co.corouter.server.audit;

import co.corouter.plugin.api.audit.AuditContext;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.EndpointGuard;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.common.Timestamps;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An account's audit configuration, for the console and {@code /admin}: which sink, its settings, its credentials.
 * A configuration is saved only after its "test connection" passed (the sink wrote, and where it can deleted, a
 * probe); credentials (the schema's write-only fields) are sealed with the node's key-encryption key, bound to the
 * account, and never returned or logged. Every change is published on {@link AuditContract#CONFIG_CHANGED}.
 */
public final class AuditService implements AuditContract.Configs {

    private static final Logger log = LoggerFactory.getLogger(AuditService.class);

    private final Vertx vertx;
    private final AuditConfigs configs;
    private final AuditSinks sinks;
    private final SecretBox box;
    private final EndpointGuard guard;
    private final Path fileRoot;
    private final long testTimeoutMillis;
    private AuditLog delivery;

    AuditService(Vertx vertx, AuditConfigs configs, AuditSinks sinks, SecretBox box, EndpointGuard guard,
            Path fileRoot, long testTimeoutMillis) {
        this.vertx = vertx;
        this.configs = configs;
        this.sinks = sinks;
        this.box = box;
        this.guard = guard;
        this.fileRoot = fileRoot;
        this.testTimeoutMillis = testTimeoutMillis;
    }

    /** The node's delivery, whose queue {@link #get} reports. */
    void attach(AuditLog delivery) {
        this.delivery = delivery;
    }

    @Override
    public JsonObject sinks() {
        JsonArray data = new JsonArray();
        sinks.all().values().forEach(sink -> data.add(new JsonObject().put("type", sink.type())
                .put("schema", sink.schema().copy())));
        return new JsonObject().put("data", data);
    }

    @Override
    public Future<JsonObject> get(long accountId) {
        Future<JsonObject> local = delivery == null ? Future.succeededFuture(new JsonObject())
                : delivery.localStatus(accountId);
        return configs.find(accountId).compose(stored -> local.map(queue -> {
            JsonObject view = view(stored);
            if (view.containsKey("status")) {
                view.getJsonObject("status").mergeIn(queue);
            }
            return view;
        }));
    }

    @Override
    public Future<JsonObject> test(long accountId, JsonObject body) {
        return complete(accountId, body).compose(request -> probe(accountId, request))
                .map(v -> new JsonObject().put("ok", true));
    }

    @Override
    public Future<JsonObject> save(long accountId, JsonObject body) {
        return complete(accountId, body).compose(request -> probe(accountId, request).compose(v -> {
            JsonObject plain = new JsonObject();
            JsonObject secret = new JsonObject();
            request.config().forEach(entry -> (request.sink().secretFields().contains(entry.getKey()) ? secret : plain)
                    .put(entry.getKey(), entry.getValue()));
            byte[] sealed = secret.isEmpty() ? null
                    : box.seal(secret.toBuffer().getBytes(), configAad(accountId));
            return configs.save(accountId, request.sink().type(), plain, sealed);
        })).compose(v -> changed(accountId)).compose(v -> get(accountId));
    }

    @Override
    public Future<JsonObject> disable(long accountId) {
        return configs.disable(accountId).compose(found -> {
            if (!found) {
                throw new ApiException(ErrorCodes.NOT_FOUND, "audit logging is not configured for this account");
            }
            return changed(accountId);
        }).compose(v -> get(accountId));
    }

    @Override
    public Future<Void> erase(long accountId) {
        return configs.delete(accountId).compose(v -> changed(accountId));
    }

    @Override
    public Future<JsonObject> export(long accountId) {
        return configs.find(accountId).map(stored -> stored == null ? null : view(stored));
    }

    /**
     * Re-wraps, under the current key-encryption key, the data keys of credentials sealed by a previous one (key
     * rotation, README "Rotating the audit key"); the payloads are not touched. Returns how many were re-wrapped.
     */
    Future<Integer> rewrapOld(java.util.List<AuditConfigs.Stored> stored) {
        java.util.List<Future<Boolean>> updates = new java.util.ArrayList<>();
        for (AuditConfigs.Stored s : stored) {
            if (s.secrets() != null && !box.sealedWithCurrent(s.secrets())) {
                try {
                    updates.add(configs.rewrap(s.accountId(), s.secrets(), box.rewrap(s.secrets())));
                } catch (RuntimeException e) {
                    log.error("the audit credentials of account {} are sealed by an unknown key: {}", s.accountId(),
                            e.getMessage());
                }
            }
        }
        return Future.all(updates).map(all -> (int) updates.stream().filter(Future::result).count());
    }

    /** The full configuration of a stored destination, credentials opened (for the delivery, never for a reply). */
    JsonObject openConfig(AuditConfigs.Stored stored) {
        JsonObject config = stored.config().copy();
        if (stored.secrets() != null) {
            new JsonObject(io.vertx.core.buffer.Buffer.buffer(box.open(stored.secrets(), configAad(stored.accountId()))))
                    .forEach(entry -> config.put(entry.getKey(), entry.getValue()));
        }
        return config;
    }

    /** Opens a destination off the event loop (plugins build their clients there). */
    Future<AuditDestination> open(long accountId, String type, JsonObject config) {
        AuditSinks.Sink sink = sinks.get(type);
        if (sink == null) {
            return Future.failedFuture(new AuditException(AuditException.Kind.CONFIG,
                    "the audit sink '" + type + "' is not installed on this server"));
        }
        AuditContext context = new AuditContext(vertx, accountId, guard, fileRoot.resolve("account-" + accountId));
        return vertx.executeBlocking(() -> sink.factory().open(context, config.copy()), false);
    }

    private record Request(AuditSinks.Sink sink, JsonObject config) {
    }

    /**
     * The request's sink and configuration; a credential left out (the form never shows a stored one) is taken from
     * the stored configuration of the same sink.
     */
    private Future<Request> complete(long accountId, JsonObject body) {
        Object type = body.getValue("sink");
        if (!(type instanceof String name) || name.isBlank()) {
            return Future.failedFuture(field("sink", "'sink' must name an audit sink: one of " + sinks.all().keySet()));
        }
        AuditSinks.Sink sink = sinks.get(name);
        if (sink == null) {
            return Future.failedFuture(field("sink", "'sink' must be one of " + sinks.all().keySet()));
        }
        Object config = body.getValue("config");
        if (!(config instanceof JsonObject given)) {
            return Future.failedFuture(field("config", "'config' must be an object"));
        }
        JsonObject merged = given.copy();
        return configs.find(accountId).map(stored -> {
            if (stored != null && stored.sinkType().equals(name) && stored.secrets() != null) {
                openConfig(stored).forEach(entry -> {
                    if (sink.secretFields().contains(entry.getKey()) && merged.getValue(entry.getKey()) == null) {
                        merged.put(entry.getKey(), entry.getValue());
                    }
                });
            }
            return new Request(sink, merged);
        });
    }

    /** Opens the destination and runs its test; the failure names what went wrong, never a credential. */
    private Future<Void> probe(long accountId, Request request) {
        return open(accountId, request.sink().type(), request.config())
                .recover(e -> Future.failedFuture(e instanceof IllegalArgumentException
                        ? field("config", e.getMessage()) : e))
                .compose(destination -> destination.test().timeout(testTimeoutMillis, TimeUnit.MILLISECONDS)
                        .eventually(destination::close))
                .recover(e -> {
                    if (e instanceof ApiException api) {
                        return Future.failedFuture(api);
                    }
                    String reason = reason(e);
                    log.info("audit test connection of account {} ({}) failed: {}", accountId, request.sink().type(),
                            reason);
                    return Future.failedFuture(new ApiException(422, "the test connection failed: " + reason,
                            new JsonObject().put("kind", e instanceof AuditException a ? a.kind().name() : "UNAVAILABLE")));
                });
    }

    /** A failure as the customer may see it: the plugin's message (free of secrets by contract), or a timeout. */
    static String reason(Throwable e) {
        if (e instanceof AuditException) {
            return e.getMessage();
        }
        if (e instanceof java.util.concurrent.TimeoutException) {
            return "the destination did not answer in time";
        }
        return "unexpected failure (" + e.getClass().getSimpleName() + ")";
    }

    private Future<Void> changed(long accountId) {
        vertx.eventBus().publish(AuditContract.CONFIG_CHANGED, new JsonObject().put("account_id", accountId));
        return Future.succeededFuture();
    }

    private JsonObject view(AuditConfigs.Stored stored) {
        if (stored == null) {
            return new JsonObject().put("configured", false).put("enabled", false);
        }
        JsonArray secretsSet = new JsonArray();
        if (stored.secrets() != null) {
            try { // the names of the credentials stored, never their values
                new JsonObject(io.vertx.core.buffer.Buffer.buffer(box.open(stored.secrets(),
                        configAad(stored.accountId())))).fieldNames().stream().sorted().forEach(secretsSet::add);
            } catch (RuntimeException e) {
                log.warn("the audit credentials of account {} cannot be opened: {}", stored.accountId(),
                        e.getMessage());
            }
        }
        return new JsonObject().put("configured", true).put("enabled", stored.enabled())
                .put("sink", stored.sinkType()).put("config", stored.config().copy())
                .put("secrets_set", secretsSet)
                .put("updated_at", Timestamps.iso(stored.updatedAt()))
                .put("status", new JsonObject().put("delivered", stored.delivered()).put("dropped", stored.dropped())
                        .put("last_error", stored.lastError())
                        .put("last_error_at", Timestamps.iso(stored.lastErrorAt()))
                        .put("last_delivered_at", Timestamps.iso(stored.lastDeliveredAt())));
    }

    private static byte[] configAad(long accountId) {
        return ("corouter-audit-config:" + accountId).getBytes(StandardCharsets.UTF_8);
    }

    private static ApiException field(String field, String message) {
        return new ApiException(ErrorCodes.BAD_REQUEST, message,
                new JsonObject().put("fields", new JsonObject().put(field, message)));
    }
}
