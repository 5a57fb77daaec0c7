package co.corouter.provider.anthropic;

import co.corouter.plugin.api.Usage;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class UsagesTest {

    @Test
    void thePromptIsTheUncachedInputPlusCacheReadsPlusCacheWrites() {
        Usage usage = Usages.reported(new JsonObject("{\"input_tokens\":472,\"output_tokens\":89,"
                + "\"cache_creation_input_tokens\":300,\"cache_read_input_tokens\":1024,"
                + "\"cache_creation\":{\"ephemeral_5m_input_tokens\":300,\"ephemeral_1h_input_tokens\":0}}"));

        assertThat(usage).isEqualTo(new Usage(1796, 89, 1024, 0, false, 300));
        assertThat(usage.totalTokens()).isEqualTo(1796 + 89);
    }

    @Test
    void nullCacheCountsAreZero() {
        Usage usage = Usages.reported(new JsonObject("{\"input_tokens\":10,\"output_tokens\":2,"
                + "\"cache_creation_input_tokens\":null,\"cache_read_input_tokens\":null}"));

        assertThat(usage).isEqualTo(Usage.of(10, 2));
    }

    @Test
    void thinkingTokensAreReasoningTokensWithinTheOutput() {
        Usage usage = Usages.reported(new JsonObject("{\"input_tokens\":10,\"output_tokens\":50,"
                + "\"output_tokens_details\":{\"thinking_tokens\":80}}"));

        assertThat(usage.reasoningTokens()).as("never more than the output").isEqualTo(50);
    }

    @Test
    void aUsageWithoutTokenCountsIsNoUsage() {
        assertThat(Usages.reported(null)).isNull();
        assertThat(Usages.reported("usage")).isNull();
        assertThat(Usages.reported(new JsonObject().put("output_tokens", 3))).isNull();
        assertThat(Usages.reported(new JsonObject().put("input_tokens", -1).put("output_tokens", 3))).isNull();
    }
}
