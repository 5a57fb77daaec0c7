package co.corouter.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    private Path yaml(String text) throws IOException {
        Path file = dir.resolve("corouter.yaml");
        Files.writeString(file, text);
        return file;
    }

    @Test
    void anEnvironmentVariableOverridesTheValueAtItsPath() throws IOException {
        JsonObject config = ConfigLoader.load(yaml("http:\n  host: 127.0.0.1\n  port: 8080\n"),
                Map.of("COROUTER__HTTP__PORT", "9999"));

        assertThat(config.getJsonObject("http").getValue("port")).isEqualTo("9999");
        assertThat(config.getJsonObject("http").getString("host")).isEqualTo("127.0.0.1");
        ServerOptions options = ServerOptions.parse(dir, config, new Secrets(Map.of()));
        assertThat(options.http().port()).isEqualTo(9999);
    }

    @Test
    void overridesCreateSectionsAndNestedSectionsThatTheFileDoesNotHave() throws IOException {
        JsonObject config = ConfigLoader.load(yaml("http:\n  port: 8080\n"), Map.of(
                "COROUTER__METERING__BATCH_SIZE", "42",
                "COROUTER__PROVIDERS__OPENAI__CONFIG__BASE_URL", "https://api.example.test/v1",
                "COROUTER__PROVIDERS__OPENAI__TYPE", "openai"));

        assertThat(config.getJsonObject("metering").getValue("batch_size")).isEqualTo("42");
        JsonObject openai = config.getJsonObject("providers").getJsonObject("openai");
        assertThat(openai.getString("type")).isEqualTo("openai");
        assertThat(openai.getJsonObject("config").getString("base_url")).isEqualTo("https://api.example.test/v1");
        assertThat(config.getJsonObject("http").getValue("port")).isEqualTo(8080);
        assertThat(ServerOptions.parse(dir, config, new Secrets(Map.of())).metering().batchSize()).isEqualTo(42);
    }

    @Test
    void overridesKeepSingleUnderscoresInsideKeysAndLowerCaseThePath() throws IOException {
        JsonObject config = ConfigLoader.load(yaml("billing:\n  lease_slice_usd: \"1.00\"\n"),
                Map.of("COROUTER__BILLING__LEASE_SLICE_USD", "0.25"));

        assertThat(config.getJsonObject("billing").getString("lease_slice_usd")).isEqualTo("0.25");
        assertThat(config.getJsonObject("billing").fieldNames()).containsExactly("lease_slice_usd");
        assertThat(ServerOptions.parse(dir, config, new Secrets(Map.of())).billing().leaseSliceNanos())
                .isEqualTo(250_000_000L);
    }

    @Test
    void variablesWithoutTheDoubleUnderscorePrefixAreIgnored() throws IOException {
        JsonObject config = ConfigLoader.load(yaml("http:\n  port: 8080\n"), Map.of(
                "COROUTER_HTTP_PORT", "1", "COROUTER_ADMIN_TOKEN", "x".repeat(20), "HTTP__PORT", "2", "PATH", "/bin"));

        assertThat(config).isEqualTo(new JsonObject().put("http", new JsonObject().put("port", 8080)));
    }

    @Test
    void aFileHoldingAnEmptyDocumentIsAnEmptyConfigurationThatOverridesCanFill() throws IOException {
        assertThat(ConfigLoader.load(yaml("---\n"), Map.of())).isEqualTo(new JsonObject());
        assertThat(ConfigLoader.load(yaml("null\n"), Map.of("COROUTER__HTTP__PORT", "1")))
                .isEqualTo(new JsonObject().put("http", new JsonObject().put("port", "1")));
    }

    @Test
    void aMissingOrUnparsableFileFailsNamingTheFile() throws IOException {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> ConfigLoader.load(missing, Map.of()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining(missing.toString());
        Path broken = yaml("http: [unclosed\n");
        assertThatThrownBy(() -> ConfigLoader.load(broken, Map.of()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining(broken.toString());
    }
}
