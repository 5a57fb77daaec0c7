package co.corouter.provider.gemini;

import co.corouter.plugin.api.ProviderContext;
import co.corouter.testkit.tck.Tokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.InputStream;
import java.util.Map;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(VertxExtension.class)
class GeminiOptionsTest {

    @Test
    void defaultsToGooglesApiRootAndBuildsVersionedMethodPaths() {
        GeminiOptions options = GeminiOptions.parse(new JsonObject().put("api_key_env", "GEMINI_API_KEY"));

        assertThat(options.baseUrl()).hasToString("https://generativelanguage.googleapis.com");
        assertThat(options.ssl()).isTrue();
        assertThat(options.port()).isEqualTo(443);
        assertThat(options.hostIsIpLiteral()).isFalse();
        assertThat(options.methodPath("gemini-2.5-flash", "generateContent"))
                .isEqualTo("/v1beta/models/gemini-2.5-flash:generateContent");
        assertThat(options.methodPath("models/gemini-embedding-001", "batchEmbedContents"))
                .as("a catalog may name the resource")
                .isEqualTo("/v1beta/models/gemini-embedding-001:batchEmbedContents");
        assertThat(options.connectTimeoutMs()).isEqualTo(10_000);
        assertThat(options.maxConnections()).isEqualTo(256);
        assertThat(options.headers()).isEmpty();
    }

    @Test
    void readsEveryFieldAndKeepsAProxysPathPrefix() {
        GeminiOptions options = GeminiOptions.parse(new JsonObject()
                .put("base_url", "http://127.0.0.1:8090/gemini/")
                .put("api_key_env", "KEY")
                .put("connect_timeout_ms", 2500)
                .put("max_connections", 16)
                .put("headers", new JsonObject().put("x-goog-user-project", "p-1")));

        assertThat(options.host()).isEqualTo("127.0.0.1");
        assertThat(options.hostIsIpLiteral()).isTrue();
        assertThat(options.port()).isEqualTo(8090);
        assertThat(options.ssl()).isFalse();
        assertThat(options.methodPath("m", "generateContent")).isEqualTo("/gemini/v1beta/models/m:generateContent");
        assertThat(options.connectTimeoutMs()).isEqualTo(2500);
        assertThat(options.maxConnections()).isEqualTo(16);
        assertThat(options.headers()).isEqualTo(Map.of("x-goog-user-project", "p-1"));
    }

    @Test
    void percentEncodesAModelNameThatIsNotAPathSegment() {
        GeminiOptions options = GeminiOptions.parse(new JsonObject().put("api_key_env", "KEY"));

        assertThat(options.methodPath("tuned/a b", "generateContent"))
                .isEqualTo("/v1beta/models/tuned%2Fa%20b:generateContent");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "{}                                                                  | api_key_env",
            "{\"api_key_env\":\"\"}                                               | api_key_env",
            "{\"api_key_env\":\"K\",\"base_url\":\"ftp://example.com\"}           | base_url",
            "{\"api_key_env\":\"K\",\"base_url\":\"https://h/v1beta\"}            | base_url",
            "{\"api_key_env\":\"K\",\"base_url\":\"https://h?key=AIza\"}          | base_url",
            "{\"api_key_env\":\"K\",\"base_url\":42}                              | base_url",
            "{\"api_key_env\":\"K\",\"api_key\":\"AIza\"}                         | api_key",
            "{\"api_key_env\":\"K\",\"max_connections\":0}                        | max_connections",
            "{\"api_key_env\":\"K\",\"connect_timeout_ms\":1.5}                   | connect_timeout_ms",
            "{\"api_key_env\":\"K\",\"headers\":{\"x-goog-api-key\":\"AIza\"}}    | headers.x-goog-api-key",
            "{\"api_key_env\":\"K\",\"headers\":{\"Content-Type\":\"text/plain\"}} | headers.Content-Type",
            "{\"api_key_env\":\"K\",\"headers\":{\"X-A\":\"a\\r\\nb\"}}            | headers.X-A",
            "{\"api_key_env\":\"K\",\"headers\":[\"X-A\"]}                         | headers",
    })
    void refusesInvalidConfigurationNamingTheField(String config, String field) {
        assertThatThrownBy(() -> GeminiOptions.parse(new JsonObject(config)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(field);
    }

    @Test
    void theProviderRefusesAnUnsetSecretNamingIt(Vertx vertx) {
        ProviderContext context = new ProviderContext(vertx, "gemini", name -> null, Tokens.counter());

        assertThatThrownBy(() -> new GeminiProvider().create(context, new JsonObject().put("api_key_env", "GK")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("api_key_env").hasMessageContaining("GK");
    }

    @Test
    void theConfigSchemaDescribesExactlyTheFieldsTheParserKnows() throws Exception {
        try (InputStream schema = getClass().getResourceAsStream("/META-INF/corouter/config.schema.json")) {
            assertThat(schema).isNotNull();
            JsonObject parsed = new JsonObject(new String(schema.readAllBytes()));
            assertThat(parsed.getBoolean("additionalProperties")).isFalse();
            assertThat(new TreeSet<>(parsed.getJsonObject("properties").fieldNames())).containsExactly(
                    "api_key_env", "base_url", "connect_timeout_ms", "headers", "max_connections");
            assertThat(parsed.getJsonArray("required")).containsExactly("api_key_env");
        }
    }
}
