package co.corouter.provider.mock;

import co.corouter.plugin.api.ProviderContext;
import co.corouter.testkit.tck.Tokens;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.OptionalInt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MockOptionsTest {

    @Test
    void anEmptyConfigGivesTheDocumentedDefaults() {
        assertThat(MockOptions.from(new JsonObject()))
                .isEqualTo(new MockOptions(0, 8, 0, 16, OptionalInt.empty()))
                .isEqualTo(MockOptions.defaults());
        assertThat(MockOptions.from(null)).isEqualTo(MockOptions.defaults());
    }

    @Test
    void everyKeyIsRead() {
        MockOptions options = MockOptions.from(new JsonObject()
                .put("latency_ms", 250)
                .put("chunk_count", 3)
                .put("chunk_interval_ms", 7L)
                .put("completion_tokens", 40)
                .put("prompt_tokens", 12));

        assertThat(options).isEqualTo(new MockOptions(250, 3, 7, 40, OptionalInt.of(12)));
    }

    @Test
    void integersOverriddenFromTheEnvironmentMayArriveAsStrings() {
        assertThat(MockOptions.from(new JsonObject().put("latency_ms", " 40 ").put("chunk_count", 2.0)))
                .isEqualTo(new MockOptions(40, 2, 0, 16, OptionalInt.empty()));
    }

    @Test
    void aNegativeLatencyIsRefusedNamingTheField() {
        assertThatThrownBy(() -> MockOptions.from(new JsonObject().put("latency_ms", -1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("latency_ms");
    }

    @Test
    void aStreamNeedsAtLeastOneChunk() {
        assertThatThrownBy(() -> MockOptions.from(new JsonObject().put("chunk_count", 0)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("chunk_count");
    }

    @Test
    void aValueTooLargeForAnIntIsReportedAsWritten() {
        assertThatThrownBy(() -> MockOptions.from(new JsonObject().put("completion_tokens", 5_000_000_000L)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("completion_tokens")
                .hasMessageContaining("5000000000");
    }

    @Test
    void aNonIntegerValueIsRefusedNamingTheField() {
        assertThatThrownBy(() -> MockOptions.from(new JsonObject().put("chunk_interval_ms", "soon")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("chunk_interval_ms");
        assertThatThrownBy(() -> MockOptions.from(new JsonObject().put("prompt_tokens", 1.5)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("prompt_tokens");
        assertThatThrownBy(() -> MockOptions.from(new JsonObject().put("completion_tokens", true)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("completion_tokens");
    }

    @Test
    void aMisspelledKeyIsRefusedRatherThanIgnored() {
        assertThatThrownBy(() -> MockOptions.from(new JsonObject().put("latency", 100)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'latency'")
                .hasMessageContaining("latency_ms");
    }

    @Test
    void theProviderRefusesAnInvalidConfigWhenCreatingAnEndpoint() {
        ProviderContext context = new ProviderContext(null, "mock", name -> null, Tokens.counter());
        assertThatThrownBy(() -> new MockProvider().create(context, new JsonObject().put("chunk_count", -3)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("chunk_count");
    }
}
