package co.corouter.provider.openai;

import co.corouter.plugin.api.ProviderContext;
import co.corouter.testkit.tck.Tokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@ExtendWith(VertxExtension.class)
class OpenAiOptionsTest {

    @Test
    void appliesDefaultsAndNormalisesTheBaseUrl() {
        OpenAiOptions options = OpenAiOptions.parse(new JsonObject().put("base_url", "https://api.openai.com/v1/"));

        assertThat(options.baseUrl()).hasToString("https://api.openai.com/v1");
        assertThat(options.chatCompletionsPath()).isEqualTo("/v1/chat/completions");
        assertThat(options.ssl()).isTrue();
        assertThat(options.port()).isEqualTo(443);
        assertThat(options.apiKeyEnv()).isNull();
        assertThat(options.connectTimeoutMs()).isEqualTo(10_000);
        assertThat(options.maxConnections()).isEqualTo(256);
        assertThat(options.headers()).isEmpty();
    }

    @Test
    void readsEveryField() {
        OpenAiOptions options = OpenAiOptions.parse(new JsonObject()
                .put("base_url", "http://localhost:11434/v1")
                .put("api_key_env", "GROQ_KEY")
                .put("connect_timeout_ms", 2500)
                .put("max_connections", 16)
                .put("headers", new JsonObject().put("X-Title", "corouter")));

        assertThat(options.host()).isEqualTo("localhost");
        assertThat(options.port()).isEqualTo(11434);
        assertThat(options.ssl()).isFalse();
        assertThat(options.apiKeyEnv()).isEqualTo("GROQ_KEY");
        assertThat(options.connectTimeoutMs()).isEqualTo(2500);
        assertThat(options.maxConnections()).isEqualTo(16);
        assertThat(options.headers()).isEqualTo(Map.of("X-Title", "corouter"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "{}                                                        | base_url",
            "{\"base_url\":\"ftp://example.com/v1\"}                    | base_url",
            "{\"base_url\":\"https://example.com/v1?key=1\"}            | base_url",
            "{\"base_url\":42}                                          | base_url",
            "{\"base_url\":\"http://h/v1\",\"base_ur1\":\"x\"}           | base_ur1",
            "{\"base_url\":\"http://h/v1\",\"max_connections\":0}        | max_connections",
            "{\"base_url\":\"http://h/v1\",\"max_connections\":\"8\"}    | max_connections",
            "{\"base_url\":\"http://h/v1\",\"connect_timeout_ms\":1.5}   | connect_timeout_ms",
            "{\"base_url\":\"http://h/v1\",\"api_key_env\":\"\"}         | api_key_env",
            "{\"base_url\":\"http://h/v1\",\"headers\":[\"X-A\"]}        | headers",
            "{\"base_url\":\"http://h/v1\",\"headers\":{\"X-A\":1}}      | headers.X-A",
            "{\"base_url\":\"http://h/v1\",\"headers\":{\"Host\":\"x\"}} | headers.Host",
            "{\"base_url\":\"http://h/v1\",\"api_key_env\":\"K\",\"headers\":{\"Authorization\":\"x\"}}"
                    + " | headers.Authorization",
    })
    void rejectsInvalidConfigurationNamingTheField(String config, String field) {
        assertThatThrownBy(() -> OpenAiOptions.parse(new JsonObject(config)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(field);
    }

    @Test
    void refusesToCreateAnEndpointWhenTheApiKeySecretIsMissing(Vertx vertx) {
        ProviderContext context = new ProviderContext(vertx, "groq", name -> null, Tokens.counter());
        JsonObject config = new JsonObject().put("base_url", "https://api.groq.com/openai/v1")
                .put("api_key_env", "GROQ_API_KEY");

        assertThatThrownBy(() -> new OpenAiProvider().create(context, config))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("api_key_env").hasMessageContaining("GROQ_API_KEY");
    }

    @Test
    void servesTheOpenAiType() {
        assertThat(new OpenAiProvider().type()).isEqualTo("openai");
    }
}
