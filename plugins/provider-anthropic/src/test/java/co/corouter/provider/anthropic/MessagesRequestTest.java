package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class MessagesRequestTest {

    private static final String SECRET = "my secret prompt";
    private static final JsonObject EPHEMERAL = new JsonObject().put("type", "ephemeral");

    @Test
    void sendsTheUpstreamModelTheHostsCapTheStreamFlagAndUserTextAsBlocks() {
        JsonObject sent = translate(chat(user("Hi there")).put("model", "public/claude"), true);

        assertThat(sent).isEqualTo(new JsonObject()
                .put("model", "claude-upstream")
                .put("max_tokens", 100)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user")
                        .put("content", new JsonArray().add(text("Hi there")))))
                .put("stream", true));
    }

    @Test
    void hoistsSystemAndDeveloperMessagesInOrderKeepingTheirCacheControl() {
        JsonObject sent = translate(chat(
                new JsonObject().put("role", "system").put("content", new JsonArray()
                        .add(new JsonObject().put("type", "text").put("text", "You are terse.")
                                .put("cache_control", EPHEMERAL.copy().put("ttl", "1h")))),
                user("Hi"),
                new JsonObject().put("role", "developer").put("content", "Answer in French.")), false);

        assertThat(sent.getJsonArray("system")).containsExactly(
                text("You are terse.").put("cache_control", EPHEMERAL.copy().put("ttl", "1h")),
                text("Answer in French."));
        assertThat(sent.getJsonArray("messages")).hasSize(1);
        assertThat(sent.getBoolean("stream")).isFalse();
    }

    @Test
    void keepsMultiTurnRolesMergesConsecutiveTurnsAndDropsBlankTextAndEmptyTurns() {
        JsonObject sent = translate(chat(
                user("one"),
                user(new JsonArray().add(new JsonObject().put("type", "text").put("text", "two"))
                        .add(new JsonObject().put("type", "text").put("text", "  "))),
                new JsonObject().put("role", "assistant").put("content", ""),
                new JsonObject().put("role", "assistant").put("content", "three"),
                new JsonObject().put("role", "assistant").put("content", new JsonArray()
                        .add(new JsonObject().put("type", "refusal").put("refusal", "no"))),
                user("four")), false);

        assertThat(sent.getJsonArray("messages")).containsExactly(
                turn("user", text("one"), text("two")),
                turn("assistant", text("three")),
                turn("user", text("four")));
    }

    @Test
    void turnsDataUrlsIntoBase64ImagesAndHttpUrlsIntoUrlImagesKeepingCacheControl() {
        JsonObject sent = translate(chat(user(new JsonArray()
                .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject()
                        .put("url", "data:image/jpg;base64,/9j/4AAQ").put("detail", "high")))
                .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject()
                        .put("url", "https://example.com/a.png")).put("cache_control", EPHEMERAL))
                .add(new JsonObject().put("type", "text").put("text", "What is this?")))), false);

        assertThat(sent.getJsonArray("messages").getJsonObject(0).getJsonArray("content")).containsExactly(
                new JsonObject().put("type", "image").put("source", new JsonObject().put("type", "base64")
                        .put("media_type", "image/jpeg").put("data", "/9j/4AAQ")),
                new JsonObject().put("type", "image").put("source", new JsonObject().put("type", "url")
                        .put("url", "https://example.com/a.png")).put("cache_control", EPHEMERAL),
                text("What is this?"));
    }

    @Test
    void turnsAPdfFilePartIntoADocument() {
        JsonObject sent = translate(chat(user(new JsonArray().add(new JsonObject().put("type", "file")
                .put("file", new JsonObject().put("filename", "report.pdf")
                        .put("file_data", "data:application/pdf;base64,JVBERi0"))))), false);

        assertThat(sent.getJsonArray("messages").getJsonObject(0).getJsonArray("content")).containsExactly(
                new JsonObject().put("type", "document").put("source", new JsonObject().put("type", "base64")
                        .put("media_type", "application/pdf").put("data", "JVBERi0")).put("title", "report.pdf"));
    }

    @Test
    void turnsToolCallsIntoToolUseAfterTheTextAndToolMessagesIntoOneUserTurnOfResultsFirst() {
        JsonObject assistant = new JsonObject().put("role", "assistant").put("content", "Let me check.")
                .put("tool_calls", new JsonArray()
                        .add(call("toolu_01", "get_weather", "{\"city\":\"Paris\"}"))
                        .add(call("toolu_02", "get_time", "")));
        JsonObject sent = translate(chat(user("Weather and time in Paris?"), assistant,
                new JsonObject().put("role", "tool").put("tool_call_id", "toolu_01").put("content", "18°C"),
                new JsonObject().put("role", "tool").put("tool_call_id", "toolu_02").put("content", new JsonArray()
                        .add(new JsonObject().put("type", "text").put("text", "14:00"))),
                user("And tomorrow?")), false);

        assertThat(sent.getJsonArray("messages")).containsExactly(
                turn("user", text("Weather and time in Paris?")),
                turn("assistant", text("Let me check."),
                        new JsonObject().put("type", "tool_use").put("id", "toolu_01").put("name", "get_weather")
                                .put("input", new JsonObject().put("city", "Paris")),
                        new JsonObject().put("type", "tool_use").put("id", "toolu_02").put("name", "get_time")
                                .put("input", new JsonObject())),
                turn("user",
                        new JsonObject().put("type", "tool_result").put("tool_use_id", "toolu_01")
                                .put("content", "18°C"),
                        new JsonObject().put("type", "tool_result").put("tool_use_id", "toolu_02")
                                .put("content", new JsonArray().add(text("14:00"))),
                        text("And tomorrow?")));
    }

    @Test
    void aToolCallOnlyAssistantTurnHasNoTextBlock() {
        JsonObject assistant = new JsonObject().put("role", "assistant").put("content", "")
                .put("tool_calls", new JsonArray().add(call("toolu_01", "f", "{}")));

        JsonObject sent = translate(chat(user("go"), assistant,
                new JsonObject().put("role", "tool").put("tool_call_id", "toolu_01").put("content", "")), false);

        assertThat(sent.getJsonArray("messages").getJsonObject(1).getJsonArray("content")).containsExactly(
                new JsonObject().put("type", "tool_use").put("id", "toolu_01").put("name", "f")
                        .put("input", new JsonObject()));
        assertThat(sent.getJsonArray("messages").getJsonObject(2).getJsonArray("content")).containsExactly(
                new JsonObject().put("type", "tool_result").put("tool_use_id", "toolu_01"));
    }

    @Test
    void translatesFunctionToolsWithTheirSchemaDescriptionAndCacheControl() {
        JsonObject parameters = new JsonObject().put("type", "object").put("properties", new JsonObject()
                .put("city", new JsonObject().put("type", "string"))).put("required", new JsonArray().add("city"));
        JsonObject sent = translate(chat(user("hi"))
                .put("tools", new JsonArray()
                        .add(tool("get_weather", parameters).put("cache_control", EPHEMERAL))
                        .add(new JsonObject().put("type", "function").put("function", new JsonObject()
                                .put("name", "ping")))), false);

        assertThat(sent.getJsonArray("tools")).containsExactly(
                new JsonObject().put("name", "get_weather").put("description", "Current weather")
                        .put("input_schema", parameters).put("cache_control", EPHEMERAL),
                new JsonObject().put("name", "ping").put("input_schema", new JsonObject().put("type", "object")
                        .put("properties", new JsonObject())));
        assertThat(sent.containsKey("tool_choice")).isFalse();
    }

    @ParameterizedTest(name = "tool_choice {0}, parallel_tool_calls {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
            "'auto'                                  | true  | {'type':'auto'}",
            "'none'                                  | true  | {'type':'none'}",
            "'required'                              | true  | {'type':'any'}",
            "{'type':'function','function':{'name':'f'}} | true  | {'type':'tool','name':'f'}",
            "'required'                              | false | {'type':'any','disable_parallel_tool_use':true}",
            "null                                    | false | {'type':'auto','disable_parallel_tool_use':true}",
            "'none'                                  | false | {'type':'none'}"}, quoteCharacter = '`')
    void mapsToolChoiceAndParallelToolCalls(String choice, boolean parallel, String expected) {
        JsonObject body = chat(user("hi")).put("tools", new JsonArray().add(tool("f", null)))
                .put("parallel_tool_calls", parallel);
        if (!choice.equals("null")) {
            body.put("tool_choice", new JsonArray("[" + json(choice) + "]").getValue(0));
        }

        assertThat(translate(body, false).getJsonObject("tool_choice")).isEqualTo(new JsonObject(json(expected)));
    }

    @Test
    void dropsToolChoiceWhenThereAreNoTools() {
        JsonObject sent = translate(chat(user("hi")).put("tool_choice", "required"), false);

        assertThat(sent.containsKey("tool_choice")).isFalse();
        assertThat(sent.containsKey("tools")).isFalse();
    }

    @Test
    void mapsStopSamplingUserResponseFormatAndTopLevelCacheControl() {
        JsonObject schema = new JsonObject().put("type", "object");
        JsonObject sent = translate(chat(user("hi"))
                .put("stop", "END").put("temperature", 1.7).put("top_p", 0.9).put("top_k", 40)
                .put("user", "u_7f3a").put("cache_control", EPHEMERAL)
                .put("response_format", new JsonObject().put("type", "json_schema")
                        .put("json_schema", new JsonObject().put("name", "answer").put("schema", schema))), false);

        assertThat(sent.getJsonArray("stop_sequences")).containsExactly("END");
        assertThat(sent.getDouble("temperature")).as("Anthropic's range ends at 1").isEqualTo(1.0);
        assertThat(sent.getDouble("top_p")).isEqualTo(0.9);
        assertThat(sent.getInteger("top_k")).isEqualTo(40);
        assertThat(sent.getJsonObject("metadata")).isEqualTo(new JsonObject().put("user_id", "u_7f3a"));
        assertThat(sent.getJsonObject("output_config")).isEqualTo(new JsonObject().put("format",
                new JsonObject().put("type", "json_schema").put("schema", schema)));
        assertThat(sent.getJsonObject("cache_control")).isEqualTo(EPHEMERAL);

        JsonObject several = translate(chat(user("hi")).put("stop", new JsonArray().add("a").add(" ").add("b")),
                false);
        assertThat(several.getJsonArray("stop_sequences")).as("whitespace-only is rejected").containsExactly("a", "b");
    }

    @Test
    void leavesOutSamplingParametersForAnApiVersionThatRemovedThem() {
        JsonObject sent = MessagesRequest.of(chat(user("hi")).put("temperature", 0.2).put("top_p", 0.9)
                .put("top_k", 5), "claude-upstream", 100, false, false);

        assertThat(sent.fieldNames()).doesNotContain("temperature", "top_p", "top_k");
    }

    @Test
    void dropsOpenAiAndOpenRouterFieldsAnthropicWouldReject() {
        JsonObject sent = translate(chat(user("hi"))
                .put("stream_options", new JsonObject().put("include_usage", true)).put("seed", 7)
                .put("frequency_penalty", 0.5).put("presence_penalty", 0.5).put("logprobs", false)
                .put("logit_bias", new JsonObject()).put("provider", new JsonObject().put("sort", "price"))
                .put("models", new JsonArray().add("a")).put("n", 1), true);

        assertThat(sent.fieldNames()).containsExactlyInAnyOrder("model", "max_tokens", "messages", "stream");
    }

    @ParameterizedTest(name = "max_tokens {0}, max_completion_tokens {1}, cap {2} -> {3}")
    @CsvSource({"50, , 100, 50", "5000, , 100, 100", ", 30, 100, 30", "40, 20, 100, 20", ", , 100, 100",
            "70, , 0, 70"})
    void sendsTheHostsCapOrTheClientsSmallerOne(Integer maxTokens, Integer maxCompletionTokens, int cap,
                                                int expected) {
        JsonObject body = chat(user("hi"));
        if (maxTokens != null) {
            body.put("max_tokens", maxTokens);
        }
        if (maxCompletionTokens != null) {
            body.put("max_completion_tokens", maxCompletionTokens);
        }

        assertThat(MessagesRequest.of(body, "m", cap, false, true).getInteger("max_tokens")).isEqualTo(expected);
    }

    /** Requests with no Anthropic equivalent (JSON with ' for "), and what the refusal says. */
    static Stream<Arguments> untranslatable() {
        return Stream.of(
                arguments("more than one choice", "{'n':2,'messages':[{'role':'user','content':'x'}]}",
                        "n: anthropic answers with one choice"),
                arguments("only a system message", "{'messages':[{'role':'system','content':'my secret prompt'}]}",
                        "messages: anthropic needs at least one user or assistant message"),
                arguments("arguments not JSON", "{'messages':[{'role':'assistant','tool_calls':[{'id':'t',"
                                + "'function':{'name':'f','arguments':'my secret prompt'}}]}]}",
                        "messages[0].tool_calls[0].function.arguments: is not a JSON object"),
                arguments("a bmp image", "{'messages':[{'role':'user','content':[{'type':'image_url',"
                                + "'image_url':{'url':'data:image/bmp;base64,my secret prompt'}}]}]}",
                        "media type 'image/bmp' is not supported"),
                arguments("an ftp image", "{'messages':[{'role':'user','content':[{'type':'image_url',"
                                + "'image_url':{'url':'ftp://h/my secret prompt'}}]}]}",
                        "messages[0].content[0].image_url.url: must be an http(s) URL"),
                arguments("an image in system", "{'messages':[{'role':'system','content':[{'type':'image_url',"
                                + "'image_url':{'url':'https://h/a.png'}}]}]}",
                        "messages[0].content[0]: image_url parts are only allowed in user messages"),
                arguments("an audio part", "{'messages':[{'role':'user','content':[{'type':'input_audio',"
                        + "'input_audio':{}}]}]}", "'input_audio' parts are not supported"),
                arguments("a tool without id", "{'messages':[{'role':'tool','content':'my secret prompt'}]}",
                        "messages[0].tool_call_id: is required"),
                arguments("an unknown role", "{'messages':[{'role':'function','content':'x'}]}", "messages[0].role"),
                arguments("a non-function tool", "{'messages':[{'role':'user','content':'x'}],"
                        + "'tools':[{'type':'web_search'}]}", "tools[0]: only function tools"),
                arguments("a file id", "{'messages':[{'role':'user','content':[{'type':'file',"
                        + "'file':{'file_id':'file-1'}}]}]}", "not file ids"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("untranslatable")
    void refusesWhatAnthropicCannotTakeAsABadRequestThatNeverQuotesContent(String name, String body,
                                                                         String message) {
        assertThatThrownBy(() -> translate(new JsonObject(json(body)), false))
                .isInstanceOfSatisfying(ProviderException.class, e -> {
                    assertThat(e.kind()).isEqualTo(Kind.BAD_REQUEST);
                    assertThat(e.getMessage()).contains(message).doesNotContain(SECRET);
                });
    }

    // ---- helpers ----

    /** JSON written with ' for ", as test data reads better that way. */
    private static String json(String singleQuoted) {
        return singleQuoted.replace('\'', '"');
    }

    private static JsonObject translate(JsonObject body, boolean stream) {
        return MessagesRequest.of(body, "claude-upstream", 100, stream, true);
    }

    private static JsonObject chat(JsonObject... messages) {
        JsonArray all = new JsonArray();
        for (JsonObject message : messages) {
            all.add(message);
        }
        return new JsonObject().put("model", "public/model").put("messages", all);
    }

    private static JsonObject user(Object content) {
        return new JsonObject().put("role", "user").put("content", content);
    }

    private static JsonObject text(String text) {
        return new JsonObject().put("type", "text").put("text", text);
    }

    private static JsonObject turn(String role, JsonObject... blocks) {
        JsonArray content = new JsonArray();
        for (JsonObject block : blocks) {
            content.add(block);
        }
        return new JsonObject().put("role", role).put("content", content);
    }

    private static JsonObject call(String id, String name, String arguments) {
        return new JsonObject().put("id", id).put("type", "function").put("function", new JsonObject()
                .put("name", name).put("arguments", arguments));
    }

    private static JsonObject tool(String name, JsonObject parameters) {
        JsonObject function = new JsonObject().put("name", name).put("description", "Current weather");
        if (parameters != null) {
            function.put("parameters", parameters);
        }
        return new JsonObject().put("type", "function").put("function", function);
    }
}
