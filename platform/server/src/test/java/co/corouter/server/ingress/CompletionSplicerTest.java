package co.corouter.server.ingress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.server.common.ApiException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CompletionSplicerTest {

    static final Buffer HEAD = Buffer.buffer("\"id\":\"gen-1\",\"model\":\"corouter/x\",\"usage\":{\"cost\":0.5}");

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"id\":\"up-1\",\"object\":\"chat.completion\",\"model\":\"gpt\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"a \\\"quoted\\\" } ,\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1},\"system_fingerprint\":null}",
            "{ \"usage\" : { \"prompt_tokens\" : 1 } ,\n  \"object\":\"chat.completion\" ,\r\n\t\"choices\" : [ {\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"a \\\"quoted\\\" } ,\"},\"finish_reason\":\"stop\"} ] , \"id\":\"up-1\",\"model\":\"gpt\", \"system_fingerprint\" : null }\n",
            "{\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"a \\\"quoted\\\" } ,\"},\"finish_reason\":\"stop\"}],\"system_fingerprint\":null}"
    })
    void corouterFieldsReplaceTheUpstreamsAndEverythingElseIsCopiedByteForByte(String upstream) {
        Buffer spliced = CompletionSplicer.splice(Buffer.buffer(upstream), HEAD, "id", "model", "provider", "usage");

        JsonObject out = new JsonObject(spliced);
        JsonObject expected = new JsonObject(upstream).put("id", "gen-1").put("model", "corouter/x")
                .put("usage", new JsonObject().put("cost", 0.5));
        assertThat(out).isEqualTo(expected);
        assertThat(out.fieldNames()).containsExactlyInAnyOrderElementsOf(expected.fieldNames());
        assertThat(spliced.toString()).contains("\"content\":\"a \\\"quoted\\\" } ,\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[1,2]", "{\"a\":1", "{\"a\":}", "not json", "{\"a\":1}}"})
    void somethingThatIsNotOneJsonObjectIsABadGateway(String upstream) {
        assertThatThrownBy(() -> CompletionSplicer.splice(Buffer.buffer(upstream), HEAD, "id"))
                .isInstanceOf(ApiException.class).hasMessageContaining("not a JSON object");
    }
}
