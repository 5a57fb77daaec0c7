package co.corouter.server.ingress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.server.common.ApiException;
import co.corouter.server.pipeline.ParsedChat;
import co.corouter.server.routing.ModelCatalog;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The one-pass validator: the checks and their messages, whatever the order of the keys. */
class ChatRequestParserTest {

    static final ModelCatalog CATALOG = ModelCatalog.fromJson(new JsonObject().put("models", new JsonArray()
            .add(new JsonObject().put("id", "corouter/m").put("provider", "mock").put("upstream_model", "m")
                    .put("context_length", 8192).put("max_output_tokens", 1000).put("pricing", new JsonObject()
                            .put("prompt_per_million", "1.00").put("completion_per_million", "2.00")))
            .add(new JsonObject().put("id", "corouter/backup").put("provider", "mock").put("context_length", 8192)
                    .put("max_output_tokens", 500).put("pricing", new JsonObject()
                            .put("prompt_per_million", "1.00").put("completion_per_million", "2.00")))), "test");

    static final ChatRequestParser PARSER = new ChatRequestParser(CATALOG::require);

    static final String MESSAGES = "\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
            + "{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}],\"role\":\"user\",\"name\":\"x\"}]";

    @Test
    void aValidBodyKeepsItsBytesAndYieldsModelStreamAndTheTokenCap() {
        Buffer raw = Buffer.buffer("{\"stream\":true," + MESSAGES
                + ",\"max_tokens\":600,\"max_completion_tokens\":700.0,\"temperature\":null,\"model\":\"corouter/m\"}");
        ParsedChat chat = PARSER.parse(raw);

        assertThat(chat.raw()).isSameAs(raw);
        assertThat(chat.model().id()).isEqualTo("corouter/m");
        assertThat(chat.stream()).isTrue();
        assertThat(chat.maxTokens()).isEqualTo(600);
        assertThat(chat.bodyBytes()).isEqualTo(raw.length());
        assertThat(PARSER.parse(Buffer.buffer("{\"model\":\"corouter/m\"," + MESSAGES + ",\"stream\":null}"))
                .maxTokens()).as("the model's cap when the client sets none").isEqualTo(1000);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''|the request body is empty; send a JSON object",
            "{not json|the request body is not valid JSON",
            "{\"model\":\"corouter/m\",\"messages\":[]} x|the request body is not valid JSON",
            "[1,2]|the request body must be a JSON object",
            "\"text\"|the request body must be a JSON object",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}|'model' is required and must be a string",
            "{\"model\":7,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}|'model' is required and must be a string",
            "{\"model\":\"corouter/m\"}|'messages' is required and must be a non-empty array",
            "{\"model\":\"corouter/m\",\"messages\":{}}|'messages' is required and must be a non-empty array",
            "{\"model\":\"corouter/m\",\"messages\":[]}|'messages' is required and must be a non-empty array",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},3]}|'messages[1]' must be an object",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}|'messages[0].role' must be one of system, developer, user, assistant, tool",
            "{\"model\":\"corouter/m\",\"messages\":[{\"content\":\"x\"}]}|'messages[0].role' must be one of system, developer, user, assistant, tool",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\",\"content\":{\"a\":1}}]}|'messages[0].content' must be a string or an array of content parts",
            "{\"stream\":\"yes\",\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}]}|'stream' must be a boolean",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"max_tokens\":-5}|'max_tokens' must be an integer between 1 and 1000 (the most corouter/m can produce)",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"max_completion_tokens\":1.5}|'max_completion_tokens' must be an integer between 1 and 1000 (the most corouter/m can produce)",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"max_tokens\":\"9\"}|'max_tokens' must be an integer between 1 and 1000 (the most corouter/m can produce)",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"max_tokens\":18446744073709551617}|'max_tokens' must be an integer between 1 and 1000 (the most corouter/m can produce)",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"max_tokens\":1001}|'max_tokens' must be an integer between 1 and 1000 (the most corouter/m can produce)",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"max_tokens\":0}|'max_tokens' must be an integer between 1 and 1000 (the most corouter/m can produce)",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"top_p\":\"high\"}|'top_p' must be a number between 0 and 1",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"top_p\":7}|'top_p' must be a number between 0 and 1",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"temperature\":99}|'temperature' must be a number between 0 and 2",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"temperature\":-0.1}|'temperature' must be a number between 0 and 2",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"frequency_penalty\":2.5}|'frequency_penalty' must be a number between -2 and 2",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"presence_penalty\":[1]}|'presence_penalty' must be a number between -2 and 2",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"top_k\":2.5}|'top_k' must be an integer between 0 and 1000000",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"n\":3}|'n' must be an integer between 1 and 1",
            "{\"model\":\"corouter/m\",\"messages\":[{\"role\":\"user\"}],\"seed\":1e30}|'seed' must be an integer between -9223372036854775808 and 9223372036854775807",
            "{\"model\":\"nope/x\",\"messages\":[{\"role\":\"user\"}],\"temperature\":9}|'temperature' must be a number between 0 and 2",
    })
    void aBadBodyIsRefusedNamingTheProblem(String body, String message) {
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer(body)))
                .isInstanceOf(ApiException.class).hasMessage(message);
    }

    @Test
    void anUnknownModelIsRefusedAfterTheShapeChecks() {
        assertThatThrownBy(() -> PARSER.parse(Buffer.buffer("{\"model\":\"nope/x\"," + MESSAGES + "}")))
                .isInstanceOf(ApiException.class).hasMessageContaining("nope/x");
    }
}
