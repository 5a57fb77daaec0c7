package co.corouter.testkit.gemini;

import co.corouter.testkit.upstream.FakeEmbeddings;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class FakeGeminiUpstreamTest {

    @RegisterExtension
    static final FakeGeminiUpstreamExtension GEMINI = new FakeGeminiUpstreamExtension();

    private static final String KEY = "AIza-test";
    private static final String GENERATE = "/v1beta/models/gemini-test:generateContent";
    private static final String STREAM = "/v1beta/models/gemini-test:streamGenerateContent?alt=sse";

    private HttpClient client;

    @BeforeEach
    void createClient(Vertx vertx) {
        client = vertx.createHttpClient();
        GEMINI.upstream().requireApiKey(KEY);
    }

    @Test
    void answersAWholeGenerateContentResponseInGeminisShape(FakeGeminiUpstream upstream,
                                                            VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().content("Hi!").promptTokens(3).candidatesTokens(2)
                .thoughtsTokens(4));

        post(GENERATE, request()).onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
            assertThat(answer.status).isEqualTo(200);
            JsonObject response = new JsonObject(answer.body);
            JsonObject candidate = response.getJsonArray("candidates").getJsonObject(0);
            assertThat(candidate.getJsonObject("content").getString("role")).isEqualTo("model");
            assertThat(candidate.getJsonObject("content").getJsonArray("parts").getJsonObject(0).getString("text"))
                    .isEqualTo("Hi!");
            assertThat(candidate.getString("finishReason")).isEqualTo("STOP");
            assertThat(response.getJsonObject("usageMetadata").getMap()).containsEntry("promptTokenCount", 3)
                    .containsEntry("candidatesTokenCount", 2).containsEntry("thoughtsTokenCount", 4)
                    .containsEntry("totalTokenCount", 9);
            assertThat(response.getString("modelVersion")).isEqualTo("gemini-test");
            assertThat(response.getString("responseId")).startsWith("fake-response-");
            RecordedGeminiRequest seen = upstream.lastRequest();
            assertThat(seen.apiKey()).isEqualTo(KEY);
            assertThat(seen.model()).isEqualTo("gemini-test");
            assertThat(seen.action()).isEqualTo("generateContent");
            assertThat(seen.streaming()).isFalse();
            testContext.completeNow();
        })));
    }

    @Test
    void streamsDataEventsWithCumulativeUsageAndNoDoneSentinel(FakeGeminiUpstream upstream,
                                                              VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().content("abcdef").chunks(3).candidatesTokens(6));

        post(STREAM, request()).onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
            assertThat(answer.headers.get("Content-Type")).startsWith("text/event-stream");
            List<JsonObject> events = sseEvents(answer.body);
            assertThat(events).hasSize(3);
            assertThat(answer.body).doesNotContain("[DONE]");
            assertThat(events).extracting(FakeGeminiUpstreamTest::text).containsExactly("ab", "cd", "ef");
            assertThat(events).extracting(e -> e.getJsonObject("usageMetadata").getInteger("candidatesTokenCount"))
                    .containsExactly(2, 4, 6);
            assertThat(events.get(0).getJsonArray("candidates").getJsonObject(0).containsKey("finishReason")).isFalse();
            assertThat(events.get(2).getJsonArray("candidates").getJsonObject(0).getString("finishReason"))
                    .isEqualTo("STOP");
            assertThat(upstream.lastRequest().sse()).isTrue();
            assertThat(upstream.lastRequest().contentEventsWritten()).isEqualTo(3);
            testContext.completeNow();
        })));
    }

    @Test
    void streamsOneJsonArrayWithoutAltSse(FakeGeminiUpstream upstream, VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().content("abcd").chunks(2));

        post("/v1beta/models/gemini-test:streamGenerateContent", request())
                .onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
                    JsonArray array = new JsonArray(answer.body);
                    assertThat(array).hasSize(2);
                    assertThat(text(array.getJsonObject(0)) + text(array.getJsonObject(1))).isEqualTo("abcd");
                    assertThat(upstream.lastRequest().sse()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void refusesAMissingKeyWith403AndAWrongOneWith400ApiKeyInvalid(FakeGeminiUpstream upstream,
                                                                  VertxTestContext testContext) {
        post(GENERATE, request(), null)
                .compose(missing -> post(GENERATE, request(), "AIza-wrong").map(wrong -> List.of(missing, wrong)))
                .onComplete(testContext.succeeding(answers -> testContext.verify(() -> {
                    assertThat(answers.get(0).status).isEqualTo(403);
                    assertThat(error(answers.get(0)).getString("status")).isEqualTo("PERMISSION_DENIED");
                    assertThat(answers.get(1).status).isEqualTo(400);
                    JsonObject wrong = error(answers.get(1));
                    assertThat(wrong.getString("status")).isEqualTo("INVALID_ARGUMENT");
                    assertThat(wrong.getJsonArray("details").getJsonObject(0).getString("reason"))
                            .isEqualTo("API_KEY_INVALID");
                    testContext.completeNow();
                })));
    }

    @Test
    void acceptsTheKeyAsAQueryParameterAndRecordsIt(FakeGeminiUpstream upstream, VertxTestContext testContext) {
        post(GENERATE + "?key=" + KEY, request(), null).onComplete(testContext.succeeding(answer ->
                testContext.verify(() -> {
                    assertThat(answer.status).isEqualTo(200);
                    assertThat(upstream.lastRequest().queryParam("key")).isEqualTo(KEY);
                    assertThat(upstream.lastRequest().apiKey()).isNull();
                    testContext.completeNow();
                })));
    }

    @Test
    void aRateLimitCarriesRetryInfoAndNoRetryAfterHeader(FakeGeminiUpstream upstream, VertxTestContext testContext) {
        upstream.enqueue(GeminiBehaviour.error(429), GeminiBehaviour.error(429).retryDelay("45.5s"));

        post(GENERATE, request()).compose(first -> post(GENERATE, request()).map(second -> List.of(first, second)))
                .onComplete(testContext.succeeding(answers -> testContext.verify(() -> {
                    Answer first = answers.get(0);
                    assertThat(first.status).isEqualTo(429);
                    assertThat(first.headers.get("Retry-After")).isNull();
                    JsonObject error = error(first);
                    assertThat(error.getString("status")).isEqualTo("RESOURCE_EXHAUSTED");
                    assertThat(error.getJsonArray("details")).extracting(d -> ((JsonObject) d).getString("@type"))
                            .containsExactly("type.googleapis.com/google.rpc.QuotaFailure",
                                    "type.googleapis.com/google.rpc.Help", "type.googleapis.com/google.rpc.RetryInfo");
                    assertThat(retryDelay(error)).isEqualTo("1s");
                    assertThat(retryDelay(error(answers.get(1)))).isEqualTo("45.5s");
                    testContext.completeNow();
                })));
    }

    @Test
    void choosesBehavioursByQueueThenModelThenDefault(FakeGeminiUpstream upstream, VertxTestContext testContext) {
        upstream.behaveFor("gemini-down", GeminiBehaviour.error(503)).enqueue(GeminiBehaviour.error(500));
        String down = "/v1beta/models/gemini-down:generateContent";

        post(down, request()).compose(first -> post(down, request()).compose(second -> post(GENERATE, request())
                        .map(third -> List.of(first, second, third))))
                .onComplete(testContext.succeeding(answers -> testContext.verify(() -> {
                    assertThat(answers).extracting(a -> a.status).containsExactly(500, 503, 200);
                    assertThat(error(answers.get(1)).getString("status")).isEqualTo("UNAVAILABLE");
                    assertThat(error(answers.get(1)).getString("message")).contains("overloaded");
                    testContext.completeNow();
                })));
    }

    @Test
    void cutsTheCountsToMaxOutputTokensAndFinishesWithMaxTokens(FakeGeminiUpstream upstream,
                                                                VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().candidatesTokens(10).thoughtsTokens(2));
        JsonObject capped = request().put("generationConfig", new JsonObject().put("maxOutputTokens", 5));

        post(GENERATE, capped).onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
            JsonObject response = new JsonObject(answer.body);
            assertThat(response.getJsonObject("usageMetadata").getMap()).containsEntry("candidatesTokenCount", 3)
                    .containsEntry("thoughtsTokenCount", 2);
            assertThat(response.getJsonArray("candidates").getJsonObject(0).getString("finishReason"))
                    .isEqualTo("MAX_TOKENS");
            testContext.completeNow();
        })));
    }

    @Test
    void streamsFunctionCallsWholeThenABareStopEvent(FakeGeminiUpstream upstream, VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().content("").functionCall("get_weather",
                        new JsonObject().put("city", "Paris")).functionCall("get_time", new JsonObject())
                .thoughtSignature("c2lnbmF0dXJl"));

        post(STREAM, request()).onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
            List<JsonObject> events = sseEvents(answer.body);
            assertThat(events).hasSize(2);
            JsonArray calls = events.get(0).getJsonArray("candidates").getJsonObject(0).getJsonObject("content")
                    .getJsonArray("parts");
            assertThat(calls).hasSize(2);
            assertThat(calls.getJsonObject(0).getJsonObject("functionCall").getJsonObject("args").getString("city"))
                    .isEqualTo("Paris");
            assertThat(calls.getJsonObject(0).getString("thoughtSignature")).isEqualTo("c2lnbmF0dXJl");
            assertThat(calls.getJsonObject(1).containsKey("thoughtSignature")).isFalse();
            JsonObject last = events.get(1).getJsonArray("candidates").getJsonObject(0);
            assertThat(last.getString("finishReason")).isEqualTo("STOP");
            assertThat(last.getJsonObject("content").getJsonArray("parts").getJsonObject(0).getString("text"))
                    .isEmpty();
            assertThat(upstream.lastRequest().contentEventsWritten()).isEqualTo(1);
            testContext.completeNow();
        })));
    }

    @Test
    void blocksAPromptWithPromptFeedbackAndNoCandidates(FakeGeminiUpstream upstream, VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().blockPrompt("SAFETY"));

        post(GENERATE, request()).compose(whole -> post(STREAM, request()).map(stream -> List.of(whole, stream)))
                .onComplete(testContext.succeeding(answers -> testContext.verify(() -> {
                    JsonObject whole = new JsonObject(answers.get(0).body);
                    assertThat(answers.get(0).status).isEqualTo(200);
                    assertThat(whole.containsKey("candidates")).isFalse();
                    assertThat(whole.getJsonObject("promptFeedback").getString("blockReason")).isEqualTo("SAFETY");
                    List<JsonObject> events = sseEvents(answers.get(1).body);
                    assertThat(events).hasSize(1);
                    assertThat(events.get(0).containsKey("promptFeedback")).isTrue();
                    testContext.completeNow();
                })));
    }

    @Test
    void aSafetyStopHasNoPartsAndABlockedRating(FakeGeminiUpstream upstream, VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().safetyBlock());

        post(STREAM, request()).onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
            List<JsonObject> events = sseEvents(answer.body);
            assertThat(events).hasSize(1);
            JsonObject candidate = events.get(0).getJsonArray("candidates").getJsonObject(0);
            assertThat(candidate.getJsonObject("content").getMap()).containsOnlyKeys("role");
            assertThat(candidate.getString("finishReason")).isEqualTo("SAFETY");
            assertThat(candidate.getJsonArray("safetyRatings").getJsonObject(0).getBoolean("blocked")).isTrue();
            testContext.completeNow();
        })));
    }

    @Test
    void resetsTheConnectionAfterTheScriptedEvents(FakeGeminiUpstream upstream, VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().chunks(10).resetAfter(3));

        client.request(options(STREAM, KEY)).compose(request -> request.send(request().toBuffer()))
                .compose(response -> response.body().otherwiseEmpty())
                .compose(ignored -> upstream.lastRequest().connectionClosed())
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(upstream.lastRequest().contentEventsWritten()).isEqualTo(3);
                    assertThat(upstream.lastRequest().wasAnsweredInFull()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void sendsMidStreamErrorsAsAnEventOrAsRawJsonOutsideTheFraming(FakeGeminiUpstream upstream,
                                                                  VertxTestContext testContext) {
        upstream.enqueue(GeminiBehaviour.normal().errorEventAfter(1, 503),
                GeminiBehaviour.normal().rawErrorAfter(2, 429), GeminiBehaviour.normal().malformedEventAfter(1));

        post(STREAM, request()).compose(event -> post(STREAM, request()).compose(raw -> post(STREAM, request())
                        .map(malformed -> List.of(event, raw, malformed))))
                .onComplete(testContext.succeeding(answers -> testContext.verify(() -> {
                    String event = answers.get(0).body;
                    assertThat(event).contains("data: {\"error\":{\"code\":503");
                    String raw = answers.get(1).body;
                    assertThat(sseEvents(raw.substring(0, raw.lastIndexOf("\n\n") + 2))).hasSize(2);
                    JsonObject error = new JsonObject(raw.substring(raw.lastIndexOf("\n\n") + 2));
                    assertThat(error.getJsonObject("error").getString("status")).isEqualTo("RESOURCE_EXHAUSTED");
                    assertThat(raw).contains("{\n  \"error\" : {");
                    assertThat(answers.get(2).body).contains("data: {\"candidates\": [{\"content\": {\"parts\": "
                            + "[{\"text\": \"tru\n\n");
                    testContext.completeNow();
                })));
    }

    @Test
    void refusesBodiesTheApiRefuses(VertxTestContext testContext) {
        JsonObject unknownField = request().put("temperature", 0.5);
        JsonObject emptyParts = new JsonObject().put("contents", new JsonArray().add(new JsonObject()
                .put("role", "user").put("parts", new JsonArray())));
        JsonObject openAiSchema = request().put("tools", new JsonArray().add(new JsonObject()
                .put("functionDeclarations", new JsonArray().add(new JsonObject().put("name", "f")
                        .put("parameters", new JsonObject().put("type", "object")
                                .put("properties", new JsonObject().put("x", new JsonObject().put("type", "string")))
                                .put("additionalProperties", false))))));
        JsonObject arrayParameter = new JsonObject().put("type", "OBJECT")
                .put("properties", new JsonObject().put("x", new JsonObject().put("type", "ARRAY")));
        JsonObject arrayWithoutItems = request().put("tools", new JsonArray().add(new JsonObject()
                .put("functionDeclarations", new JsonArray().add(new JsonObject().put("name", "f")
                        .put("parameters", arrayParameter)))));
        JsonObject responsesWithoutCalls = new JsonObject().put("contents", new JsonArray()
                .add(content("user", new JsonObject().put("text", "hi")))
                .add(content("model", new JsonObject().put("text", "hello")))
                .add(content("user", new JsonObject().put("functionResponse", new JsonObject().put("name", "f")
                        .put("response", new JsonObject())))));
        JsonObject systemRole = new JsonObject().put("contents", new JsonArray()
                .add(content("system", new JsonObject().put("text", "be terse"))));

        List<Future<Answer>> answers = new ArrayList<>();
        for (JsonObject body : List.of(unknownField, emptyParts, openAiSchema, arrayWithoutItems,
                responsesWithoutCalls, systemRole)) {
            answers.add(post(GENERATE, body));
        }
        Future.all(answers).onComplete(testContext.succeeding(all -> testContext.verify(() -> {
            List<String> messages = new ArrayList<>();
            for (Future<Answer> answer : answers) {
                assertThat(answer.result().status).isEqualTo(400);
                assertThat(error(answer.result()).getString("status")).isEqualTo("INVALID_ARGUMENT");
                messages.add(error(answer.result()).getString("message"));
            }
            assertThat(messages.get(0)).contains("Unknown name \"temperature\"");
            assertThat(messages.get(1)).contains("contents.parts must not be empty");
            assertThat(messages.get(2)).contains("Unknown name \"additionalProperties\"");
            assertThat(messages.get(3)).contains("items: missing field");
            assertThat(messages.get(4)).contains("number of function response parts");
            assertThat(messages.get(5)).contains("valid role");
            testContext.completeNow();
        })));
    }

    @Test
    void acceptsSnakeCaseFieldNamesAndAFullToolTurn(VertxTestContext testContext) {
        JsonObject body = new JsonObject()
                .put("system_instruction", new JsonObject().put("parts", new JsonArray()
                        .add(new JsonObject().put("text", "be terse"))))
                .put("contents", new JsonArray()
                        .add(content("user", new JsonObject().put("text", "weather?"),
                                new JsonObject().put("inline_data", new JsonObject().put("mime_type", "image/png")
                                        .put("data", "iVBORw0K"))))
                        .add(content("model", new JsonObject().put("functionCall", new JsonObject()
                                .put("name", "get_weather").put("args", new JsonObject().put("city", "Paris")))))
                        .add(content("user", new JsonObject().put("functionResponse", new JsonObject()
                                .put("name", "get_weather").put("response", new JsonObject().put("output", "18C"))))))
                .put("tools", new JsonArray().add(new JsonObject().put("function_declarations", new JsonArray()
                        .add(new JsonObject().put("name", "get_weather").put("parameters", new JsonObject()
                                .put("type", "OBJECT").put("properties", new JsonObject()
                                        .put("city", new JsonObject().put("type", "STRING")))
                                .put("required", new JsonArray().add("city")))))))
                .put("tool_config", new JsonObject().put("function_calling_config", new JsonObject()
                        .put("mode", "ANY").put("allowed_function_names", new JsonArray().add("get_weather"))))
                .put("generation_config", new JsonObject().put("max_output_tokens", 50).put("candidate_count", 1));

        post(GENERATE, body).onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
            assertThat(answer.status).as(answer.body).isEqualTo(200);
            testContext.completeNow();
        })));
    }

    @Test
    void embedsABatchWithTheFakesVectorsAndTheAskedDimensions(FakeGeminiUpstream upstream,
                                                             VertxTestContext testContext) {
        JsonObject batch = new JsonObject().put("requests", new JsonArray()
                .add(embedRequest("models/gemini-embedding-001", "alpha").put("outputDimensionality", 3))
                .add(embedRequest("models/gemini-embedding-001", "beta").put("outputDimensionality", 3)));

        post("/v1beta/models/gemini-embedding-001:batchEmbedContents", batch)
                .onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
                    JsonArray embeddings = new JsonObject(answer.body).getJsonArray("embeddings");
                    assertThat(embeddings).hasSize(2);
                    assertThat(floats(embeddings.getJsonObject(1).getJsonArray("values")))
                            .containsExactly(FakeEmbeddings.vector("beta", 3));
                    assertThat(new JsonObject(answer.body).containsKey("usageMetadata")).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void embedsOneContent(VertxTestContext testContext) {
        post("/v1beta/models/gemini-embedding-001:embedContent", embedRequest(null, "alpha"))
                .onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
                    assertThat(floats(new JsonObject(answer.body).getJsonObject("embedding").getJsonArray("values")))
                            .containsExactly(FakeEmbeddings.vector("alpha", FakeEmbeddings.DEFAULT_DIMENSIONS));
                    testContext.completeNow();
                })));
    }

    @Test
    void refusesABatchWhoseRequestsNameAnotherModelOrAreTooMany(VertxTestContext testContext) {
        JsonObject otherModel = new JsonObject().put("requests", new JsonArray()
                .add(embedRequest("models/other", "a")));
        JsonArray many = new JsonArray();
        for (int i = 0; i <= GeminiRequestRules.MAX_BATCH; i++) {
            many.add(embedRequest("models/gemini-embedding-001", "text " + i));
        }
        String path = "/v1beta/models/gemini-embedding-001:batchEmbedContents";

        post(path, otherModel).compose(first -> post(path, new JsonObject().put("requests", many))
                        .map(second -> List.of(first, second)))
                .onComplete(testContext.succeeding(answers -> testContext.verify(() -> {
                    assertThat(answers).extracting(a -> a.status).containsExactly(400, 400);
                    assertThat(error(answers.get(1)).getString("message")).contains("at most 100");
                    testContext.completeNow();
                })));
    }

    @Test
    void answersAnUnknownMethodWith404InGooglesShape(VertxTestContext testContext) {
        post("/v1beta/models/gemini-test:countTokens", request())
                .onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
                    assertThat(answer.status).isEqualTo(404);
                    assertThat(error(answer).getString("status")).isEqualTo("NOT_FOUND");
                    testContext.completeNow();
                })));
    }

    @Test
    void aHangingRequestSeesTheClientGoAway(FakeGeminiUpstream upstream, VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.hang());

        client.request(options(GENERATE, KEY))
                .compose(request -> {
                    request.send(request().toBuffer());
                    return waitForRequest(upstream).compose(seen -> request.reset());
                })
                .compose(reset -> upstream.lastRequest().connectionClosed())
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(upstream.lastRequest().wasAnsweredInFull()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void fragmentsCountEveryOutputEventOnceItsLastByteWasWritten(FakeGeminiUpstream upstream,
                                                                VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().chunks(5).fragments(7).crlf());

        post(STREAM, request()).compose(answer -> upstream.lastRequest().responseEnded().map(answer))
                .onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
                    assertThat(answer.body).contains("\r\n\r\n");
                    assertThat(upstream.lastRequest().contentEventsWritten()).isEqualTo(5);
                    testContext.completeNow();
                })));
    }

    // ---- helpers ----

    private record Answer(int status, MultiMap headers, String body) {
    }

    private Future<Answer> post(String path, JsonObject body) {
        return post(path, body, KEY);
    }

    private Future<Answer> post(String path, JsonObject body, String key) {
        return client.request(options(path, key))
                .compose(request -> request.send(body.toBuffer()))
                .compose(response -> response.body().map(bytes -> new Answer(response.statusCode(),
                        response.headers(), bytes.toString())));
    }

    private RequestOptions options(String path, String key) {
        RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST)
                .setAbsoluteURI(GEMINI.upstream().baseUrl() + path).putHeader("Content-Type", "application/json");
        if (key != null) {
            options.putHeader("x-goog-api-key", key);
        }
        return options;
    }

    private static Future<RecordedGeminiRequest> waitForRequest(FakeGeminiUpstream upstream) {
        io.vertx.core.Promise<RecordedGeminiRequest> seen = io.vertx.core.Promise.promise();
        Vertx.currentContext().owner().setPeriodic(5, id -> {
            if (upstream.requestCount() > 0) {
                Vertx.currentContext().owner().cancelTimer(id);
                seen.tryComplete(upstream.lastRequest());
            }
        });
        return seen.future();
    }

    private static JsonObject request() {
        return new JsonObject().put("contents", new JsonArray().add(content("user", new JsonObject().put("text",
                "hi"))));
    }

    private static JsonObject content(String role, JsonObject... parts) {
        JsonArray list = new JsonArray();
        for (JsonObject part : parts) {
            list.add(part);
        }
        return new JsonObject().put("role", role).put("parts", list);
    }

    private static JsonObject embedRequest(String model, String text) {
        JsonObject request = new JsonObject().put("content", new JsonObject().put("parts", new JsonArray()
                .add(new JsonObject().put("text", text))));
        return model == null ? request : request.put("model", model);
    }

    private static List<JsonObject> sseEvents(String body) {
        List<JsonObject> events = new ArrayList<>();
        for (String event : body.replace("\r\n", "\n").split("\n\n")) {
            assertThat(event).startsWith("data: ");
            assertThat(event).doesNotContain("\n");
            events.add(new JsonObject(event.substring("data: ".length())));
        }
        return events;
    }

    private static String text(JsonObject response) {
        return response.getJsonArray("candidates").getJsonObject(0).getJsonObject("content").getJsonArray("parts")
                .getJsonObject(0).getString("text");
    }

    private static JsonObject error(Answer answer) {
        return new JsonObject(answer.body).getJsonObject("error");
    }

    private static String retryDelay(JsonObject error) {
        for (Object detail : error.getJsonArray("details")) {
            if (((JsonObject) detail).getString("@type").endsWith("RetryInfo")) {
                return ((JsonObject) detail).getString("retryDelay");
            }
        }
        return null;
    }

    private static float[] floats(JsonArray values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) values.getValue(i)).floatValue();
        }
        return out;
    }
}
