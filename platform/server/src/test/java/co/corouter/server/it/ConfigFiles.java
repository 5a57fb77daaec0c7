package co.corouter.server.it;

import co.corouter.server.config.ConfigLoader;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;

/** The repository's own {@code conf/} files, so tests run against the catalog users get. */
final class ConfigFiles {

    static Path confDir() {
        return Path.of(System.getProperty("corouter.conf", "../../conf"));
    }

    static JsonObject models() {
        return ConfigLoader.readYaml(confDir().resolve("models.yaml"));
    }

    private ConfigFiles() {
    }
}
