package co.corouter.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Reads {@code corouter.yaml} and applies environment overrides. Runs once at boot, before any verticle is
 * deployed, so its blocking file reads never touch an event loop.
 *
 * <p>Overrides: {@code COROUTER__HTTP__PORT=9000} sets {@code http.port}; path segments are separated by a
 * double underscore and lower-cased.
 */
public final class ConfigLoader {

    static final String ENV_PREFIX = "COROUTER__";

    private ConfigLoader() {
    }

    public static JsonObject load(Path file, Map<String, String> env) {
        JsonObject config = readYaml(file);
        applyEnvironment(config, env);
        return config;
    }

    @SuppressWarnings("unchecked")
    public static JsonObject readYaml(Path file) {
        try {
            ObjectMapper mapper = new ObjectMapper(new YAMLFactory());
            JsonNode tree = mapper.readTree(Files.readAllBytes(file));
            if (tree == null || tree.isMissingNode() || tree.isNull()) {
                return new JsonObject();
            }
            if (!tree.isObject()) {
                throw new IllegalStateException("configuration file " + file + " must hold a mapping at the top");
            }
            return new JsonObject(mapper.convertValue(tree, Map.class));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read configuration file " + file + ": " + e.getMessage(), e);
        }
    }

    static void applyEnvironment(JsonObject config, Map<String, String> env) {
        env.forEach((name, value) -> {
            if (!name.startsWith(ENV_PREFIX)) {
                return;
            }
            String[] path = name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).split("__");
            JsonObject node = config;
            for (int i = 0; i < path.length - 1; i++) {
                JsonObject child = node.getJsonObject(path[i]);
                if (child == null) {
                    child = new JsonObject();
                    node.put(path[i], child);
                }
                node = child;
            }
            node.put(path[path.length - 1], value);
        });
    }
}
