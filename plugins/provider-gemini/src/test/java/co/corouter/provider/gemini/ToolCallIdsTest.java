package co.corouter.provider.gemini;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ToolCallIdsTest {

    @Test
    void synthesisesAnOpenAiStyleIdWhenGeminiSentNone() {
        String first = ToolCallIds.of(null, null);
        String second = ToolCallIds.of("", null);

        assertThat(first).matches("call_[0-9a-f]{24}");
        assertThat(second).matches("call_[0-9a-f]{24}").isNotEqualTo(first);
        assertThat(ToolCallIds.of("abc", null)).isEqualTo("abc");
    }

    @Test
    void carriesAThoughtSignatureThroughTheIdAndBack() {
        String id = ToolCallIds.of("abc", "CiQB4/H+==");

        assertThat(id).isEqualTo("abc__thought__CiQB4/H+==");
        assertThat(ToolCallIds.signature(id)).isEqualTo("CiQB4/H+==");
        assertThat(ToolCallIds.signature("call_123")).isNull();
        assertThat(ToolCallIds.signature("x__thought__not base64!")).as("another gateway's id").isNull();
        assertThat(ToolCallIds.signature(null)).isNull();
    }
}
