package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ProviderContext;
import co.corouter.testkit.tck.Tokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(VertxExtension.class)
class AnthropicOptionsTest {

    @Test
    void defaultsToAnthropicsApiRootAndTheWidelyUsedVersion() {
        AnthropicOptions options = AnthropicOptions.parse(new JsonObject().put("api_key_env", "ANTHROPIC_API_KEY"));

        assertThat(options.baseUrl()).hasToString("https://api.anthropic.com");
        assertThat(options.messagesPath()).isEqualTo("/v1/messages");
        assertThat(options.ssl()).isTrue();
        assertThat(options.port()).isEqualTo(443);
        assertThat(options.hostIsIpLiteral()).isFalse();
        assertThat(options.anthropicVersion()).isEqualTo("2023-06-01");
        assertThat(options.acceptsSamplingParameters()).isTrue();
        assertThat(options.anthropicBeta()).isNull();
        assertThat(options.connectTimeoutMs()).isEqualTo(10_000);
        assertThat(options.maxConnections()).isEqualTo(256);
        assertThat(options.headers()).isEmpty();
    }

    @Test
    void readsEveryField() {
        AnthropicOptions options = AnthropicOptions.parse(new JsonObject()
                .put("base_url", "http://127.0.0.1:8090/anthropic/")
                .put("anthropic_version", "2026-10-21")
                .put("anthropic_beta", new JsonArray().add("interleaved-thinking-2025-05-14")
                        .add("context-1m-2025-08-07"))
                .put("connect_timeout_ms", 2500)
                .put("max_connections", 16)
                .put("headers", new JsonObject().put("anthropic-workspace-id", "wrk_1")
                        .put("Authorization", "Bearer gateway")));

        assertThat(options.baseUrl()).hasToString("http://127.0.0.1:8090/anthropic");
        assertThat(options.messagesPath()).isEqualTo("/anthropic/v1/messages");
        assertThat(options.host()).isEqualTo("127.0.0.1");
        assertThat(options.hostIsIpLiteral()).isTrue();
        assertThat(options.port()).isEqualTo(8090);
        assertThat(options.ssl()).isFalse();
        assertThat(options.apiKeyEnv()).as("a gateway may need none").isNull();
        assertThat(options.anthropicVersion()).isEqualTo("2026-10-21");
        assertThat(options.acceptsSamplingParameters()).as("2026-10-21 removed them").isFalse();
        assertThat(options.anthropicBeta()).isEqualTo("interleaved-thinking-2025-05-14,context-1m-2025-08-07");
        assertThat(options.connectTimeoutMs()).isEqualTo(2500);
        assertThat(options.maxConnections()).isEqualTo(16);
        assertThat(options.headers()).isEqualTo(Map.of("anthropic-workspace-id", "wrk_1",
                "Authorization", "Bearer gateway"));
    }

    @Test
    void takesTheBetaFeaturesAsOneCommaSeparatedStringToo() {
        AnthropicOptions options = AnthropicOptions.parse(new JsonObject().put("base_url", "http://h")
                .put("anthropic_beta", " prompt-caching-2024-07-31 , pdfs-2024-09-25"));

        assertThat(options.anthropicBeta()).isEqualTo("prompt-caching-2024-07-31,pdfs-2024-09-25");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "{}                                                   | api_key_env: is required for https://api",
            "{'base_url':'https://api.anthropic.com/v1','api_key_env':'K'} | base_url: is the API root without /v1",
            "{'base_url':'ftp://example.com'}                     | base_url: must start with http",
            "{'base_url':'https://example.com?key=1'}             | base_url: must not contain a query",
            "{'base_url':42}                                      | base_url: must be a URL string",
            "{'base_url':'http://h','api_key':'sk-ant-x'}         | unknown field(s) [api_key]",
            "{'base_url':'http://h','anthropic_version':'latest'} | anthropic_version: must be an API version date",
            "{'base_url':'http://h','anthropic_beta':['a b']}     | anthropic_beta: 'a b' is not a beta feature",
            "{'base_url':'http://h','anthropic_beta':7}           | anthropic_beta: must be a list",
            "{'base_url':'http://h','max_connections':0}          | max_connections: must be a whole number",
            "{'base_url':'http://h','connect_timeout_ms':1.5}     | connect_timeout_ms: must be a whole number",
            "{'base_url':'http://h','api_key_env':' '}            | api_key_env: must be a non-empty string",
            "{'base_url':'http://h','headers':{'x-api-key':'k'}}  | headers.x-api-key: is set by the provider",
            "{'base_url':'http://h','headers':{'Anthropic-Version':'1'}} | (use anthropic_version)",
            "{'base_url':'http://h','headers':{'a b':'1'}}        | headers: 'a b' is not a valid header name",
            "{'base_url':'http://h','headers':{'X-A':'1\\n2'}}    | headers.X-A: must be a single-line string",
            "{'base_url':'http://h','api_key_env':'K','headers':{'authorization':'x'}} | conflicts with api_key_env"})
    void refusesInvalidConfigurationNamingTheField(String config, String message) {
        assertThatThrownBy(() -> AnthropicOptions.parse(new JsonObject(config.replace('\'', '"'))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void theProviderRefusesAnApiKeySecretThatIsNotSet(Vertx vertx) {
        ProviderContext context = new ProviderContext(vertx, "claude", name -> null, Tokens.counter());

        assertThatThrownBy(() -> new AnthropicProvider().create(context,
                new JsonObject().put("api_key_env", "ANTHROPIC_API_KEY")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("api_key_env: secret 'ANTHROPIC_API_KEY' is not set");
    }

    @Test
    void theConfigSchemaDescribesExactlyTheFieldsTheParserKnows() throws Exception {
        try (InputStream in = AnthropicProvider.class.getResourceAsStream("/META-INF/corouter/config.schema.json")) {
            assertThat(in).as("the schema ships in the jar").isNotNull();
            JsonObject schema = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            assertThat(schema.getBoolean("additionalProperties")).isFalse();
            assertThat(schema.getJsonObject("properties").fieldNames())
                    .containsExactlyInAnyOrderElementsOf(AnthropicOptions.FIELDS);
        }
    }

    @Test
    void theExtensionIndexNamesTheProviderSoPf4jFindsIt() throws Exception {
        // the plugin's own classes directory (the test classes have an index of their own, empty)
        Path classes = Path.of(AnthropicProvider.class.getProtectionDomain().getCodeSource().getLocation().toURI());

        assertThat(Files.readString(classes.resolve("META-INF/extensions.idx")))
                .as("written by the PF4J annotation processor").contains(AnthropicProvider.class.getName());
    }
}
