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

class ServerOptionsTest {

    private static final String TOKEN = "admin-token-0123456789";

    @TempDir
    Path dir;

    private ServerOptions parse(JsonObject root) {
        return parse(root, Map.of());
    }

    private ServerOptions parse(JsonObject root, Map<String, String> env) {
        return ServerOptions.parse(dir.resolve("conf"), root, new Secrets(env));
    }

    private static JsonObject section(String name, String key, Object value) {
        return new JsonObject().put(name, new JsonObject().put(key, value));
    }

    @Test
    void theRepositoryDefaultConfigurationParses() {
        Path confDir = Path.of(System.getProperty("corouter.conf", "../../conf"));
        JsonObject root = ConfigLoader.load(confDir.resolve("corouter.yaml"), Map.of());

        ServerOptions options = ServerOptions.parse(confDir, root, new Secrets(Map.of()));

        assertThat(options.http().host()).isEqualTo("127.0.0.1");
        assertThat(options.http().port()).isEqualTo(8080);
        assertThat(options.http().bodyLimitBytes()).isEqualTo(4 * 1024 * 1024);
        assertThat(options.database().url()).isNull();
        assertThat(options.adminToken()).isNull();
        assertThat(options.billing().leaseSliceNanos()).isEqualTo(1_000_000_000L);
        Path repository = confDir.toAbsolutePath().getParent();
        assertThat(options.pluginsDir()).isEqualTo(repository.resolve("var/plugins").normalize());
        assertThat(options.dataDir()).isEqualTo(repository.resolve("var").normalize());
        assertThat(options.providers().getJsonObject("mock").getString("type")).isEqualTo("mock");
    }

    @Test
    void theDefaultConfigurationTakesTheAdminTokenAndPortFromTheEnvironment() {
        Path confDir = Path.of(System.getProperty("corouter.conf", "../../conf"));
        Map<String, String> env = Map.of("COROUTER__HTTP__PORT", "9999", "COROUTER_ADMIN_TOKEN", TOKEN);

        ServerOptions options = ServerOptions.parse(confDir, ConfigLoader.load(confDir.resolve("corouter.yaml"), env),
                new Secrets(env));

        assertThat(options.http().port()).isEqualTo(9999);
        assertThat(options.adminToken()).isEqualTo(TOKEN);
    }

