package co.corouter.provider.gemini;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.EmbeddingRequest;
import co.corouter.plugin.api.Embeddings;
import co.corouter.plugin.api.ProviderContext;
import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import co.corouter.testkit.gemini.FakeGeminiUpstream;
import co.corouter.testkit.gemini.FakeGeminiUpstreamExtension;
import co.corouter.testkit.gemini.GeminiBehaviour;
import co.corouter.testkit.gemini.RecordedGeminiRequest;
import co.corouter.testkit.tck.RecordingChunkSink;
import co.corouter.testkit.tck.Tokens;
import co.corouter.testkit.upstream.FakeEmbeddings;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/** The gemini endpoint against the fake Gemini API: what it sends, what it hands on, and how it fails. */
@ExtendWith(VertxExtension.class)
class GeminiEndpointTest {

    @RegisterExtension
    static final FakeGeminiUpstreamExtension GEMINI = new FakeGeminiUpstreamExtension();

    private static final String KEY = "AIza-test-key";
    private static final String CONTENT = "The quick brown fox jumps over the lazy dog.";
    private static final String PROMPT = "Say something about foxes.";
    private static final TokenCounter TOKENS = Tokens.counter();
    private static final int CAP = 100;
    private static final long BUDGET_MS = 5_000;

    private FakeGeminiUpstream upstream;
    private ProviderEndpoint endpoint;
    private Vertx vertx;

    @BeforeEach
    void createEndpoint(Vertx vertx) {
        this.vertx = vertx;
        upstream = GEMINI.upstream().requireApiKey(KEY);
        endpoint = endpoint(upstream.baseUrl());
    }

    @AfterEach
    void closeEndpoint(VertxTestContext testContext) {
        endpoint.close().onComplete(testContext.succeedingThenComplete());
    }

    // ---- whole answers ----

    @Test
    void completesWithTheKeyInAHeaderNeverInTheUrl(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().promptTokens(7).candidatesTokens(12).thoughtsTokens(3));

