package co.corouter.server.audit;

import co.corouter.plugin.api.audit.AuditSink;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The audit sink plugins this node loaded, each with the JSON schema of its configuration (read from the plugin's own
 * jar at {@code META-INF/corouter/audit/<type>.schema.json}) and the names of its credential fields (the schema's
 * {@code "writeOnly": true} properties), which are sealed at rest and never shown again.
 */
public final class AuditSinks {

    /** One sink type. */
    public record Sink(String type, AuditSink factory, JsonObject schema, Set<String> secretFields) {
    }

    private final Map<String, Sink> byType;

    private AuditSinks(Map<String, Sink> byType) {
        this.byType = byType;
    }

    /** Blocking (reads each plugin's schema resource): call at boot, off the event loop. */
    public static AuditSinks load(Map<String, AuditSink> factories) {
        Map<String, Sink> sinks = new LinkedHashMap<>();
        factories.forEach((type, factory) -> {
            JsonObject schema = readSchema(type, factory);
            Set<String> secrets = new LinkedHashSet<>();
            JsonObject properties = schema.getJsonObject("properties", new JsonObject());
            properties.forEach(entry -> {
                if (entry.getValue() instanceof JsonObject property && property.getBoolean("writeOnly", false)) {
                    secrets.add(entry.getKey());
                }
            });
            sinks.put(type, new Sink(type, factory, schema, Set.copyOf(secrets)));
        });
        return new AuditSinks(Map.copyOf(sinks));
    }

    private static JsonObject readSchema(String type, AuditSink factory) {
        String resource = "META-INF/corouter/audit/" + type + ".schema.json";
        try (InputStream in = factory.getClass().getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the audit sink plugin of type '" + type + "' ships no " + resource);
            }
            return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource + " of the audit sink '" + type + "'", e);
        }
    }

    public Sink get(String type) {
        return byType.get(type);
    }

    public Map<String, Sink> all() {
        return byType;
    }
}
