package co.corouter.provider.openai;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ProviderContext;
import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import co.corouter.testkit.tck.Tokens;
import co.corouter.testkit.upstream.Behaviour;
import co.corouter.testkit.upstream.FakeOpenAiUpstream;
import co.corouter.testkit.upstream.FakeOpenAiUpstreamExtension;
import co.corouter.testkit.upstream.RecordedRequest;
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

import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class OpenAiEndpointTest {

    @RegisterExtension
    static final FakeOpenAiUpstreamExtension UPSTREAM = new FakeOpenAiUpstreamExtension();

    private static final String CONTENT = "The quick brown fox jumps over the lazy dog.";
    private static final String PROMPT = "Say something about foxes.";
    /** {@code CONTENT} in o200k tokens (characters / 4 would say 11). */
    private static final int CONTENT_TOKENS = 10;
    private static final TokenCounter TOKENS = Tokens.counter();
    private static final int CAP = 100;
    private static final long BUDGET_MS = 5_000;

    private FakeOpenAiUpstream upstream;
    private ProviderEndpoint endpoint;
    private Vertx vertx;

    @BeforeEach
    void createEndpoint(Vertx vertx) {
        this.vertx = vertx;
        upstream = UPSTREAM.upstream().requireApiKey("sk-test");
        endpoint = endpoint(new JsonObject()
                .put("base_url", upstream.baseUrl())
                .put("api_key_env", "FAKE_KEY")
                .put("headers", new JsonObject().put("OpenAI-Organization", "org-test")));
    }

    @AfterEach
    void closeEndpoint(VertxTestContext testContext) {
        endpoint.close().onComplete(testContext.succeedingThenComplete());
    }

    // ---- whole completions ----

    @Test
    void completesAndReportsTheUpstreamUsage(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().promptTokens(7).completionTokens(12));

        complete(chat(body())).onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
            assertThat(completion.usage()).isEqualTo(Usage.of(7, 12));
            assertThat(completion.raw()).as("handed on as the upstream's bytes").isNotNull();
            assertThat(completion.finishReason()).isEqualTo("stop");
            assertThat(completion.parsed().getJsonArray("choices").getJsonObject(0)
                    .getJsonObject("message").getString("content")).isEqualTo(CONTENT);
            assertThat(upstream.requestCount()).isEqualTo(1);
            testContext.completeNow();
        })));
    }

    @Test
    void sendsTheApiKeyAsBearerRewritesTheModelAndCapsMaxTokens(VertxTestContext testContext) {
        JsonObject body = body().put("max_tokens", 5_000).put("provider", new JsonObject().put("sort", "price"))
                .put("stream_options", new JsonObject().put("include_usage", true));

        complete(chat(body)).onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
            RecordedRequest seen = upstream.lastRequest();
            assertThat(seen.path()).isEqualTo("/v1/chat/completions");
            assertThat(seen.authorization()).isEqualTo("Bearer sk-test");
            assertThat(seen.header("OpenAI-Organization")).isEqualTo("org-test");
            JsonObject sent = seen.body();
            assertThat(sent.getString("model")).isEqualTo("upstream-model");
            assertThat(sent.getInteger("max_tokens")).isEqualTo(CAP);
            assertThat(sent.getBoolean("stream")).isFalse();
            assertThat(sent.containsKey("stream_options")).as("rejected by OpenAI without stream").isFalse();
            assertThat(sent.containsKey("provider")).as("OpenRouter-only field").isFalse();
            assertThat(sent.getJsonArray("messages")).isEqualTo(body.getJsonArray("messages"));
            assertThat(body.getString("model")).as("the client's body is left alone").isEqualTo("public/model");
            testContext.completeNow();
        })));
    }

    @Test
    void addsMaxTokensWhenTheClientGaveNone(VertxTestContext testContext) {
        complete(chat(body())).onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
            assertThat(upstream.lastRequest().body().getInteger("max_tokens")).isEqualTo(CAP);
            assertThat(completion.usage().completionTokens()).as("the fake answers max_tokens").isEqualTo(CAP);
            testContext.completeNow();
        })));
    }

    @Test
    void capsMaxCompletionTokensWithoutAddingMaxTokens(VertxTestContext testContext) {
        complete(chat(body().put("max_completion_tokens", 40_000)))
                .onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
                    JsonObject sent = upstream.lastRequest().body();
                    assertThat(sent.getInteger("max_completion_tokens")).isEqualTo(CAP);
                    assertThat(sent.containsKey("max_tokens")).isFalse();
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
        upstream.behave(Behaviour.normal().omitUsage());

        complete(chat(body())).onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
            assertThat(TOKENS.count(CONTENT)).isEqualTo(CONTENT_TOKENS);
            assertThat(completion.usage()).as("the host counts the prompt")
                    .isEqualTo(Usage.estimatedCompletion(CONTENT_TOKENS));
            testContext.completeNow();
        })));
    }

    @Test
    void mapsAnUpstream400ToBadRequestWithoutEchoingTheUpstreamMessage(VertxTestContext testContext) {
        upstream.behave(Behaviour.error(400).errorType("invalid_request_error", "context_length_exceeded")
                .errorMessage("Your prompt '" + PROMPT + "' is too long"));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.BAD_REQUEST, 400);
            assertThat(failure.getMessage()).contains("context_length_exceeded").doesNotContain("foxes");
            testContext.completeNow();
        })));
    }

    @ParameterizedTest(name = "HTTP {0} is {1}")
    @CsvSource({"400, BAD_REQUEST", "401, AUTH", "403, AUTH", "404, BAD_REQUEST", "408, TIMEOUT",
            "409, UPSTREAM_ERROR", "422, BAD_REQUEST", "429, RATE_LIMITED", "500, UPSTREAM_ERROR",
            "502, UPSTREAM_ERROR", "503, OVERLOADED", "504, UPSTREAM_ERROR", "529, OVERLOADED"})
    void mapsEachErrorStatusToTheKindTheHostFailsOverOn(int status, Kind kind, VertxTestContext testContext) {
        upstream.behave(Behaviour.error(status).errorMessage("echo of " + PROMPT));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, kind, status);
            assertThat(failure.getMessage()).contains(String.valueOf(status)).doesNotContain("foxes");
            assertThat(upstream.requestCount()).as("no retries inside the provider").isEqualTo(1);
            testContext.completeNow();
        })));
    }

    @Test
    void mapsAWrongApiKeyToAuth(VertxTestContext testContext) {
        upstream.requireApiKey("sk-other");

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.AUTH, 401);
            assertThat(failure.getMessage()).doesNotContain("sk-test");
            testContext.completeNow();
        })));
    }

    @Test
    void aRateLimitedAnswerCarriesTheWaitFromRetryAfter(VertxTestContext testContext) {
        upstream.behave(Behaviour.error(429).header("Retry-After", "2").errorMessage("echo of " + PROMPT));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.RATE_LIMITED, 429);
            assertThat(((ProviderException) failure).retryAfterMillis()).isEqualTo(2_000);
            assertThat(failure.getMessage()).contains("rate_limit_exceeded").doesNotContain("foxes");
            testContext.completeNow();
        })));
    }

    @Test
    void aRateLimitedAnswerWithoutRetryAfterCarriesOpenAisResetOfTheExhaustedLimit(VertxTestContext testContext) {
        upstream.behave(Behaviour.error(429).withoutHeader("Retry-After")
                .header("x-ratelimit-remaining-requests", "0").header("x-ratelimit-reset-requests", "1.5s")
                .header("x-ratelimit-remaining-tokens", "9000").header("x-ratelimit-reset-tokens", "6m0s"));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.RATE_LIMITED, 429);
            assertThat(((ProviderException) failure).retryAfterMillis()).isEqualTo(1_500);
            testContext.completeNow();
        })));
    }

    @Test
    void aRateLimitedAnswerThatNamesNoWaitCarriesMinusOne(VertxTestContext testContext) {
        upstream.behave(Behaviour.error(429).withoutHeader("Retry-After").withoutHeader("x-ratelimit-reset-requests"));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.RATE_LIMITED, 429);
            assertThat(((ProviderException) failure).retryAfterMillis()).isEqualTo(-1);
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithTimeoutWhenTheHeadDoesNotArriveWithinTheFirstByteLimit(VertxTestContext testContext) {
        upstream.behave(Behaviour.hang());
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
    void aWholeCompletionAnsweredWithinTheFirstByteLimitIsNotCutByTheIdleLimit(VertxTestContext testContext) {
        // the idle limit is about gaps between stream reads; a whole body is read in one piece
        upstream.behave(Behaviour.normal().delayMs(50));

        complete(chat(body()).timeouts(200, 1)).onComplete(testContext.succeeding(completion ->
                testContext.verify(() -> {
                    assertThat(completion.finishReason()).isEqualTo("stop");
                    testContext.completeNow();
                })));
    }

    @Test
    void timesOutWithinTheBudgetWhenTheUpstreamHangsAndFreesTheConnection(VertxTestContext testContext) {
        upstream.behave(Behaviour.hang());
        long started = System.nanoTime();

        complete(chat(body(), 300, Promise.<Void>promise().future()))
                .transform(result -> {
                    Throwable failure = result.cause();
                    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                    testContext.verify(() -> {
                        assertProviderFailure(failure, Kind.TIMEOUT, 0);
                        assertThat(elapsedMs).isBetween(290L, 2_000L);
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void failsWithBadResponseOnAnUnparseableBody(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().malformedBody());

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.BAD_RESPONSE, 200);
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithBadResponseWhenChoicesAreMissing(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().missingChoices());

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.BAD_RESPONSE, 200);
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithUpstreamErrorWhenTheConnectionDropsBeforeAnAnswer(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().resetAfter(0));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.UPSTREAM_ERROR, 0);
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithUpstreamErrorWhenNothingListens(VertxTestContext testContext) {
        endpoint = endpoint(new JsonObject().put("base_url", "http://127.0.0.1:1/v1"));

        complete(chat(body())).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.UPSTREAM_ERROR, 0);
            testContext.completeNow();
        })));
    }

    @Test
    void resetsTheUpstreamRequestAndFailsAsCancelledWhenTheHostCancelsAWholeCompletion(
            VertxTestContext testContext) {
        upstream.behave(Behaviour.hang());
        Promise<Void> cancelled = Promise.promise();

        complete(chat(body(), BUDGET_MS, cancelled.future()))
                .transform(failed -> {
                    testContext.verify(() -> assertProviderFailure(failed.cause(), Kind.CANCELLED, 0));
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
    void streamsEveryChunkAndReportsUsage(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().chunks(5).intervalMs(5).promptTokens(7).completionTokens(12));
        RecordingSink sink = new RecordingSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(outcome).isEqualTo(new StreamOutcome(Usage.of(7, 12), "stop"));
            assertThat(sink.dataPayloads()).hasSize(1 + 5 + 1).doesNotContain("[DONE]");
            assertThat(sink.chunks()).allSatisfy(chunk -> {
                assertThat(chunk.getJsonArray("choices")).as("no usage-only chunk").isNotEmpty();
                assertThat(chunk.getValue("usage")).isNull();
            });
            assertThat(sink.content()).isEqualTo(CONTENT);
            JsonObject sent = upstream.lastRequest().body();
            assertThat(sent.getString("model")).isEqualTo("upstream-model");
            assertThat(sent.getBoolean("stream")).isTrue();
            assertThat(sent.getJsonObject("stream_options").getBoolean("include_usage")).isTrue();
            assertThat(sent.getInteger("max_tokens")).isEqualTo(CAP);
            testContext.completeNow();
        })));
    }

    @Test
    void everyStreamedEventCarriesTheGenerationIdAndTheResponseModel(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().chunks(5).intervalMs(2).keepAliveComments().crlf());
        RecordingSink sink = new RecordingSink();

        stream(chat(body()).responseModel("public/model"), sink)
                .onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
                    assertThat(sink.text()).as("the fake's own id and model").doesNotContain("chatcmpl-fake")
                            .doesNotContain("upstream-model");
                    assertThat(sink.chunks()).hasSize(1 + 5 + 1).allSatisfy(chunk -> {
                        assertThat(chunk.getString("id")).isEqualTo("gen-test");
                        assertThat(chunk.getString("model")).isEqualTo("public/model");
                        assertThat(chunk.getString("system_fingerprint")).as("the rest as it came")
                                .isEqualTo("fp_fake");
                    });
                    assertThat(sink.content()).isEqualTo(CONTENT);
                    testContext.completeNow();
                })));
    }

    @Test
    void writesEverythingOneReadDeliveredInOneSinkWrite(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().burst());
        RecordingSink sink = new RecordingSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(sink.writes()).hasSize(1);
            assertThat(sink.dataPayloads()).hasSize(1 + 4 + 1);
            assertThat(sink.content()).isEqualTo(CONTENT);
            assertThat(outcome.usage().estimated()).isFalse();
            testContext.completeNow();
        })));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 64})
    void reassemblesEventsSplitAcrossReads(int fragmentBytes, VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().fragments(fragmentBytes).intervalMs(1).completionTokens(12));
        RecordingSink sink = new RecordingSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(sink.writes()).allSatisfy(write -> assertThat(write.toString()).endsWith("\n\n"));
            assertThat(sink.content()).isEqualTo(CONTENT);
            assertThat(outcome.usage().completionTokens()).isEqualTo(12);
            testContext.completeNow();
        })));
    }

    @Test
    void handlesCrlfLineEndingsAndDropsKeepAliveComments(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().crlf().keepAliveComments().fragments(5).completionTokens(12));
        RecordingSink sink = new RecordingSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(sink.text()).doesNotContain(": keep-alive");
            assertThat(sink.content()).isEqualTo(CONTENT);
            assertThat(outcome).isEqualTo(new StreamOutcome(Usage.of(5, 12), "stop"));
            testContext.completeNow();
        })));
    }

    @Test
    void removesUsageFromAChunkThatAlsoCarriesChoices(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().usageOnFinishChunk().finishReason("length").completionTokens(9));
        RecordingSink sink = new RecordingSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(outcome).isEqualTo(new StreamOutcome(Usage.of(5, 9), "length"));
            assertThat(sink.chunks()).hasSize(6).allSatisfy(chunk -> assertThat(chunk.getValue("usage")).isNull());
            JsonObject last = sink.chunks().get(5);
            assertThat(last.getJsonArray("choices").getJsonObject(0).getString("finish_reason")).isEqualTo("length");
            assertThat(last.getString("id")).as("the re-encoded chunk is stamped too").isEqualTo("gen-test");
            assertThat(last.getString("model")).isEqualTo("upstream-model");
            testContext.completeNow();
        })));
    }

    @Test
    void countsTheForwardedContentWhenTheUpstreamEndsAStreamWithoutUsage(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().omitUsage().chunks(6));
        RecordingSink sink = new RecordingSink();

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(sink.content()).isEqualTo(CONTENT);
            assertThat(outcome.usage()).isEqualTo(Usage.estimatedCompletion(CONTENT_TOKENS));
            assertThat(outcome.finishReason()).isEqualTo("stop");
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithUpstreamErrorAfterForwardingTheChunksSentBeforeAReset(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().chunks(10).intervalMs(5).resetAfter(3));
        RecordingSink sink = new RecordingSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.UPSTREAM_ERROR, 0);
            assertThat(sink.dataPayloads()).hasSize(3);
            assertDeliveredUsage(failure, sink);
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithBadResponseOnAMalformedChunkAfterForwardingTheValidOnesOfTheSameRead(
            VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().burst().malformedChunkAfter(2));
        RecordingSink sink = new RecordingSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.BAD_RESPONSE, 0);
            assertThat(sink.writes()).hasSize(1);
            assertThat(sink.dataPayloads()).hasSize(2);
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithUpstreamErrorOnAnErrorEventMidStream(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().intervalMs(2).errorEventAfter(3)
                .errorType("server_error", "overloaded").errorMessage("echo of " + PROMPT));
        RecordingSink sink = new RecordingSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.UPSTREAM_ERROR, 0);
            assertThat(failure.getMessage()).contains("overloaded").doesNotContain("foxes");
            assertThat(sink.dataPayloads()).hasSize(3);
            assertDeliveredUsage(failure, sink);
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithUpstreamErrorWhenTheStreamEndsWithoutDone(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().endAfter(4));
        RecordingSink sink = new RecordingSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.UPSTREAM_ERROR, 200);
            assertThat(sink.dataPayloads()).hasSize(4);
            assertDeliveredUsage(failure, sink);
            testContext.completeNow();
        })));
    }

    @Test
    void mapsAnErrorStatusBeforeTheStreamAndWritesNothing(VertxTestContext testContext) {
        upstream.behave(Behaviour.error(429));
        RecordingSink sink = new RecordingSink();

        stream(chat(body()), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.RATE_LIMITED, 429);
            assertThat(((ProviderException) failure).retryAfterMillis()).as("the fake's Retry-After: 1")
                    .isEqualTo(1_000);
            assertThat(failure.getMessage()).contains("rate_limit_exceeded");
            assertThat(sink.started()).isFalse();
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithTimeoutWhenTheStreamsHeadDoesNotArriveWithinTheFirstByteLimit(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().delayMs(3_000));
        RecordingSink sink = new RecordingSink();
        long started = System.nanoTime();

        stream(chat(body()).timeouts(300, 0), sink)
                .transform(result -> {
                    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                    testContext.verify(() -> {
                        assertProviderFailure(result.cause(), Kind.TIMEOUT, 0);
                        assertThat(((ProviderException) result.cause()).usage()).as("nothing delivered").isNull();
                        assertThat(elapsedMs).isBetween(290L, 2_000L);
                        assertThat(sink.started()).isFalse();
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void theFirstByteWaitOfAStreamLastsUntilItsFirstEventNotItsHead(VertxTestContext testContext) {
        // the head (200, text/event-stream) and then nothing: no event a client could be sent yet
        upstream.behave(Behaviour.normal().stallAfter(0));
        RecordingSink sink = new RecordingSink();
        long started = System.nanoTime();

        stream(chat(body()).timeouts(300, 0), sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertProviderFailure(failure, Kind.TIMEOUT, 0);
            assertThat((System.nanoTime() - started) / 1_000_000).isBetween(290L, 2_000L);
            assertThat(sink.started()).isFalse();
            testContext.completeNow();
        })));
    }

    @Test
    void failsWithTimeoutAndTheDeliveredUsageWhenTheStreamIsSilentLongerThanTheIdleLimit(
            VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().chunks(10).intervalMs(5).stallAfter(3));
        RecordingSink sink = new RecordingSink();
        long started = System.nanoTime();

        stream(chat(body()).timeouts(0, 300), sink)
                .transform(result -> {
                    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                    testContext.verify(() -> {
                        assertProviderFailure(result.cause(), Kind.TIMEOUT, 0);
                        assertThat(result.cause().getMessage()).contains("300 ms");
                        assertThat(sink.dataPayloads()).hasSize(3);
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
        // 9 writes 60 ms apart: about 500 ms in all, no gap near the 250 ms limits
        upstream.behave(Behaviour.normal().chunks(6).intervalMs(60).completionTokens(12));
        RecordingSink sink = new RecordingSink();
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
    void timesOutWhenTheStreamStallsMidWay(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().stallAfter(2));
        RecordingSink sink = new RecordingSink();

        stream(chat(body(), 300, Promise.<Void>promise().future()), sink)
                .transform(result -> {
                    Throwable failure = result.cause();
                    testContext.verify(() -> {
                        assertProviderFailure(failure, Kind.TIMEOUT, 0);
                        assertThat(sink.dataPayloads()).hasSize(2);
                        assertDeliveredUsage(failure, sink);
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void resetsTheUpstreamRequestWhenTheClientCancelsAStream(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().chunks(200).intervalMs(10));
        Promise<Void> cancelled = Promise.promise();
        // cancelled inside the first write: the failure must already bill what that write carried
        RecordingSink sink = new RecordingSink().onWrite(write -> cancelled.tryComplete());

        stream(chat(body(), BUDGET_MS, cancelled.future()), sink)
                .transform(result -> {
                    Throwable failure = result.cause();
                    testContext.verify(() -> {
                        assertProviderFailure(failure, Kind.CANCELLED, 0);
                        assertDeliveredUsage(failure, sink);
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(sink.dataPayloads().size()).isLessThan(10);
                    testContext.completeNow();
                })));
    }

    @Test
    void aStreamCancelledAfterFiveOneTokenDeltasReportsFiveCompletionTokens(VertxTestContext testContext) {
        // the role chunk and 5 deltas of " hello", then the upstream goes quiet until the cancel resets it
        upstream.behave(Behaviour.normal().content(" hello".repeat(40)).chunks(40).stallAfter(6));
        Promise<Void> cancelled = Promise.promise();
        RecordingSink sink = new RecordingSink();
        sink.onWrite(write -> {
            if (sink.content().equals(" hello".repeat(5))) {
                vertx.runOnContext(v -> cancelled.tryComplete()); // as the host does, on a later turn
            }
        });

        stream(chat(body(), BUDGET_MS, cancelled.future()), sink)
                .transform(result -> {
                    Throwable failure = result.cause();
                    testContext.verify(() -> {
                        assertThat(failure).isInstanceOf(ProviderException.class);
                        assertThat(((ProviderException) failure).usage()).isEqualTo(Usage.estimatedCompletion(5));
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
        upstream.behave(Behaviour.normal().chunks(20).intervalMs(2));
        RecordingSink sink = new RecordingSink().full(true);

        stream(chat(body()), sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            assertThat(sink.dataPayloads()).hasSize(1 + 20 + 1);
            testContext.completeNow();
        })));
        // 20 chunks 2 ms apart are all sent within 200 ms; a paused relay still wrote only the first read
        vertx.setTimer(200, id -> testContext.verify(() -> {
            assertThat(sink.writes()).hasSize(1);
            assertThat(sink.drainHandlerSet()).isTrue();
            sink.drain();
        }));
    }

    // ---- helpers ----

    private ProviderEndpoint endpoint(JsonObject config) {
        ProviderContext context = new ProviderContext(vertx, "test",
                name -> "FAKE_KEY".equals(name) ? "sk-test" : null, TOKENS);
        return new OpenAiProvider().create(context, config);
    }

    private static JsonObject body() {
        return new JsonObject()
                .put("model", "public/model")
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", PROMPT)));
    }

    private static ChatRequest chat(JsonObject body) {
        return chat(body, BUDGET_MS, Promise.<Void>promise().future());
    }

    private static ChatRequest chat(JsonObject body, long timeoutMillis, Future<Void> cancelled) {
        return new ChatRequest("gen-test", "upstream-model", body, CAP, timeoutMillis, cancelled);
    }

    private Future<ChatCompletion> complete(ChatRequest chat) {
        return onEventLoop(() -> endpoint.complete(chat));
    }

    private Future<StreamOutcome> stream(ChatRequest chat, RecordingSink sink) {
        return onEventLoop(() -> endpoint.stream(chat, sink));
    }

    /** Endpoints are called on an event loop, as the router does. */
    private <T> Future<T> onEventLoop(Supplier<Future<T>> call) {
        Promise<T> result = Promise.promise();
        vertx.runOnContext(v -> call.get().onComplete(result));
        return result.future();
    }

    /** A stream that failed after output carries the forwarded content, counted, with the prompt left to the host. */
    private static void assertDeliveredUsage(Throwable failure, RecordingSink sink) {
        assertThat(failure).isInstanceOf(ProviderException.class);
        assertThat(((ProviderException) failure).usage())
                .isEqualTo(Usage.estimatedCompletion(TOKENS.count(sink.content())));
    }

    private static void assertProviderFailure(Throwable failure, Kind kind, int upstreamStatus) {
        assertThat(failure).isInstanceOf(ProviderException.class);
        ProviderException provider = (ProviderException) failure;
        assertThat(provider.kind()).as(provider.getMessage()).isEqualTo(kind);
        assertThat(provider.upstreamStatus()).isEqualTo(upstreamStatus);
    }
}