    @Test
    void anEmptyConfigurationGetsTheDocumentedDefaults() {
        ServerOptions options = parse(new JsonObject());

        assertThat(options.http().port()).isEqualTo(8080);
        assertThat(options.http().upstreamTimeoutMillis()).isEqualTo(120_000);
        assertThat(options.database().poolSize()).isEqualTo(8);
        assertThat(options.billing().leaseTtlSeconds()).isEqualTo(60);
        assertThat(options.metering().batchSize()).isEqualTo(500);
        assertThat(options.metering().flushIntervalMillis()).isEqualTo(100);
        assertThat(options.metering().enabled()).as("metering is on unless switched off").isTrue();
        assertThat(options.http().eventLoops()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(options.providers()).isEqualTo(new JsonObject());
    }

    @Test
    void aPortOutOfRangeFailsNamingTheKeyPathAndTheValue() {
        assertThatThrownBy(() -> parse(section("http", "port", 70000)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("http.port").hasMessageContaining("65535").hasMessageContaining("70000");
        assertThatThrownBy(() -> parse(section("http", "port", -1)))
                .hasMessageContaining("http.port");
    }

    @Test
    void aNonNumericValueFromTheEnvironmentFailsNamingTheKeyPath() {
        JsonObject root = ConfigLoader.load(write("http:\n  port: 8080\n"), Map.of("COROUTER__HTTP__PORT", "eighty"));
        assertThatThrownBy(() -> parse(root))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("http.port").hasMessageContaining("'eighty'");
        assertThatThrownBy(() -> parse(section("metering", "batch_size", "many")))
                .hasMessageContaining("metering.batch_size");
    }

    @Test
    void aLeaseSliceThatIsNotAnAmountFailsNamingTheKeyPath() {
        assertThatThrownBy(() -> parse(section("billing", "lease_slice_usd", "abc")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("billing.lease_slice_usd").hasMessageContaining("'abc'");
        assertThatThrownBy(() -> parse(section("billing", "lease_slice_usd", "0")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("billing.lease_slice_usd").hasMessageContaining("positive");
        assertThatThrownBy(() -> parse(section("billing", "lease_slice_usd", "-1.00")))
                .hasMessageContaining("billing.lease_slice_usd");
    }

    @Test
    void otherOutOfRangeValuesNameTheirKeyPath() {
        assertThatThrownBy(() -> parse(section("billing", "lease_ttl_seconds", 1)))
                .hasMessageContaining("billing.lease_ttl_seconds");
        assertThatThrownBy(() -> parse(section("database", "pool_size", 0)))
                .hasMessageContaining("database.pool_size");
        assertThatThrownBy(() -> parse(section("http", "body_limit_bytes", 10)))
                .hasMessageContaining("http.body_limit_bytes");
        assertThatThrownBy(() -> parse(section("http", "upstream_timeout_ms", 99)))
                .hasMessageContaining("http.upstream_timeout_ms");
    }

    @Test
    void anAdminTokenShorterThanSixteenCharactersIsRefused() {
        assertThatThrownBy(() -> parse(new JsonObject(), Map.of("COROUTER_ADMIN_TOKEN", "short-token-15c")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("admin token").hasMessageContaining("16")
                .hasMessageNotContaining("short-token-15c");
        assertThat(parse(new JsonObject(), Map.of("COROUTER_ADMIN_TOKEN", "sixteen-chars-ok")).adminToken())
                .isEqualTo("sixteen-chars-ok");
    }

    @Test
    void theAdminTokenIsReadFromTheVariableNamedByTokenEnv() {
        JsonObject root = section("admin", "token_env", "MY_TOKEN");
        assertThat(parse(root, Map.of("MY_TOKEN", TOKEN, "COROUTER_ADMIN_TOKEN", "ignored-ignored-ignored"))
                .adminToken()).isEqualTo(TOKEN);
        assertThat(parse(root, Map.of()).adminToken()).isNull();
    }

    @Test
    void theAdminTokenIsReadFromTheFileNamedByTheVariableWithFileSuffix() throws IOException {
        Path secret = dir.resolve("admin-token");
        Files.writeString(secret, TOKEN + "\n");

        ServerOptions options = parse(new JsonObject(), Map.of("COROUTER_ADMIN_TOKEN_FILE", secret.toString()));

        assertThat(options.adminToken()).isEqualTo(TOKEN);
    }

    @Test
    void theAdminTokenFileSettingIsResolvedAgainstTheDirectoryAboveConf() throws IOException {
        Files.createDirectories(dir.resolve("secrets"));
        Files.writeString(dir.resolve("secrets/admin"), TOKEN);

        ServerOptions options = parse(section("admin", "token_file", "secrets/admin"));

        assertThat(options.adminToken()).isEqualTo(TOKEN);
    }

    @Test
    void aMissingAdminTokenFileFailsNamingTheSettingWithoutAnyValue() {
        assertThatThrownBy(() -> parse(section("admin", "token_file", "secrets/none")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("admin.token_file");
    }

    @Test
    void theDatabasePasswordComesFromItsVariableOrItsFile() throws IOException {
        Path secret = dir.resolve("db-password");
        Files.writeString(secret, "pg-secret\n");

        assertThat(parse(new JsonObject(), Map.of("COROUTER_DB_PASSWORD", "direct")).database().password())
                .isEqualTo("direct");
        assertThat(parse(new JsonObject(), Map.of("COROUTER_DB_PASSWORD_FILE", secret.toString())).database()
                .password()).isEqualTo("pg-secret");
        assertThat(parse(section("database", "password_file", secret.toString())).database().password())
                .isEqualTo("pg-secret");
        assertThat(parse(section("database", "url", "postgresql://db:5432/corouter")).database().url())
                .isEqualTo("postgresql://db:5432/corouter");
    }

    @Test
    void relativeDirectoriesAreResolvedAgainstTheDirectoryAboveConf() {
        ServerOptions options = parse(new JsonObject().put("node", new JsonObject().put("data_dir", "data"))
                .put("plugins", new JsonObject().put("dir", "ext/../plugins")));

        assertThat(options.dataDir()).isEqualTo(dir.toAbsolutePath().resolve("data"));
        assertThat(options.pluginsDir()).isEqualTo(dir.toAbsolutePath().resolve("plugins"));
    }

    private Path write(String text) {
        try {
            Path file = dir.resolve("corouter.yaml");
            Files.writeString(file, text);
            return file;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
