package co.corouter.provider.openai;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.plugin.api.ChatRequest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** The upstream body is the client's bytes with a few members replaced: everything else arrives unchanged. */
class UpstreamBodyTest {

    static final String CLIENT = """
            { "model" : "public/model",
              "messages":[{"role":"user","content":"a \\"quoted\\" }, {brace} and \\u00e9 , \\n"},
                          {"role":"assistant","content":[{"type":"text","text":"x"}]}],
              "temperature" : 0.25 ,"top_p":1e-1, "seed": -7, "logit_bias":{"50256":-100},
              "provider": {"sort":"price"}, "transforms":[], "user":"u-1",
              "stream_options": {"include_usage": false, "other": [1, {"a": null}]},
              "max_completion_tokens": 40000, "stop": null, "n":1
            }
            """;

    static ChatRequest request(String body, int cap) {
        return ChatRequest.ofRaw("gen-1", "upstream-\"model\"", Buffer.buffer(body), cap, 1000, Future.succeededFuture());
    }

    @Test
    void aStreamGetsUsageAndTheCapAndEveryOtherMemberUnchanged() {
        JsonObject sent = new JsonObject(UpstreamBody.of(request(CLIENT, 512), true));
        JsonObject client = new JsonObject(CLIENT);

        assertThat(sent.getString("model")).isEqualTo("upstream-\"model\"");
        assertThat(sent.getBoolean("stream")).isTrue();
        assertThat(sent.getJsonObject("stream_options")).isEqualTo(new JsonObject()
                .put("include_usage", true).put("other", client.getJsonObject("stream_options").getJsonArray("other")));
        assertThat(sent.getInteger("max_completion_tokens")).isEqualTo(512);
        assertThat(sent.containsKey("max_tokens")).isFalse();
        assertThat(sent.containsKey("provider")).isFalse();
        assertThat(sent.containsKey("transforms")).isFalse();
        for (String kept : new String[] {"messages", "temperature", "top_p", "seed", "logit_bias", "user", "stop", "n"}) {
            assertThat(sent.getValue(kept)).as(kept).isEqualTo(client.getValue(kept));
        }
        assertThat(sent.containsKey("stop")).isTrue();
        assertThat(sent.fieldNames()).hasSize(12);
    }

    @Test
    void aWholeRequestDropsStreamOptionsAndGetsMaxTokens() {
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true},\"model\":\"m\"}";
        JsonObject sent = new JsonObject(UpstreamBody.of(request(body, 64), false));

        assertThat(sent).isEqualTo(new JsonObject().put("model", "upstream-\"model\"").put("stream", false)
                .put("messages", new JsonObject(body).getJsonArray("messages")).put("max_tokens", 64));
    }

    @Test
    void aSmallerClientCapIsKeptAndANonNumericOneIsReplaced() {
        String body = "{\"model\":\"m\",\"messages\":[],\"max_tokens\":10,\"max_completion_tokens\":\"lots\"}";
        JsonObject sent = new JsonObject(UpstreamBody.of(request(body, 64), false));

        assertThat(sent.getInteger("max_tokens")).isEqualTo(10);
        assertThat(sent.getInteger("max_completion_tokens")).isEqualTo(64);
    }
}