        complete(chat(body())).onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
            RecordedGeminiRequest seen = upstream.lastRequest();
            assertThat(seen.path()).isEqualTo("/v1beta/models/gemini-test:generateContent");
            assertThat(seen.apiKey()).isEqualTo(KEY);
            assertThat(seen.query()).isEmpty();
            assertThat(seen.header("x-goog-user-project")).isEqualTo("p-1");
            assertThat(seen.body().getJsonArray("contents").getJsonObject(0).getJsonArray("parts").getJsonObject(0)
                    .getString("text")).isEqualTo(PROMPT);
            assertThat(seen.body().getJsonObject("generationConfig").getInteger("maxOutputTokens")).isEqualTo(CAP);
            JsonObject message = completion.parsed().getJsonArray("choices").getJsonObject(0)
                    .getJsonObject("message");
            assertThat(message.getString("content")).isEqualTo(CONTENT);
            assertThat(completion.usage()).isEqualTo(new Usage(7, 15, 0, 3, false));
            testContext.completeNow();
        })));
    }

    @Test
    void aFullToolConversationWithOpenAiSchemasPassesGeminisRulesAndComesBackAsToolCalls(
            VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().content("").functionCall("get_weather",
                new JsonObject().put("city", "Rome")).thoughtSignature("c2lnbmVk"));
        JsonObject parameters = new JsonObject("""
                {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": false,
                 "$defs": {"Unit": {"type": "string", "enum": ["C", "F"]}},
                 "properties": {"city": {"type": "string", "minLength": 1},
                                "unit": {"anyOf": [{"$ref": "#/$defs/Unit"}, {"type": "null"}]},
                                "tags": {"type": "array"},
                                "days": {"type": ["integer", "null"], "exclusiveMinimum": 0}},
                 "required": ["city", "unit"]}
                """);
        JsonObject body = new JsonObject().put("model", "public/gemini").put("messages", new JsonArray()
                        .add(new JsonObject().put("role", "system").put("content", "Be terse."))
                        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                                .add(new JsonObject().put("type", "text").put("text", "Weather here and in Rome?"))
                                .add(new JsonObject().put("type", "image_url").put("image_url", new JsonObject()
                                        .put("url", "data:image/png;base64,iVBORw0KGgo=")))))
                        .add(new JsonObject().put("role", "assistant").putNull("content").put("tool_calls",
                                new JsonArray().add(new JsonObject().put("id", "call_a").put("type", "function")
                                        .put("function", new JsonObject().put("name", "get_weather")
                                                .put("arguments", "{\"city\":\"Paris\"}")))))
                        .add(new JsonObject().put("role", "tool").put("tool_call_id", "call_a").put("content", "18C")))
                .put("tools", new JsonArray().add(new JsonObject().put("type", "function").put("function",
                        new JsonObject().put("name", "get_weather").put("parameters", parameters).put("strict", true))))
                .put("tool_choice", "auto").put("temperature", 0.3).put("stop", "END");

        complete(chat(body)).onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
            JsonObject choice = completion.parsed().getJsonArray("choices").getJsonObject(0);
            assertThat(choice.getString("finish_reason")).isEqualTo("tool_calls");
            JsonObject call = choice.getJsonObject("message").getJsonArray("tool_calls").getJsonObject(0);
            assertThat(call.getJsonObject("function").getString("name")).isEqualTo("get_weather");
            assertThat(new JsonObject(call.getJsonObject("function").getString("arguments")).getString("city"))
                    .isEqualTo("Rome");
            assertThat(ToolCallIds.signature(call.getString("id"))).isEqualTo("c2lnbmVk");
            JsonObject sent = upstream.lastRequest().body();
            assertThat(sent.getJsonArray("contents")).hasSize(3);
            assertThat(sent.getJsonObject("toolConfig").getJsonObject("functionCallingConfig").getString("mode"))
                    .isEqualTo("AUTO");
            testContext.completeNow();
        })));
    }

    @Test
    void reusesOneKeepAliveConnectionForSequentialRequests(VertxTestContext testContext) {
        complete(chat(body()))
                .compose(first -> complete(chat(body())))
                .compose(second -> complete(chat(body())))
                .onComplete(testContext.succeeding(third -> testContext.verify(() -> {
                    assertThat(upstream.requestCount()).isEqualTo(3);
                    assertThat(upstream.connectionsOpened()).isEqualTo(1);
                    testContext.completeNow();
                })));
    }

    @Test
    void aBlockedPromptIsAnEmptyContentFilterAnswer(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().blockPrompt("SAFETY").promptTokens(9));

        complete(chat(body())).onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
            assertThat(completion.parsed().getJsonArray("choices").getJsonObject(0).getString("finish_reason"))
                    .isEqualTo("content_filter");
            assertThat(completion.usage()).isEqualTo(Usage.of(9, 0));
            testContext.completeNow();
        })));
    }

    @Test
    void countsTheAnswerWhenGeminiOmitsUsage(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().omitUsage());

        complete(chat(body())).onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
            assertThat(completion.usage()).isEqualTo(Usage.estimatedCompletion(TOKENS.count(CONTENT)));
            testContext.completeNow();
        })));
    }

    @ParameterizedTest(name = "HTTP {0} is {1}")
    @CsvSource({"400, BAD_REQUEST", "401, AUTH", "403, AUTH", "404, BAD_REQUEST", "429, RATE_LIMITED",
            "500, UPSTREAM_ERROR", "502, UPSTREAM_ERROR", "503, OVERLOADED", "504, TIMEOUT"})
    void mapsEachErrorStatusWithoutEchoingTheUpstreamMessage(int status, Kind kind, VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.error(status).errorMessage("echo of " + PROMPT));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, kind, status);
            assertThat(failure.getMessage()).contains(String.valueOf(status)).doesNotContain("foxes");
            assertThat(upstream.requestCount()).as("no retries inside the provider").isEqualTo(1);
            testContext.completeNow();
        })));
    }

    @Test
    void aWrongKeyIsAuthThoughGeminiAnswers400(VertxTestContext testContext) {
        upstream.requireApiKey("AIza-other");

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.AUTH, 400);
            assertThat(failure.getMessage()).contains("API_KEY_INVALID").doesNotContain(KEY);
            testContext.completeNow();
        })));
    }

    @Test
    void aRateLimitCarriesGeminisRetryDelay(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.error(429).retryDelay("2.5s"));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.RATE_LIMITED, 429);
            assertThat(((ProviderException) failure).retryAfterMillis()).isEqualTo(2_500);
            assertThat(failure.getMessage()).contains("RESOURCE_EXHAUSTED");
            testContext.completeNow();
        })));
    }

    @Test
    void anHtmlErrorPageFromAProxyIsStillMapped(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.error(502).htmlBody());

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.UPSTREAM_ERROR, 502);
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithBadResponseOnAnUnparseableBody(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().malformedBody());

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.BAD_RESPONSE, 200);
            testContext.completeNow();
        })));
    }

    @Test
    void anUntranslatableRequestFailsAsBadRequestWithoutCallingGemini(VertxTestContext testContext) {
        JsonObject body = new JsonObject().put("messages", new JsonArray().add(new JsonObject()
                .put("role", "narrator").put("content", PROMPT)));

        complete(chat(body)).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.BAD_REQUEST, 0);
            assertThat(failure.getMessage()).doesNotContain("foxes");
            assertThat(upstream.requestCount()).isZero();
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithUpstreamErrorWhenTheConnectionDropsOrNothingListens(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().resetAfter(0));
        ProviderEndpoint nowhere = endpoint("http://127.0.0.1:1");

        complete(chat(body()))
                .transform(dropped -> {
                    testContext.verify(() -> assertProviderFailure(dropped.cause(), Kind.UPSTREAM_ERROR, 0));
                    return onEventLoop(() -> nowhere.complete(chat(body())));
                })
                .onComplete(testContext.failing(refused -> testContext.verify(() -> {
                    assertProviderFailure(refused, Kind.UPSTREAM_ERROR, 0);
                    nowhere.close();
                    testContext.completeNow();
                })));
    }

    @Test
    void failsWithTimeoutAtTheFirstByteLimitAndFreesTheConnection(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.hang());
        long started = System.nanoTime();

        complete(chat(body()).timeouts(300, 0))
                .transform(result -> {
                    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                    testContext.verify(() -> {
                        assertProviderFailure(result.cause(), Kind.TIMEOUT, 0);
                        assertThat(result.cause().getMessage()).contains("300 ms");
                        assertThat(elapsedMs).isBetween(290L, 2_000L);
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void timesOutWithinTheBudgetWhenGeminiHangs(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.hang());
        long started = System.nanoTime();

        complete(chat(body(), 300, Promise.<Void>promise().future()))
                .transform(result -> {
                    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                    testContext.verify(() -> {
                        assertProviderFailure(result.cause(), Kind.TIMEOUT, 0);
                        assertThat(elapsedMs).isBetween(290L, 2_000L);
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void resetsTheUpstreamRequestWhenTheHostCancelsAWholeAnswer(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.hang());
        Promise<Void> cancelled = Promise.promise();

        complete(chat(body(), BUDGET_MS, cancelled.future()))
                .transform(failed -> {
                    testContext.verify(() -> assertProviderFailure(failed.cause(), Kind.CANCELLED, 0));
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
        cancelOnceRequested(cancelled);
    }

    // ---- streams ----

    @Test
    void streamsEveryEventOverSseAndReportsTheLastUsage(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().chunks(5).intervalMs(5).promptTokens(7).candidatesTokens(12));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(outcome).isEqualTo(new StreamOutcome(Usage.of(7, 12), "stop"));
            RecordedGeminiRequest seen = upstream.lastRequest();
            assertThat(seen.path()).isEqualTo("/v1beta/models/gemini-test:streamGenerateContent");
            assertThat(seen.sse()).isTrue();
            assertThat(seen.queryParam("key")).isNull();
            assertThat(seen.apiKey()).isEqualTo(KEY);
            assertThat(sink.content()).isEqualTo(CONTENT);
            List<JsonObject> chunks = sink.chunks();
            assertThat(chunks).hasSize(1 + 5 + 1);
            assertThat(chunks).allSatisfy(chunk -> assertThat(chunk.getValue("usage")).isNull());
            assertThat(chunks.get(6).getJsonArray("choices").getJsonObject(0).getString("finish_reason"))
                    .isEqualTo("stop");
            testContext.completeNow();
        })));
    }

    @Test
    void everyEventCarriesTheGenerationIdAndTheResponseModel(VertxTestContext testContext) {
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()).responseModel("google/gemini"), sink)
                .onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
                    assertThat(sink.chunks()).allSatisfy(chunk -> {
                        assertThat(chunk.getString("id")).isEqualTo("gen-test");
                        assertThat(chunk.getString("model")).isEqualTo("google/gemini");
                    });
                    assertThat(sink.text()).doesNotContain("fake-response").doesNotContain("gemini-test");
                    testContext.completeNow();
                })));
    }

    @Test
    void writesEachReadInOneSinkWriteAndTheFinishWhenTheBodyEnds(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().burst());
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(sink.writes()).isEqualTo(2);
            assertThat(sink.chunks()).hasSize(1 + 4 + 1);
            assertThat(sink.content()).isEqualTo(CONTENT);
            testContext.completeNow();
        })));
    }

    @ParameterizedTest(name = "fragments of {0} bytes")
    @ValueSource(ints = {1, 3, 7, 64})
    void reassemblesEventsSplitAcrossReads(int fragmentBytes, VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().fragments(fragmentBytes).intervalMs(1).crlf().candidatesTokens(12));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(sink.events()).allSatisfy(event -> assertThat(event).endsWith("\n\n"));
            assertThat(sink.content()).isEqualTo(CONTENT);
            assertThat(outcome.usage().completionTokens()).isEqualTo(12);
            testContext.completeNow();
        })));
    }

    @Test
    void streamsAFunctionCallAndFinishesWithToolCalls(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().content("Let me check.").chunks(2)
                .functionCall("get_weather", new JsonObject().put("city", "Paris")));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(outcome.finishReason()).isEqualTo("tool_calls");
            JsonObject call = sink.chunks().stream()
                    .map(c -> c.getJsonArray("choices").getJsonObject(0).getJsonObject("delta"))
                    .filter(delta -> delta.containsKey("tool_calls")).findFirst().orElseThrow()
                    .getJsonArray("tool_calls").getJsonObject(0);
            assertThat(call.getString("id")).startsWith("call_");
            assertThat(call.getJsonObject("function").getString("arguments")).isEqualTo("{\"city\":\"Paris\"}");
            assertThat(sink.content()).isEqualTo("Let me check.");
            testContext.completeNow();
        })));
    }

    @Test
    void aSafetyStopMidAnswerFinishesWithContentFilter(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().finishReason("SAFETY"));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(outcome.finishReason()).isEqualTo("content_filter");
            assertThat(sink.content()).isEqualTo(CONTENT);
            testContext.completeNow();
        })));
    }

    @Test
    void aBlockedPromptStreamsOnlyARoleAndAContentFilterFinish(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().blockPrompt("PROHIBITED_CONTENT"));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(outcome).isEqualTo(new StreamOutcome(Usage.of(5, 0), "content_filter"));
            assertThat(sink.chunks()).hasSize(2);
            assertThat(sink.content()).isEmpty();
            testContext.completeNow();
        })));
    }

    @Test
    void keepsTheLastUsageSeenWhenTheLastEventCarriesNone(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().chunks(4).candidatesTokens(8).noUsageOnLastEvent());
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(outcome.usage()).as("the third of four events' cumulative count").isEqualTo(Usage.of(5, 6));
            testContext.completeNow();
        })));
    }

    @Test
    void countsTheForwardedContentWhenGeminiSendsNoUsage(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().omitUsage().chunks(6));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(outcome.usage()).isEqualTo(Usage.estimatedCompletion(TOKENS.count(CONTENT)));
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithTheDeliveredUsageAfterForwardingTheEventsSentBeforeAReset(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().chunks(10).intervalMs(5).resetAfter(3).promptTokens(11));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.UPSTREAM_ERROR, 0);
            assertThat(sink.chunks()).hasSize(1 + 3);
            assertDeliveredUsage(failure, sink, 11);
            testContext.completeNow();
        })));
    }

    @Test
    void anErrorEventMidStreamFailsWithItsKindAndTheDeliveredUsage(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().intervalMs(2).errorEventAfter(2, 503)
                .errorMessage("echo of " + PROMPT));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.OVERLOADED, 503);
            assertThat(failure.getMessage()).contains("UNAVAILABLE").doesNotContain("foxes");
            assertThat(sink.chunks()).hasSize(1 + 2);
            assertDeliveredUsage(failure, sink, 5);
            testContext.completeNow();
        })));
    }

    @Test
    void rawErrorJsonOutsideTheFramingFailsTheStream(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().rawErrorAfter(1, 429).retryDelay("4s"));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.RATE_LIMITED, 429);
            assertThat(((ProviderException) failure).retryAfterMillis()).isEqualTo(4_000);
            assertThat(sink.chunks()).hasSize(2);
            testContext.completeNow();
        })));
    }

    @Test
    void anErrorBeforeAnyOutputLeavesTheSinkUnstartedSoTheHostCanFailOver(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().errorEventAfter(0, 503));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.OVERLOADED, 503);
            assertThat(((ProviderException) failure).usage()).isNull();
            assertThat(sink.started()).isFalse();
            testContext.completeNow();
        })));
    }

    @Test
    void aMalformedEventIsABadResponse(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().burst().malformedEventAfter(2));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.BAD_RESPONSE, 0);
            assertThat(sink.writes()).isEqualTo(1);
            assertThat(sink.chunks()).hasSize(1 + 2);
            testContext.completeNow();
        })));
    }

    @Test
    void aBodyEndingBeforeAnyFinishReasonFailsWithTheDeliveredUsage(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().endAfter(2).omitUsage());
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.UPSTREAM_ERROR, 200);
            assertDeliveredUsage(failure, sink, 0);
            testContext.completeNow();
        })));
    }

    @Test
    void mapsAnErrorStatusBeforeTheStreamAndWritesNothing(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.error(429));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.RATE_LIMITED, 429);
            assertThat(((ProviderException) failure).retryAfterMillis()).isEqualTo(1_000);
            assertThat(sink.started()).isFalse();
            testContext.completeNow();
        })));
    }

    @Test
    void theFirstByteWaitOfAStreamLastsUntilItsFirstEventNotItsHead(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().stallAfter(0));
        RecordingChunkSink sink = new RecordingChunkSink();
        long started = System.nanoTime();

        stream(chat(body()).timeouts(300, 0), sink)
                .transform(result -> {
                    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                    testContext.verify(() -> {
                        assertProviderFailure(result.cause(), Kind.TIMEOUT, 0);
                        assertThat(elapsedMs).isBetween(290L, 2_000L);
                        assertThat(sink.started()).isFalse();
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void failsWithTimeoutAndTheDeliveredUsageWhenTheStreamIsSilentLongerThanTheIdleLimit(
            VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().chunks(10).intervalMs(5).stallAfter(3));
        RecordingChunkSink sink = new RecordingChunkSink();
        long started = System.nanoTime();

        stream(chat(body()).timeouts(0, 300), sink)
                .transform(result -> {
                    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                    testContext.verify(() -> {
                        assertProviderFailure(result.cause(), Kind.TIMEOUT, 0);
                        assertThat(result.cause().getMessage()).contains("300 ms");
                        assertThat(sink.chunks()).hasSize(1 + 3);
                        assertDeliveredUsage(result.cause(), sink, 5);
                        assertThat(elapsedMs).isBetween(300L, 2_500L);
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void aSteadyStreamLongerThanItsIdleAndFirstByteLimitsRunsToItsEnd(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().chunks(8).intervalMs(60).candidatesTokens(12));
        RecordingChunkSink sink = new RecordingChunkSink();
        long started = System.nanoTime();

        stream(chat(body()).timeouts(250, 250), sink).onComplete(testContext.succeeding(outcome ->
                testContext.verify(() -> {
                    assertThat((System.nanoTime() - started) / 1_000_000).isGreaterThan(250L);
                    assertThat(outcome.usage().completionTokens()).isEqualTo(12);
                    assertThat(sink.content()).isEqualTo(CONTENT);
                    testContext.completeNow();
                })));
    }

    @Test
    void aStreamCancelledAfterFiveOneTokenDeltasReportsThePromptSeenAndFiveTokens(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().content(" hello".repeat(40)).chunks(40).stallAfter(5)
                .promptTokens(13));
        Promise<Void> cancelled = Promise.promise();
        RecordingChunkSink sink = new RecordingChunkSink();
        sink.onWrite(write -> {
            if (sink.content().equals(" hello".repeat(5))) {
                vertx.runOnContext(v -> cancelled.tryComplete()); // as the host does, on a later turn
            }
        });

        stream(chat(body(), BUDGET_MS, cancelled.future()), sink)
                .transform(result -> {
                    testContext.verify(() -> {
                        assertProviderFailure(result.cause(), Kind.CANCELLED, 0);
                        assertThat(((ProviderException) result.cause()).usage())
                                .isEqualTo(new Usage(13, 5, 0, 0, true));
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(upstream.lastRequest().contentEventsWritten()).isEqualTo(5);
                    assertThat(upstream.lastRequest().wasAnsweredInFull()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void pausesTheUpstreamWhileTheClientIsSlow(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.normal().chunks(20).intervalMs(2));
        RecordingChunkSink sink = new RecordingChunkSink().simulateWriteQueueFull(true);

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(sink.chunks()).hasSize(1 + 20 + 1);
            assertThat(sink.writesWhileFull()).isEqualTo(1);
            testContext.completeNow();
        })));
        // 20 events 2 ms apart are all sent within 200 ms; a paused stream still wrote only the first read
        vertx.setTimer(200, id -> testContext.verify(() -> {
            assertThat(sink.writes()).isEqualTo(1);
            assertThat(sink.awaitingDrain()).isTrue();
            sink.simulateWriteQueueFull(false);
        }));
    }

    // ---- embeddings ----

    @Test
    void embedsThroughBatchEmbedContentsAndCountsTheInputs(VertxTestContext testContext) {
        List<String> inputs = List.of("the quick brown fox", "jumps");

        embed(embedding(inputs, 3, BUDGET_MS, Promise.<Void>promise().future()))
                .onComplete(testContext.succeeding(embeddings -> testContext.verify(() -> {
                    RecordedGeminiRequest seen = upstream.lastRequest();
                    assertThat(seen.path()).isEqualTo("/v1beta/models/gemini-embedding-001:batchEmbedContents");
                    assertThat(seen.apiKey()).isEqualTo(KEY);
                    assertThat(embeddings.vectors()).hasSize(2);
                    assertThat(embeddings.vectors().get(0)).containsExactly(FakeEmbeddings.vector(inputs.get(0), 3));
                    assertThat(embeddings.vectors().get(1)).containsExactly(FakeEmbeddings.vector(inputs.get(1), 3));
                    assertThat(embeddings.usage()).isEqualTo(new Usage(TOKENS.count(inputs.get(0))
                            + TOKENS.count(inputs.get(1)), 0, 0, 0, true));
                    testContext.completeNow();
                })));
    }

    @Test
    void embeddingErrorsAreMappedLikeChat(VertxTestContext testContext) {
        upstream.behaveFor("gemini-embedding-001", GeminiBehaviour.error(429).retryDelay("1.5s"));

        embed(embedding(List.of("x"), 0, BUDGET_MS, Promise.<Void>promise().future()))
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertProviderFailure(failure, Kind.RATE_LIMITED, 429);
                    assertThat(((ProviderException) failure).retryAfterMillis()).isEqualTo(1_500);
                    testContext.completeNow();
                })));
    }

    @Test
    void embeddingsTimeOutWithinTheBudgetAndCancelResetsTheRequest(VertxTestContext testContext) {
        upstream.behave(GeminiBehaviour.hang());
        Promise<Void> cancelled = Promise.promise();

        embed(embedding(List.of("x"), 0, 300, Promise.<Void>promise().future()))
                .transform(timedOut -> {
                    testContext.verify(() -> assertProviderFailure(timedOut.cause(), Kind.TIMEOUT, 0));
                    return upstream.lastRequest().connectionClosed();
                })
                .compose(closed -> {
                    cancelOnceRequested(cancelled, 2);
                    return embed(embedding(List.of("y"), 0, BUDGET_MS, cancelled.future()));
                })
                .transform(cancel -> {
                    testContext.verify(() -> assertProviderFailure(cancel.cause(), Kind.CANCELLED, 0));
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
    }

    // ---- helpers ----

    private ProviderEndpoint endpoint(String baseUrl) {
        ProviderContext context = new ProviderContext(vertx, "test", name -> "GEMINI_KEY".equals(name) ? KEY : null,
                TOKENS);
        return new GeminiProvider().create(context, new JsonObject().put("base_url", baseUrl)
                .put("api_key_env", "GEMINI_KEY").put("headers", new JsonObject().put("x-goog-user-project", "p-1")));
    }

    private static JsonObject body() {
        return new JsonObject().put("model", "public/gemini")
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", PROMPT)));
    }

    private static ChatRequest chat(JsonObject body) {
        return chat(body, BUDGET_MS, Promise.<Void>promise().future());
    }

    private static ChatRequest chat(JsonObject body, long timeoutMillis, Future<Void> cancelled) {
        return new ChatRequest("gen-test", "gemini-test", body, CAP, timeoutMillis, cancelled);
    }

    private static EmbeddingRequest embedding(List<String> inputs, int dimensions, long timeoutMillis,
                                              Future<Void> cancelled) {
        return new EmbeddingRequest("gen-embed", "gemini-embedding-001", inputs, dimensions, null, timeoutMillis,
                cancelled);
    }

    private Future<ChatCompletion> complete(ChatRequest chat) {
        return onEventLoop(() -> endpoint.complete(chat));
    }

    private Future<StreamOutcome> stream(ChatRequest chat, RecordingChunkSink sink) {
        return onEventLoop(() -> endpoint.stream(chat, sink));
    }

    private Future<Embeddings> embed(EmbeddingRequest request) {
        return onEventLoop(() -> endpoint.embed(request));
    }

    /** Endpoints are called on an event loop, as the router does. */
    private <T> Future<T> onEventLoop(Supplier<Future<T>> call) {
        Promise<T> result = Promise.promise();
        vertx.runOnContext(v -> call.get().onComplete(result));
        return result.future();
    }

    private void cancelOnceRequested(Promise<Void> cancelled) {
        cancelOnceRequested(cancelled, 1);
    }

    /** Cancels once the fake has received its {@code count}-th request (the upstream call is under way). */
    private void cancelOnceRequested(Promise<Void> cancelled, int count) {
        vertx.setPeriodic(10, id -> {
            if (upstream.requestCount() >= count) {
                vertx.cancelTimer(id);
                vertx.runOnContext(v -> cancelled.tryComplete());
            }
        });
    }

    /** A stream that failed after output carries the forwarded content counted, with the last prompt count seen. */
    private static void assertDeliveredUsage(Throwable failure, RecordingChunkSink sink, int promptTokens) {
        assertThat(failure).isInstanceOf(ProviderException.class);
        int counted = TOKENS.count(sink.content());
        assertThat(((ProviderException) failure).usage()).isEqualTo(promptTokens > 0
                ? new Usage(promptTokens, counted, 0, 0, true) : Usage.estimatedCompletion(counted));
    }

    private static void assertProviderFailure(Throwable failure, Kind kind, int upstreamStatus) {
        assertThat(failure).isInstanceOf(ProviderException.class);
        ProviderException provider = (ProviderException) failure;
        assertThat(provider.kind()).as(provider.getMessage()).isEqualTo(kind);
        assertThat(provider.upstreamStatus()).isEqualTo(upstreamStatus);
    }
}
