package co.corouter.provider.gemini;

import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GenerateContentBodyTest {

    private static final int CAP = 100;

    @Test
    void systemAndDeveloperMessagesBecomeTheSystemInstructionAndRolesBecomeUserAndModel() {
        JsonObject body = translate(messages(
                message("system", "You are terse."),
                message("developer", "Answer in French."),
                message("user", "Hi"),
                message("assistant", "Bonjour"),
                message("user", "Weather?")));

        assertThat(body.getJsonObject("systemInstruction").getJsonArray("parts"))
                .containsExactly(text("You are terse."), text("Answer in French."));
        JsonArray contents = body.getJsonArray("contents");
        assertThat(contents).extracting(c -> ((JsonObject) c).getString("role"))
                .containsExactly("user", "model", "user");
        assertThat(contents.getJsonObject(1).getJsonArray("parts")).containsExactly(text("Bonjour"));
        assertThat(body.fieldNames()).doesNotContain("messages", "model", "max_tokens");
    }

    @Test
    void mergesAdjacentMessagesOfOneRoleAndDropsAnEmptyAssistantTurn() {
        JsonObject body = translate(messages(
                message("user", "one"),
                message("user", "two"),
                new JsonObject().put("role", "assistant").put("content", ""),
                message("user", "three")));

        JsonArray contents = body.getJsonArray("contents");
        assertThat(contents).hasSize(1);
        assertThat(contents.getJsonObject(0).getJsonArray("parts"))
                .containsExactly(text("one"), text("two"), text("three"));
    }

    @Test
    void neverSendsAContentWithoutParts() {
        JsonObject body = translate(messages(message("user", "")));

        assertThat(body.getJsonArray("contents").getJsonObject(0).getJsonArray("parts")).containsExactly(text(" "));
    }

    @Test
    void aConversationOfOnlySystemMessagesIsSentAsTheUsersTurn() {
        JsonObject body = translate(messages(message("system", "Tell a joke.")));

        assertThat(body.containsKey("systemInstruction")).isFalse();
        assertThat(body.getJsonArray("contents").getJsonObject(0).getMap()).containsEntry("role", "user");
        assertThat(body.getJsonArray("contents").getJsonObject(0).getJsonArray("parts"))
                .containsExactly(text("Tell a joke."));
    }

    @Test
    void imagesAudioAndFilesBecomeInlineDataOrFileData() {
        JsonArray parts = new JsonArray()
                .add(new JsonObject().put("type", "text").put("text", "What is this?"))
                .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject()
                        .put("url", "data:image/png;base64,iVBORw0K").put("detail", "high")))
                .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject()
                        .put("url", "https://example.com/cat.webp?size=2")))
                .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject()
                        .put("url", "https://example.com/render")))
                .add(new JsonObject().put("type", "input_audio").put("input_audio", new JsonObject()
                        .put("data", "SUQz").put("format", "mp3")))
                .add(new JsonObject().put("type", "file").put("file", new JsonObject()
                        .put("filename", "paper.pdf").put("file_data", "data:application/pdf;base64,JVBERi0x")));

        JsonArray sent = translate(messages(new JsonObject().put("role", "user").put("content", parts)))
                .getJsonArray("contents").getJsonObject(0).getJsonArray("parts");

        assertThat(sent).containsExactly(
                text("What is this?"),
                new JsonObject().put("inlineData", new JsonObject().put("mimeType", "image/png")
                        .put("data", "iVBORw0K")),
                new JsonObject().put("fileData", new JsonObject().put("mimeType", "image/webp")
                        .put("fileUri", "https://example.com/cat.webp?size=2")),
                new JsonObject().put("fileData", new JsonObject().put("mimeType", "image/jpeg")
                        .put("fileUri", "https://example.com/render")),
                new JsonObject().put("inlineData", new JsonObject().put("mimeType", "audio/mp3").put("data", "SUQz")),
                new JsonObject().put("inlineData", new JsonObject().put("mimeType", "application/pdf")
                        .put("data", "JVBERi0x")));
    }

    @Test
    void refusesMediaItCannotPassOnWithoutQuotingTheRequest() {
        for (String url : new String[] {"ftp://example.com/secret-cat.png", "data:image/png,secret-cat"}) {
            JsonObject image = new JsonObject().put("type", "image_url").put("image_url", new JsonObject()
                    .put("url", url));
            JsonObject request = messages(new JsonObject().put("role", "user").put("content", new JsonArray()
                    .add(image)));

            assertThatThrownBy(() -> translate(request))
                    .isInstanceOfSatisfying(ProviderException.class,
                            e -> assertThat(e.kind()).isEqualTo(Kind.BAD_REQUEST))
                    .hasMessageContaining("messages[0].content[0]").hasMessageNotContaining("secret");
        }
    }

    @Test
    void refusesAnUnknownRoleOrPartType() {
        assertThatThrownBy(() -> translate(messages(message("critic", "secret words"))))
                .isInstanceOfSatisfying(ProviderException.class, e -> assertThat(e.kind()).isEqualTo(Kind.BAD_REQUEST))
                .hasMessageContaining("messages[0]").hasMessageNotContaining("secret");
        assertThatThrownBy(() -> translate(messages(new JsonObject().put("role", "user").put("content",
                new JsonArray().add(new JsonObject().put("type", "video_url"))))))
                .hasMessageContaining("video_url");
    }

    @Test
    void toolsBecomeOneFunctionDeclarationsToolWithGeminiSchemas() {
        JsonObject request = messages(message("user", "Weather?"))
                .put("tools", new JsonArray()
                        .add(function("get_weather", "Current weather", new JsonObject().put("type", "object")
                                .put("properties", new JsonObject().put("city", new JsonObject().put("type", "string")))
                                .put("required", new JsonArray().add("city")).put("additionalProperties", false)))
                        .add(function("get_time", null, new JsonObject().put("type", "object")
                                .put("properties", new JsonObject())))
                        .add(new JsonObject().put("type", "web_search")));

        JsonArray tools = translate(request).getJsonArray("tools");

        assertThat(tools).hasSize(1);
        JsonArray declarations = tools.getJsonObject(0).getJsonArray("functionDeclarations");
        assertThat(declarations).containsExactly(
                new JsonObject().put("name", "get_weather").put("description", "Current weather")
                        .put("parameters", new JsonObject().put("type", "OBJECT")
                                .put("properties", new JsonObject().put("city", new JsonObject().put("type", "STRING")))
                                .put("required", new JsonArray().add("city"))),
                new JsonObject().put("name", "get_time"));
    }

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource(delimiter = '|', value = {
            "\"auto\"                                                | {\"mode\":\"AUTO\"}",
            "\"none\"                                                | {\"mode\":\"NONE\"}",
            "\"required\"                                            | {\"mode\":\"ANY\"}",
            "{\"type\":\"function\",\"function\":{\"name\":\"f\"}}   | "
                    + "{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"f\"]}",
    })
    void toolChoiceBecomesTheFunctionCallingMode(String toolChoice, String config) {
        JsonObject request = messages(message("user", "go")).put("tools", new JsonArray().add(function("f", null,
                null)));
        request.put("tool_choice", io.vertx.core.json.Json.decodeValue(toolChoice));

        JsonObject body = translate(request);

        assertThat(body.getJsonObject("toolConfig").getJsonObject("functionCallingConfig"))
                .isEqualTo(new JsonObject(config));
    }

    @Test
    void aToolChoiceWithoutToolsSendsNoToolConfig() {
        JsonObject body = translate(messages(message("user", "go")).put("tool_choice", "required"));

        assertThat(body.fieldNames()).doesNotContain("tools", "toolConfig");
    }

    @Test
    void assistantToolCallsBecomeFunctionCallsAndToolResultsFunctionResponsesInCallOrder() {
        String signed = "call_1" + ToolCallIds.SIGNATURE_SEPARATOR + "c2lnbmVk";
        JsonObject request = messages(
                message("user", "Weather and time in Paris?"),
                new JsonObject().put("role", "assistant").put("content", "Checking.").put("tool_calls", new JsonArray()
                        .add(toolCall(signed, "get_weather", "{\"city\":\"Paris\"}"))
                        .add(toolCall("call_2", "get_time", "not json"))),
                new JsonObject().put("role", "tool").put("tool_call_id", "call_2").put("content", "12:00"),
                new JsonObject().put("role", "tool").put("tool_call_id", signed).put("content", new JsonArray()
                        .add(new JsonObject().put("type", "text").put("text", "18C"))),
                message("user", "Thanks"));

        JsonArray contents = translate(request).getJsonArray("contents");

        assertThat(contents).extracting(c -> ((JsonObject) c).getString("role"))
                .containsExactly("user", "model", "user");
        assertThat(contents.getJsonObject(1).getJsonArray("parts")).containsExactly(
                text("Checking."),
                new JsonObject().put("functionCall", new JsonObject().put("name", "get_weather")
                        .put("args", new JsonObject().put("city", "Paris"))).put("thoughtSignature", "c2lnbmVk"),
                new JsonObject().put("functionCall", new JsonObject().put("name", "get_time")
                        .put("args", new JsonObject().put("raw", "not json"))));
        assertThat(contents.getJsonObject(2).getJsonArray("parts")).as("in call order, then the next user text")
                .containsExactly(
                        new JsonObject().put("functionResponse", new JsonObject().put("name", "get_weather")
                                .put("response", new JsonObject().put("output", "18C"))),
                        new JsonObject().put("functionResponse", new JsonObject().put("name", "get_time")
                                .put("response", new JsonObject().put("output", "12:00"))),
                        text("Thanks"));
        assertThat(contents.encode()).as("ids Gemini did not issue are never sent").doesNotContain("call_");
    }

    @Test
    void aToolResultWithoutAKnownCallIsNamedAfterItsNameOrAPlaceholder() {
        JsonObject request = messages(
                message("user", "go"),
                new JsonObject().put("role", "tool").put("tool_call_id", "x").put("name", "lookup").put("content", "a"),
                new JsonObject().put("role", "tool").put("tool_call_id", "y").put("content", "b"));

        JsonArray parts = translate(request).getJsonArray("contents").getJsonObject(0).getJsonArray("parts");

        assertThat(parts).extracting(p -> ((JsonObject) p).getJsonObject("functionResponse") == null ? null
                : ((JsonObject) p).getJsonObject("functionResponse").getString("name"))
                .containsExactly(null, "lookup", "unknown_function");
    }

    @Test
    void theGenerationConfigCarriesTheCapAndTheSamplingParameters() {
        JsonObject request = messages(message("user", "go"))
                .put("max_tokens", 5_000).put("temperature", 0.2).put("top_p", 0.9).put("top_k", 40).put("seed", 7)
                .put("presence_penalty", 0).put("frequency_penalty", 0.5)
                .put("stop", new JsonArray().add("a").add("b").add("c").add("d").add("e").add("f"));

        JsonObject config = translate(request).getJsonObject("generationConfig");

        assertThat(config.getMap()).containsEntry("maxOutputTokens", CAP).containsEntry("temperature", 0.2)
                .containsEntry("topP", 0.9).containsEntry("topK", 40).containsEntry("seed", 7L)
                .containsEntry("frequencyPenalty", 0.5).containsEntry("candidateCount", 1)
                .doesNotContainKey("presencePenalty");
        assertThat(config.getJsonArray("stopSequences")).containsExactly("a", "b", "c", "d", "e");
    }

    @Test
    void aLowerClientCapWinsAndAStopStringIsOneSequence() {
        JsonObject config = translate(messages(message("user", "go")).put("max_completion_tokens", 12)
                .put("stop", "END")).getJsonObject("generationConfig");

        assertThat(config.getInteger("maxOutputTokens")).isEqualTo(12);
        assertThat(config.getJsonArray("stopSequences")).containsExactly("END");
    }

    @Test
    void responseFormatsAskForJsonWithASanitisedSchema() {
        JsonObject schema = new JsonObject().put("type", "object").put("additionalProperties", false)
                .put("properties", new JsonObject().put("answer", new JsonObject().put("type", "string")))
                .put("required", new JsonArray().add("answer"));
        JsonObject jsonSchema = translate(messages(message("user", "go")).put("response_format", new JsonObject()
                .put("type", "json_schema").put("json_schema", new JsonObject().put("name", "a").put("strict", true)
                        .put("schema", schema)))).getJsonObject("generationConfig");
        JsonObject jsonObject = translate(messages(message("user", "go")).put("response_format", new JsonObject()
                .put("type", "json_object"))).getJsonObject("generationConfig");

        assertThat(jsonSchema.getString("responseMimeType")).isEqualTo("application/json");
        assertThat(jsonSchema.getJsonObject("responseSchema")).isEqualTo(new JsonObject().put("type", "OBJECT")
                .put("properties", new JsonObject().put("answer", new JsonObject().put("type", "STRING")))
                .put("required", new JsonArray().add("answer")));
        assertThat(jsonObject.getString("responseMimeType")).isEqualTo("application/json");
        assertThat(jsonObject.containsKey("responseSchema")).isFalse();
    }

    // ---- helpers ----

    private static JsonObject translate(JsonObject body) {
        return GenerateContentBody.of(new ChatRequest("gen-1", "gemini-test", body, CAP, 5_000,
                Promise.<Void>promise().future()));
    }

    private static JsonObject messages(JsonObject... messages) {
        JsonArray list = new JsonArray();
        for (JsonObject message : messages) {
            list.add(message);
        }
        return new JsonObject().put("model", "public/gemini").put("messages", list);
    }

    private static JsonObject message(String role, String content) {
        return new JsonObject().put("role", role).put("content", content);
    }

    private static JsonObject text(String text) {
        return new JsonObject().put("text", text);
    }

    private static JsonObject function(String name, String description, JsonObject parameters) {
        JsonObject function = new JsonObject().put("name", name);
        if (description != null) {
            function.put("description", description);
        }
        if (parameters != null) {
            function.put("parameters", parameters);
        }
        return new JsonObject().put("type", "function").put("function", function);
    }

    private static JsonObject toolCall(String id, String name, String arguments) {
        return new JsonObject().put("id", id).put("type", "function")
                .put("function", new JsonObject().put("name", name).put("arguments", arguments));
    }
}
