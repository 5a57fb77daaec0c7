package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ProviderContext;
import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import co.corouter.testkit.anthropic.AnthropicBehaviour;
import co.corouter.testkit.anthropic.FakeAnthropicUpstream;
import co.corouter.testkit.anthropic.FakeAnthropicUpstreamExtension;
import co.corouter.testkit.anthropic.RecordedAnthropicRequest;
import co.corouter.testkit.tck.RecordingChunkSink;
import co.corouter.testkit.tck.Tokens;
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

import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class AnthropicEndpointTest {

    @RegisterExtension
    static final FakeAnthropicUpstreamExtension ANTHROPIC = new FakeAnthropicUpstreamExtension();

    private static final String TEXT = "The quick brown fox jumps over the lazy dog.";
    /** {@code TEXT} in o200k tokens. */
    private static final int TEXT_TOKENS = 10;
    private static final String PROMPT = "Say something about foxes.";
    private static final TokenCounter TOKENS = Tokens.counter();
    private static final int CAP = 100;
    private static final long BUDGET_MS = 5_000;
    /** The fake's default uncached input tokens. */
    private static final int INPUT = 5;

    private FakeAnthropicUpstream upstream;
    private ProviderEndpoint endpoint;
    private Vertx vertx;

    @BeforeEach
    void createEndpoint(Vertx vertx) {
        this.vertx = vertx;
        upstream = ANTHROPIC.upstream().requireApiKey("sk-ant-test");
        endpoint = endpoint(config());
    }

    @AfterEach
    void closeEndpoint(VertxTestContext testContext) {
        endpoint.close().onComplete(testContext.succeedingThenComplete());
    }

    // ---- whole completions ----

    @Test
    void completesWithTheTextAndTheUsageIncludingCacheReadsAndWrites(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().inputTokens(7).cacheReadTokens(100).cacheCreationTokens(20)
                .outputTokens(12));

        complete(chat(body()).responseModel("public/claude"))
                .onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
                    assertThat(completion.usage()).isEqualTo(new Usage(127, 12, 100, 0, false, 20));
                    assertThat(completion.finishReason()).isEqualTo("stop");
                    JsonObject body = completion.parsed();
                    assertThat(body.getString("id")).isEqualTo("gen-test");
                    assertThat(body.getString("model")).isEqualTo("public/claude");
                    assertThat(body.getJsonArray("choices").getJsonObject(0).getJsonObject("message")
                            .getString("content")).isEqualTo(TEXT);
                    assertThat(upstream.requestCount()).isEqualTo(1);
                    testContext.completeNow();
                })));
    }

    @Test
    void sendsTheKeyTheVersionTheBetaFeaturesAndTheTranslatedBody(VertxTestContext testContext) {
        endpoint = endpoint(config().put("anthropic_beta", new JsonArray().add("context-1m-2025-08-07"))
                .put("headers", new JsonObject().put("anthropic-workspace-id", "wrk_1")));
        JsonObject body = body().put("max_tokens", 5_000).put("temperature", 0.3)
                .put("stream_options", new JsonObject().put("include_usage", true))
                .put("provider", new JsonObject().put("sort", "price"));

        complete(chat(body)).onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
            RecordedAnthropicRequest seen = upstream.lastRequest();
            assertThat(seen.path()).isEqualTo("/v1/messages");
            assertThat(seen.apiKey()).isEqualTo("sk-ant-test");
            assertThat(seen.authorization()).isNull();
            assertThat(seen.anthropicVersion()).isEqualTo("2023-06-01");
            assertThat(seen.anthropicBeta()).isEqualTo("context-1m-2025-08-07");
            assertThat(seen.header("anthropic-workspace-id")).isEqualTo("wrk_1");
            assertThat(seen.header("accept")).isEqualTo("application/json");
            JsonObject sent = seen.body();
            assertThat(sent.fieldNames()).containsExactlyInAnyOrder("model", "max_tokens", "system", "messages",
                    "temperature", "stream");
            assertThat(sent.getString("model")).isEqualTo("claude-upstream");
            assertThat(sent.getInteger("max_tokens")).isEqualTo(CAP);
            assertThat(sent.getBoolean("stream")).isFalse();
            assertThat(sent.getJsonArray("system").getJsonObject(0).getString("text")).isEqualTo("Be brief.");
            assertThat(body.getString("model")).as("the client's body is left alone").isEqualTo("public/model");
            testContext.completeNow();
        })));
    }

    @Test
    void aToolConversationWithImagesAndCacheBreakpointsPassesTheApisChecksAndAnswersToolCalls(
            VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().text("").toolUse("toolu_02", "get_weather",
                "{\"city\":\"Lyon\"}"));
        JsonObject ephemeral = new JsonObject().put("type", "ephemeral");
        JsonObject body = new JsonObject().put("model", "public/model")
                .put("messages", new JsonArray()
                        .add(new JsonObject().put("role", "system").put("content", new JsonArray()
                                .add(new JsonObject().put("type", "text").put("text", "Be brief.")
                                        .put("cache_control", ephemeral))))
                        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                                .add(new JsonObject().put("type", "image_url").put("image_url",
                                        new JsonObject().put("url", "data:image/png;base64,iVBORw0KGgo=")))
                                .add(new JsonObject().put("type", "text").put("text", "Weather here and in Lyon?")
                                        .put("cache_control", ephemeral))))
                        .add(new JsonObject().put("role", "assistant").put("content", "")
                                .put("tool_calls", new JsonArray().add(new JsonObject().put("id", "toolu_01")
                                        .put("type", "function").put("function", new JsonObject()
                                                .put("name", "get_weather").put("arguments", "{\"city\":\"Paris\"}")))))
                        .add(new JsonObject().put("role", "tool").put("tool_call_id", "toolu_01")
                                .put("content", "18°C"))
                        .add(new JsonObject().put("role", "user").put("content", "Now Lyon.")))
                .put("tools", new JsonArray().add(new JsonObject().put("type", "function").put("function",
                        new JsonObject().put("name", "get_weather").put("parameters", new JsonObject()
                                .put("type", "object").put("properties", new JsonObject())))))
                .put("tool_choice", "required").put("parallel_tool_calls", false).put("stop", "END");

        complete(chat(body)).onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
            JsonObject message = completion.parsed().getJsonArray("choices").getJsonObject(0)
                    .getJsonObject("message");
            assertThat(message.getJsonArray("tool_calls").getJsonObject(0).getJsonObject("function"))
                    .isEqualTo(new JsonObject().put("name", "get_weather").put("arguments", "{\"city\":\"Lyon\"}"));
            assertThat(completion.finishReason()).isEqualTo("tool_calls");
            assertThat(upstream.lastRequest().body().getJsonObject("tool_choice"))
                    .isEqualTo(new JsonObject().put("type", "any").put("disable_parallel_tool_use", true));
            testContext.completeNow();
        })));
    }

    @Test
    void leavesOutSamplingParametersForAVersionThatRejectsThem(VertxTestContext testContext) {
        endpoint = endpoint(config().put("anthropic_version", "2026-10-21"));

        complete(chat(body().put("temperature", 0.2).put("top_p", 0.9)))
                .onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
                    assertThat(upstream.lastRequest().anthropicVersion()).isEqualTo("2026-10-21");
                    assertThat(upstream.lastRequest().body().fieldNames()).doesNotContain("temperature", "top_p");
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
    void countsTheAnswerWithTheHostsTokenizerWhenTheUpstreamOmitsUsage(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().omitUsage());

        complete(chat(body())).onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
            assertThat(TOKENS.count(TEXT)).isEqualTo(TEXT_TOKENS);
            assertThat(completion.usage()).as("the host counts the prompt")
                    .isEqualTo(Usage.estimatedCompletion(TEXT_TOKENS));
            testContext.completeNow();
        })));
    }

    @Test
    void refusesAnUntranslatableRequestWithoutCallingTheUpstream(VertxTestContext testContext) {
        complete(chat(body().put("n", 3))).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.BAD_REQUEST, 0);
            assertThat(upstream.requestCount()).isZero();
            testContext.completeNow();
        })));
    }

    @ParameterizedTest(name = "HTTP {0} is {1}")
    @CsvSource({"400, BAD_REQUEST", "401, AUTH", "402, AUTH", "403, AUTH", "404, BAD_REQUEST",
            "409, UPSTREAM_ERROR", "413, BAD_REQUEST", "429, RATE_LIMITED", "500, UPSTREAM_ERROR",
            "502, UPSTREAM_ERROR", "503, OVERLOADED", "504, TIMEOUT", "529, OVERLOADED"})
    void mapsEachErrorStatusToTheKindTheHostFailsOverOn(int status, Kind kind, VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.error(status).errorMessage("echo of " + PROMPT));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, kind, status);
            assertThat(failure.getMessage()).contains(String.valueOf(status)).contains("request-id=req_fake")
                    .doesNotContain("foxes");
            assertThat(upstream.requestCount()).as("no retries inside the provider").isEqualTo(1);
            testContext.completeNow();
        })));
    }

    @Test
    void mapsAWrongApiKeyToAuthWithoutShowingTheKey(VertxTestContext testContext) {
        upstream.requireApiKey("sk-ant-other");

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.AUTH, 401);
            assertThat(failure.getMessage()).contains("authentication_error").doesNotContain("sk-ant");
            testContext.completeNow();
        })));
    }

    @Test
    void aRateLimitedAnswerCarriesTheWaitFromRetryAfter(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.error(429).header("retry-after", "2"));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.RATE_LIMITED, 429);
            assertThat(((ProviderException) failure).retryAfterMillis()).isEqualTo(2_000);
            assertThat(failure.getMessage()).contains("rate_limit_error");
            testContext.completeNow();
        })));
    }

    @Test
    void aRateLimitedAnswerWithoutRetryAfterWaitsForTheExhaustedLimitsReset(VertxTestContext testContext) {
        // the fake's reset is one second after its answer, rounded down to the second
        upstream.behave(AnthropicBehaviour.error(429).withoutHeader("retry-after"));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.RATE_LIMITED, 429);
            assertThat(((ProviderException) failure).retryAfterMillis()).isBetween(0L, 1_000L);
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithTimeoutWhenTheHeadDoesNotArriveWithinTheFirstByteLimit(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.hang());
        long started = System.nanoTime();

        complete(chat(body()).timeouts(300, 0))
                .transform(result -> {
                    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                    testContext.verify(() -> {
                        assertProviderFailure(result.cause(), Kind.TIMEOUT, 0);
                        assertThat(result.cause().getMessage()).contains("300 ms");
                        assertThat(elapsedMs).as("the first-byte limit, not the %d ms budget", BUDGET_MS)
                                .isBetween(290L, 2_000L);
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void timesOutWithinTheBudgetWhenTheUpstreamHangsAndFreesTheConnection(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.hang());
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
    void aWholeCompletionAnsweredWithinTheFirstByteLimitIsNotCutByTheIdleLimit(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().delayMs(50));

        complete(chat(body()).timeouts(200, 1)).onComplete(testContext.succeeding(completion ->
                testContext.verify(() -> {
                    assertThat(completion.finishReason()).isEqualTo("stop");
                    testContext.completeNow();
                })));
    }

    @Test
    void failsWithBadResponseOnAnUnparseableBody(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().malformedBody());

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.BAD_RESPONSE, 200);
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithUpstreamErrorWhenTheConnectionDropsBeforeAnAnswer(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().resetAfter(0));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.UPSTREAM_ERROR, 0);
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithUpstreamErrorWhenNothingListens(VertxTestContext testContext) {
        endpoint = endpoint(new JsonObject().put("base_url", "http://127.0.0.1:1"));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.UPSTREAM_ERROR, 0);
            testContext.completeNow();
        })));
    }

    @Test
    void resetsTheUpstreamRequestAndFailsAsCancelledWhenTheHostCancelsAWholeCompletion(
            VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.hang());
        Promise<Void> cancelled = Promise.promise();

        complete(chat(body(), BUDGET_MS, cancelled.future()))
                .transform(failed -> {
                    testContext.verify(() -> {
                        assertProviderFailure(failed.cause(), Kind.CANCELLED, 0);
                        assertThat(((ProviderException) failed.cause()).usage()).isNull();
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
        vertx.setPeriodic(10, id -> {
            if (upstream.requestCount() == 1) {
                vertx.cancelTimer(id);
                cancelled.complete();
            }
        });
    }

    // ---- streams ----

    @Test
    void streamsEveryDeltaAsItArrivesAndReportsTheUsage(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().chunks(5).intervalMs(5).inputTokens(7).cacheReadTokens(3)
                .outputTokens(12));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()).responseModel("public/claude"), sink)
                .onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
                    assertThat(outcome).isEqualTo(new StreamOutcome(new Usage(10, 12, 3, 0, false, 0), "stop"));
                    assertThat(sink.chunks()).hasSize(1 + 5 + 1).allSatisfy(chunk -> {
                        assertThat(chunk.getString("id")).isEqualTo("gen-test");
                        assertThat(chunk.getString("model")).isEqualTo("public/claude");
                        assertThat(chunk.getJsonArray("choices")).isNotEmpty();
                        assertThat(chunk.getValue("usage")).isNull();
                    });
                    assertThat(sink.content()).isEqualTo(TEXT);
                    assertThat(sink.text()).doesNotContain("[DONE]").doesNotContain("msg_fake");
                    RecordedAnthropicRequest seen = upstream.lastRequest();
                    assertThat(seen.header("accept")).isEqualTo("text/event-stream");
                    assertThat(seen.body().getBoolean("stream")).isTrue();
                    assertThat(seen.body().getInteger("max_tokens")).isEqualTo(CAP);
                    testContext.completeNow();
                })));
    }

    @Test
    void streamsParallelToolCallsWithTheirArgumentsUnderTheirOwnIndex(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().text("Checking both.").chunks(2)
                .toolUse("toolu_01", "get_weather", "{\"city\":\"Paris\"}")
                .toolUse("toolu_02", "get_weather", "{\"city\":\"Lyon\"}").toolFragments(4).intervalMs(2));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(outcome.finishReason()).isEqualTo("tool_calls");
            assertThat(sink.content()).isEqualTo("Checking both.");
            assertThat(toolCalls(sink)).isEqualTo(Map.of(
                    0, "toolu_01 get_weather {\"city\":\"Paris\"}",
                    1, "toolu_02 get_weather {\"city\":\"Lyon\"}"));
            testContext.completeNow();
        })));
    }

    @Test
    void streamsThinkingAsReasoningBeforeTheAnswer(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().thinking("Foxes are quick.", 3));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            StringBuilder reasoning = new StringBuilder();
            sink.chunks().forEach(chunk -> {
                if (chunk.getJsonArray("choices").getJsonObject(0).getJsonObject("delta")
                        .getValue("reasoning") instanceof String piece) {
                    reasoning.append(piece);
                }
            });
            assertThat(reasoning).hasToString("Foxes are quick.");
            assertThat(sink.content()).isEqualTo(TEXT);
            testContext.completeNow();
        })));
    }

    @Test
    void writesEverythingOneReadDeliveredInOneSinkWrite(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().burst().pings());
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(sink.writes()).isEqualTo(1);
            assertThat(sink.chunks()).hasSize(1 + 4 + 1);
            assertThat(sink.content()).isEqualTo(TEXT);
            assertThat(outcome.usage().estimated()).isFalse();
            testContext.completeNow();
        })));
    }

    @ParameterizedTest(name = "{0}-byte writes")
    @ValueSource(ints = {1, 3, 7, 64})
    void reassemblesEventsSplitAcrossReadsWithCrlfLines(int fragmentBytes, VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().fragments(fragmentBytes).crlf().intervalMs(1).outputTokens(12));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(sink.events()).allSatisfy(event -> assertThat(event).endsWith("\n\n"));
            assertThat(sink.content()).isEqualTo(TEXT);
            assertThat(outcome).isEqualTo(new StreamOutcome(Usage.of(INPUT, 12), "stop"));
            testContext.completeNow();
        })));
    }

    @Test
    void endsWithLengthWhenTheUpstreamStopsAtMaxTokens(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().chunks(8));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(new ChatRequest("gen-test", "claude-upstream", body(), 3, BUDGET_MS, Promise.<Void>promise().future()),
                sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
                    assertThat(outcome).isEqualTo(new StreamOutcome(Usage.of(INPUT, 3), "length"));
                    assertThat(upstream.lastRequest().body().getInteger("max_tokens")).isEqualTo(3);
                    testContext.completeNow();
                })));
    }

    @Test
    void countsTheForwardedTextWhenAStreamReportsNoUsage(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().omitUsage().chunks(6));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(sink.content()).isEqualTo(TEXT);
            assertThat(outcome).isEqualTo(new StreamOutcome(Usage.estimatedCompletion(TEXT_TOKENS), "stop"));
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithUpstreamErrorAndTheDeliveredUsageWhenTheConnectionResetsMidStream(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().chunks(10).intervalMs(5).resetAfter(4));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.UPSTREAM_ERROR, 0);
            assertThat(sink.chunks()).as("the role chunk and two deltas").hasSize(3);
            assertDeliveredUsage(failure, sink);
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithBadResponseOnAMalformedEventAfterForwardingTheValidOnesOfTheSameRead(
            VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().burst().malformedEventAfter(4));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.BAD_RESPONSE, 0);
            assertThat(sink.writes()).isEqualTo(1);
            assertThat(sink.chunks()).hasSize(3);
            assertDeliveredUsage(failure, sink);
            testContext.completeNow();
        })));
    }

    @ParameterizedTest(name = "an {0} event is {1}")
    @CsvSource({"overloaded_error, OVERLOADED", "rate_limit_error, RATE_LIMITED", "api_error, UPSTREAM_ERROR"})
    void failsWithTheKindOfAnErrorEventMidStreamAndTheDeliveredUsage(String type, Kind kind,
                                                                     VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().intervalMs(2).errorEventAfter(4).errorType(type)
                .errorMessage("echo of " + PROMPT));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, kind, 0);
            assertThat(failure.getMessage()).contains(type).doesNotContain("foxes");
            assertThat(sink.chunks()).hasSize(3);
            assertDeliveredUsage(failure, sink);
            testContext.completeNow();
        })));
    }

    @Test
    void anErrorEventBeforeAnyOutputLeavesTheSinkUnstartedSoTheHostCanFailOver(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().errorEventAfter(0));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.OVERLOADED, 0);
            assertThat(((ProviderException) failure).usage()).isNull();
            assertThat(sink.started()).isFalse();
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithUpstreamErrorWhenTheStreamEndsBeforeMessageStop(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().endAfter(5));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.UPSTREAM_ERROR, 200);
            assertThat(failure.getMessage()).contains("before message_stop");
            assertThat(sink.chunks()).hasSize(4);
            assertDeliveredUsage(failure, sink);
            testContext.completeNow();
        })));
    }

    @Test
    void mapsAnErrorStatusBeforeTheStreamAndWritesNothing(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.error(529));
        RecordingChunkSink sink = new RecordingChunkSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.OVERLOADED, 529);
            assertThat(failure.getMessage()).contains("overloaded_error");
            assertThat(sink.started()).isFalse();
            testContext.completeNow();
        })));
    }

    @Test
    void theFirstByteWaitOfAStreamLastsUntilMessageStartNotItsHead(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().stallAfter(0));
        RecordingChunkSink sink = new RecordingChunkSink();
        long started = System.nanoTime();

        stream(chat(body()).timeouts(300, 0), sink)
                .transform(result -> {
                    testContext.verify(() -> {
                        assertProviderFailure(result.cause(), Kind.TIMEOUT, 0);
                        assertThat((System.nanoTime() - started) / 1_000_000).isBetween(290L, 2_000L);
                        assertThat(((ProviderException) result.cause()).usage()).as("nothing delivered").isNull();
                        assertThat(sink.started()).isFalse();
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void failsWithTimeoutAndTheDeliveredUsageWhenTheStreamIsSilentLongerThanTheIdleLimit(
            VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().chunks(10).intervalMs(5).stallAfter(4));
        RecordingChunkSink sink = new RecordingChunkSink();
        long started = System.nanoTime();

        stream(chat(body()).timeouts(0, 300), sink)
                .transform(result -> {
                    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                    testContext.verify(() -> {
                        assertProviderFailure(result.cause(), Kind.TIMEOUT, 0);
                        assertThat(result.cause().getMessage()).contains("300 ms");
                        assertThat(sink.chunks()).hasSize(3);
                        assertDeliveredUsage(result.cause(), sink);
                        assertThat(elapsedMs).as("the idle limit, not the %d ms budget", BUDGET_MS)
                                .isBetween(300L, 2_500L);
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void aSteadyStreamLongerThanItsIdleAndFirstByteLimitsRunsToItsEnd(VertxTestContext testContext) {
        // 12 writes 50 ms apart: about 550 ms in all, no gap near the 250 ms limits
        upstream.behave(AnthropicBehaviour.normal().chunks(6).intervalMs(50));
        RecordingChunkSink sink = new RecordingChunkSink();
        long started = System.nanoTime();

        stream(chat(body()).timeouts(250, 250), sink).onComplete(testContext.succeeding(outcome ->
                testContext.verify(() -> {
                    assertThat((System.nanoTime() - started) / 1_000_000).isGreaterThan(250L);
                    assertThat(sink.content()).isEqualTo(TEXT);
                    testContext.completeNow();
                })));
    }

    @Test
    void aClientSlowerThanTheIdleLimitDoesNotTimeTheStreamOut(VertxTestContext testContext) {
        // we pause the upstream for the client; that silence is not the upstream's
        upstream.behave(AnthropicBehaviour.normal().chunks(20).intervalMs(2));
        RecordingChunkSink sink = new RecordingChunkSink().simulateWriteQueueFull(true);

        Future<StreamOutcome> outcome = stream(chat(body()).timeouts(0, 200), sink);
        vertx.setTimer(600, id -> sink.simulateWriteQueueFull(false));

        outcome.onComplete(testContext.succeeding(done -> testContext.verify(() -> {
            assertThat(sink.chunks()).hasSize(1 + 20 + 1);
            assertThat(done.finishReason()).isEqualTo("stop");
            testContext.completeNow();
        })));
    }

    @Test
    void pausesTheUpstreamWhileTheClientIsSlow(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().chunks(20).intervalMs(2));
        RecordingChunkSink sink = new RecordingChunkSink().simulateWriteQueueFull(true);

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(sink.chunks()).hasSize(1 + 20 + 1);
            testContext.completeNow();
        })));
        // 25 events 2 ms apart are all sent within 200 ms; a paused stream still wrote only its first read
        vertx.setTimer(200, id -> testContext.verify(() -> {
            assertThat(sink.writes()).isEqualTo(1);
            assertThat(sink.awaitingDrain()).isTrue();
            sink.simulateWriteQueueFull(false);
        }));
    }

    @Test
    void resetsTheUpstreamRequestWhenTheHostCancelsAStream(VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().chunks(200).intervalMs(10));
        Promise<Void> cancelled = Promise.promise();
        // cancelled inside the first write: the failure must already bill what that write carried
        RecordingChunkSink sink = new RecordingChunkSink().onWrite(write -> cancelled.tryComplete());

        stream(chat(body(), BUDGET_MS, cancelled.future()), sink)
                .transform(result -> {
                    testContext.verify(() -> {
                        assertProviderFailure(result.cause(), Kind.CANCELLED, 0);
                        assertDeliveredUsage(result.cause(), sink);
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(sink.writes()).isEqualTo(1);
                    assertThat(upstream.lastRequest().wasAnsweredInFull()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void aStreamCancelledAfterFiveOneTokenDeltasBillsThePromptAndFiveCompletionTokens(VertxTestContext testContext) {
        // message_start, the block start (and its ping), five deltas of " hello"; then quiet until the cancel
        upstream.behave(AnthropicBehaviour.normal().text(" hello".repeat(40)).chunks(40).stallAfter(7)
                .cacheReadTokens(30));
        Promise<Void> cancelled = Promise.promise();
        RecordingChunkSink sink = new RecordingChunkSink();
        sink.onWrite(write -> {
            if (sink.content().equals(" hello".repeat(5))) {
                vertx.runOnContext(v -> cancelled.tryComplete()); // as the host does, on a later turn
            }
        });

        stream(chat(body(), BUDGET_MS, cancelled.future()), sink)
                .transform(result -> {
                    testContext.verify(() -> assertThat(((ProviderException) result.cause()).usage())
                            .isEqualTo(new Usage(INPUT + 30, 5, 30, 0, true, 0)));
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(upstream.lastRequest().contentEventsWritten()).isEqualTo(5);
                    assertThat(upstream.lastRequest().wasAnsweredInFull()).isFalse();
                    testContext.completeNow();
                })));
    }

    // ---- helpers ----

    private JsonObject config() {
        return new JsonObject().put("base_url", upstream.baseUrl()).put("api_key_env", "FAKE_KEY");
    }

    private ProviderEndpoint endpoint(JsonObject config) {
        ProviderContext context = new ProviderContext(vertx, "claude",
                name -> "FAKE_KEY".equals(name) ? "sk-ant-test" : null, TOKENS);
        return new AnthropicProvider().create(context, config);
    }

    private static JsonObject body() {
        return new JsonObject()
                .put("model", "public/model")
                .put("messages", new JsonArray()
                        .add(new JsonObject().put("role", "system").put("content", "Be brief."))
                        .add(new JsonObject().put("role", "user").put("content", PROMPT)));
    }

    private static ChatRequest chat(JsonObject body) {
        return chat(body, BUDGET_MS, Promise.<Void>promise().future());
    }

    private static ChatRequest chat(JsonObject body, long timeoutMillis, Future<Void> cancelled) {
        return new ChatRequest("gen-test", "claude-upstream", body, CAP, timeoutMillis, cancelled);
    }

    private Future<ChatCompletion> complete(ChatRequest chat) {
        return onEventLoop(() -> endpoint.complete(chat));
    }

    private Future<StreamOutcome> stream(ChatRequest chat, RecordingChunkSink sink) {
        return onEventLoop(() -> endpoint.stream(chat, sink));
    }

    /** Endpoints are called on an event loop, as the router does. */
    private <T> Future<T> onEventLoop(Supplier<Future<T>> call) {
        Promise<T> result = Promise.promise();
        vertx.runOnContext(v -> call.get().onComplete(result));
        return result.future();
    }

    /** Each streamed tool call as "id name arguments", by its index. */
    private static Map<Integer, String> toolCalls(RecordingChunkSink sink) {
        Map<Integer, String> heads = new TreeMap<>();
        Map<Integer, StringBuilder> arguments = new TreeMap<>();
        for (JsonObject chunk : sink.chunks()) {
            JsonObject delta = chunk.getJsonArray("choices").getJsonObject(0).getJsonObject("delta");
            if (!(delta.getValue("tool_calls") instanceof JsonArray calls)) {
                continue;
            }
            for (Object item : calls) {
                JsonObject call = (JsonObject) item;
                int index = call.getInteger("index");
                JsonObject function = call.getJsonObject("function");
                if (call.getValue("id") instanceof String id) {
                    heads.put(index, id + " " + function.getString("name"));
                }
                arguments.computeIfAbsent(index, i -> new StringBuilder()).append(function.getString("arguments"));
            }
        }
        Map<Integer, String> calls = new TreeMap<>();
        heads.forEach((index, head) -> calls.put(index, head + " " + arguments.get(index)));
        return calls;
    }

    /** A stream that failed after output: the input from message_start, the forwarded text counted, estimated. */
    private static void assertDeliveredUsage(Throwable failure, RecordingChunkSink sink) {
        assertThat(failure).isInstanceOf(ProviderException.class);
        assertThat(((ProviderException) failure).usage())
                .isEqualTo(new Usage(INPUT, TOKENS.count(sink.content()), 0, 0, true, 0));
    }

    private static void assertProviderFailure(Throwable failure, Kind kind, int upstreamStatus) {
        assertThat(failure).isInstanceOf(ProviderException.class);
        ProviderException provider = (ProviderException) failure;
        assertThat(provider.kind()).as(provider.getMessage()).isEqualTo(kind);
        assertThat(provider.upstreamStatus()).isEqualTo(upstreamStatus);
    }
}
