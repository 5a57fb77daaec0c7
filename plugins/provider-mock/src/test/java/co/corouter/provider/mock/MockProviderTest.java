package co.corouter.provider.mock;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ChunkEncoder;
import co.corouter.plugin.api.ProviderContext;
import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.plugin.api.Usage;
import co.corouter.testkit.tck.RecordingChunkSink;
import co.corouter.testkit.tck.Tokens;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class MockProviderTest {

    private static final Future<Void> NEVER_CANCELLED = Promise.<Void>promise().future();

    private Vertx vertx;
    private Context context;

    @BeforeEach
    void setUp(Vertx vertx) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
    }

    @Test
    void theSameRequestAlwaysGetsTheSameAnswerStreamedOrWhole(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("completion_tokens", 40).put("chunk_count", 6));
        RecordingChunkSink sink = new RecordingChunkSink();
        Future.all(
                        complete(mock, request("mock-small", "Tell me about routers.", 100)),
                        complete(mock, request("mock-small", "Tell me about routers.", 100)),
                        complete(mock, request("mock-small", "Tell me about bridges.", 100)),
                        stream(mock, request("mock-small", "Tell me about routers.", 100), sink))
                .onComplete(testContext.succeeding(all -> testContext.verify(() -> {
                    String first = content(all.resultAt(0));
                    assertThat(first.split(" ")).hasSize(40);
                    assertThat(first).matches("[A-Z][a-z]*\\.?( [A-Za-z]+\\.?)*\\.");
                    assertThat(content(all.resultAt(1))).isEqualTo(first);
                    assertThat(content(all.resultAt(2))).isNotEqualTo(first);
                    assertThat(sink.content()).isEqualTo(first);
                    testContext.completeNow();
                })));
    }

    @Test
    void aWholeCompletionHasTheOpenAiShapeWithTheHostsIdAndTheUpstreamModel(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("completion_tokens", 5));
        complete(mock, request("mock-small", "Hi", 100))
                .onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
                    JsonObject body = completion.body();
                    assertThat(body.getString("id")).isEqualTo("gen-1");
                    assertThat(body.getString("object")).isEqualTo("chat.completion");
                    assertThat(body.getLong("created")).isCloseTo(System.currentTimeMillis() / 1000,
                            org.assertj.core.data.Offset.offset(5L));
                    assertThat(body.getString("model")).isEqualTo("mock-small");
                    JsonObject choice = body.getJsonArray("choices").getJsonObject(0);
                    assertThat(choice.getInteger("index")).isZero();
                    assertThat(choice.getJsonObject("message").getString("role")).isEqualTo("assistant");
                    assertThat(choice.getString("finish_reason")).isEqualTo("stop");
                    assertThat(completion.usage().completionTokens()).isEqualTo(5);
                    assertThat(completion.usage().estimated()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void promptTokensAreAQuarterOfTheMessageBytesPlusFourPerMessage(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject());
        // 6 UTF-8 bytes in "héllo" and 4 + 3 in the text parts: ceil(13 / 4) = 4, plus 4 for each message
        JsonArray messages = new JsonArray()
                .add(new JsonObject().put("role", "system").put("content", "héllo"))
                .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                        .add(new JsonObject().put("type", "text").put("text", "abcd"))
                        .add(new JsonObject().put("type", "image_url").put("image_url", "ignored"))
                        .add(new JsonObject().put("type", "text").put("text", "efg"))));
        complete(mock, request("mock-small", messages, 100))
                .onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
                    assertThat(completion.usage().promptTokens()).isEqualTo(4 + 2 * 4);
                    testContext.completeNow();
                })));
    }

    @Test
    void aFixedPromptTokenCountReplacesTheComputedOne(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("prompt_tokens", 1234));
        complete(mock, request("mock-small", "Hi", 100))
                .onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
                    assertThat(completion.usage().promptTokens()).isEqualTo(1234);
                    testContext.completeNow();
                })));
    }

    @Test
    void aStreamWaitsForTheConfiguredLatencyBeforeItsFirstWrite(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("latency_ms", 150));
        RecordingChunkSink sink = new RecordingChunkSink();
        AtomicLong firstWriteAt = new AtomicLong();
        sink.onWrite(written -> firstWriteAt.compareAndSet(0, System.nanoTime()));
        long startedAt = System.nanoTime();
        stream(mock, request("mock-small", "Hi", 100), sink)
                .onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
                    assertThat(TimeUnit.NANOSECONDS.toMillis(firstWriteAt.get() - startedAt))
                            .isGreaterThanOrEqualTo(150);
                    testContext.completeNow();
                })));
    }

    @Test
    void aWholeCompletionArrivesAfterTheConfiguredLatency(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("latency_ms", 150));
        long startedAt = System.nanoTime();
        complete(mock, request("mock-small", "Hi", 100))
                .onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
                    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt))
                            .isGreaterThanOrEqualTo(150);
                    testContext.completeNow();
                })));
    }

    @Test
    void aPacedStreamWritesChunkCountDeltasOnePerWrite(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject()
                .put("chunk_count", 5).put("chunk_interval_ms", 10).put("completion_tokens", 12));
        RecordingChunkSink sink = new RecordingChunkSink();
        long startedAt = System.nanoTime();
        stream(mock, request("mock-small", "Hi", 100), sink)
                .onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
                    assertThat(sink.writes()).isEqualTo(5);
                    assertThat(contentDeltas(sink)).hasSize(5)
                            .allSatisfy(delta -> assertThat(delta).isNotBlank());
                    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt))
                            .as("four intervals between five writes").isGreaterThanOrEqualTo(40);
                    List<JsonObject> chunks = sink.chunks();
                    assertThat(chunks).hasSize(1 + 5 + 1);
                    assertThat(chunks.get(0).getJsonArray("choices").getJsonObject(0).getJsonObject("delta"))
                            .isEqualTo(new JsonObject().put("role", "assistant").put("content", ""));
                    assertThat(chunks.get(6).getJsonArray("choices").getJsonObject(0).getString("finish_reason"))
                            .isEqualTo("stop");
                    assertThat(chunks).allSatisfy(chunk -> {
                        assertThat(chunk.getString("id")).isEqualTo("gen-1");
                        assertThat(chunk.getString("model")).isEqualTo("mock-small");
                    });
                    assertThat(outcome.usage().completionTokens()).isEqualTo(12);
                    assertThat(outcome.finishReason()).isEqualTo("stop");
                    testContext.completeNow();
                })));
    }

    @Test
    void aStreamIsPluginApiChunkEventsWithTheGenerationIdAndTheResponseModel(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("chunk_count", 3).put("completion_tokens", 6));
        RecordingChunkSink sink = new RecordingChunkSink();
        stream(mock, request("mock-small", "Hi", 100).responseModel("public/mock"), sink)
                .onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
                    List<JsonObject> chunks = sink.chunks();
                    assertThat(chunks).hasSize(1 + 3 + 1).allSatisfy(chunk -> {
                        assertThat(chunk.getString("id")).isEqualTo("gen-1");
                        assertThat(chunk.getString("model")).isEqualTo("public/mock");
                    });
                    // byte for byte what the encoder writes, role, deltas and finish, in one write
                    ChunkEncoder encoder = ChunkEncoder.of("gen-1", "public/mock", chunks.get(0).getLong("created"));
                    Buffer expected = encoder.role();
                    contentDeltas(sink).forEach(delta -> expected.appendBuffer(encoder.content(delta)));
                    expected.appendBuffer(encoder.finish("stop"));
                    assertThat(sink.text()).isEqualTo(expected.toString());
                    testContext.completeNow();
                })));
    }

    @Test
    void withoutAnIntervalTheWholeStreamGoesOutInOneWrite(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("chunk_count", 8));
        RecordingChunkSink sink = new RecordingChunkSink();
        stream(mock, request("mock-small", "Hi", 100), sink)
                .onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
                    assertThat(sink.writes()).isEqualTo(1);
                    assertThat(contentDeltas(sink)).hasSize(8);
                    testContext.completeNow();
                })));
    }

    @Test
    void aStreamNeverHasMoreDeltasThanTokens(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("chunk_count", 8).put("completion_tokens", 3));
        RecordingChunkSink sink = new RecordingChunkSink();
        stream(mock, request("mock-small", "Hi", 100), sink)
                .onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
                    assertThat(contentDeltas(sink)).hasSize(3).allSatisfy(delta -> assertThat(delta.trim())
                            .matches("[A-Za-z]+\\.?"));
                    testContext.completeNow();
                })));
    }

    @Test
    void maxTokensCutsTheAnswerShortWithFinishReasonLength(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("completion_tokens", 16).put("chunk_count", 4));
        RecordingChunkSink sink = new RecordingChunkSink();
        Future.all(
                        complete(mock, request("mock-small", "Hi", 5)),
                        stream(mock, request("mock-small", "Hi", 5), sink),
                        complete(mock, request("mock-small", "Hi", 16)))
                .onComplete(testContext.succeeding(all -> testContext.verify(() -> {
                    ChatCompletion capped = all.resultAt(0);
                    assertThat(capped.usage().completionTokens()).isEqualTo(5);
                    assertThat(content(capped).split(" ")).hasSize(5);
                    assertThat(capped.body().getJsonArray("choices").getJsonObject(0).getString("finish_reason"))
                            .isEqualTo("length");
                    StreamOutcome streamed = all.resultAt(1);
                    assertThat(streamed.finishReason()).isEqualTo("length");
                    assertThat(streamed.usage().completionTokens()).isEqualTo(5);
                    List<JsonObject> chunks = sink.chunks();
                    assertThat(chunks.get(chunks.size() - 1).getJsonArray("choices").getJsonObject(0)
                            .getString("finish_reason")).isEqualTo("length");
                    ChatCompletion exactlyEnough = all.resultAt(2);
                    assertThat(exactlyEnough.body().getJsonArray("choices").getJsonObject(0)
                            .getString("finish_reason")).isEqualTo("stop");
                    testContext.completeNow();
                })));
    }

    @Test
    void aFullSinkPausesTheStreamUntilItDrains(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("chunk_count", 6).put("chunk_interval_ms", 5));
        RecordingChunkSink sink = new RecordingChunkSink();
        sink.onWrite(written -> {
            if (sink.writes() == 2) {
                sink.simulateWriteQueueFull(true);
            }
        });
        Future<StreamOutcome> outcome = stream(mock, request("mock-small", "Hi", 100), sink);
        vertx.timer(100)
                .compose(paused -> {
                    testContext.verify(() -> {
                        assertThat(sink.writes()).as("writes while the sink was full").isEqualTo(2);
                        assertThat(sink.awaitingDrain()).isTrue();
                        assertThat(outcome.isComplete()).isFalse();
                    });
                    sink.simulateWriteQueueFull(false);
                    return outcome;
                })
                .onComplete(testContext.succeeding(done -> testContext.verify(() -> {
                    assertThat(sink.writes()).isEqualTo(6);
                    assertThat(sink.writesWhileFull()).isZero();
                    testContext.completeNow();
                })));
    }

    @Test
    void cancellingAStreamStopsItsTimersAndFailsItAsCancelled(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("chunk_count", 8).put("chunk_interval_ms", 20));
        Promise<Void> cancel = Promise.promise();
        RecordingChunkSink sink = new RecordingChunkSink();
        sink.onWrite(written -> {
            if (sink.writes() == 2) {
                context.runOnContext(v -> cancel.complete());
            }
        });
        // the quiet period shows that no timer of the stream fires after its cancellation
        stream(mock, request("mock-small", "Hi", 100, cancel.future()), sink)
                .onComplete(testContext.failing(failure -> vertx.timer(100)
                        .onComplete(quiet -> testContext.verify(() -> {
                            assertThat(failure).isInstanceOf(ProviderException.class);
                            assertThat(((ProviderException) failure).kind()).isEqualTo(Kind.CANCELLED);
                            assertThat(((ProviderException) failure).usage()).as("what the two writes delivered")
                                    .isNotNull();
                            assertThat(sink.writes()).isEqualTo(2);
                            testContext.completeNow();
                        }))));
    }

    @Test
    void aStreamLongerThanTheRequestBudgetFailsWithTimeout(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("latency_ms", 10_000));
        ChatRequest request = new ChatRequest("gen-1", "mock-small", body("mock-small", "Hi"), 100, 50,
                NEVER_CANCELLED);
        long startedAt = System.nanoTime();
        RecordingChunkSink sink = new RecordingChunkSink();
        stream(mock, request, sink).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertThat(failure).isInstanceOf(ProviderException.class);
            assertThat(((ProviderException) failure).kind()).isEqualTo(ProviderException.Kind.TIMEOUT);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt)).isBetween(50L, 5_000L);
            assertThat(sink.started()).isFalse();
            testContext.completeNow();
        })));
    }

    @Test
    void aModelNamedErrorFailsWithAnUpstreamErrorBeforeAnyOutput(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject());
        RecordingChunkSink sink = new RecordingChunkSink();
        stream(mock, request("mock-error", "Hi", 100), sink)
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertThat(failure).isInstanceOf(ProviderException.class);
                    assertThat(((ProviderException) failure).kind())
                            .isEqualTo(ProviderException.Kind.UPSTREAM_ERROR);
                    assertThat(((ProviderException) failure).upstreamStatus()).isEqualTo(500);
                    assertThat(sink.started()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void aModelNamedErrorMidstreamFailsAfterHalfTheDeltasWithoutAFinishChunk(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("chunk_count", 8).put("chunk_interval_ms", 2));
        RecordingChunkSink sink = new RecordingChunkSink();
        stream(mock, request("mock-error-midstream", "Hi", 100), sink)
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertThat(((ProviderException) failure).kind())
                            .isEqualTo(ProviderException.Kind.UPSTREAM_ERROR);
                    assertThat(sink.writes()).isEqualTo(4);
                    assertThat(contentDeltas(sink)).hasSize(4);
                    assertThat(sink.chunks()).noneSatisfy(chunk -> assertThat(
                            chunk.getJsonArray("choices").getJsonObject(0).getString("finish_reason")).isNotNull());
                    testContext.completeNow();
                })));
    }

    @Test
    void aModelNamedRateLimitedFailsAsRateLimitedAskingForOneSecondBeforeAnyOutput(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("latency_ms", 5));
        RecordingChunkSink sink = new RecordingChunkSink();
        Future<StreamOutcome> streamed = stream(mock, request("mock-rate-limited", "Hi", 100), sink);
        Future<ChatCompletion> whole = complete(mock, request("mock-rate-limited", "Hi", 100));
        Future.join(streamed, whole).onComplete(all -> testContext.verify(() -> {
            for (Future<?> call : List.of(streamed, whole)) {
                ProviderException failure = (ProviderException) call.cause();
                assertThat(failure.kind()).isEqualTo(Kind.RATE_LIMITED);
                assertThat(failure.upstreamStatus()).isEqualTo(429);
                assertThat(failure.retryAfterMillis()).isEqualTo(1_000);
                assertThat(failure.usage()).isNull();
            }
            assertThat(sink.started()).isFalse();
            testContext.completeNow();
        }));
    }

    @Test
    void aModelNamedOverloadedFailsAsOverloadedBeforeAnyOutput(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject());
        RecordingChunkSink sink = new RecordingChunkSink();
        Future<StreamOutcome> streamed = stream(mock, request("mock-overloaded", "Hi", 100), sink);
        Future<ChatCompletion> whole = complete(mock, request("mock-overloaded", "Hi", 100));
        Future.join(streamed, whole).onComplete(all -> testContext.verify(() -> {
            for (Future<?> call : List.of(streamed, whole)) {
                assertThat(((ProviderException) call.cause()).kind()).isEqualTo(Kind.OVERLOADED);
                assertThat(((ProviderException) call.cause()).retryAfterMillis()).isEqualTo(-1);
            }
            assertThat(sink.started()).isFalse();
            testContext.completeNow();
        }));
    }

    @Test
    void aModelNamedHangNeverAnswersSoTheFirstByteLimitEndsIt(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject());
        RecordingChunkSink sink = new RecordingChunkSink();
        long startedAt = System.nanoTime();
        stream(mock, request("mock-hang", "Hi", 100).timeouts(150, 0), sink)
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertThat(((ProviderException) failure).kind()).isEqualTo(Kind.TIMEOUT);
                    assertThat(failure.getMessage()).contains("150 ms");
                    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt)).isBetween(150L, 5_000L);
                    assertThat(sink.started()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void aHangingCallEndsWhenTheHostCancelsIt(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject());
        Promise<Void> cancel = Promise.promise();
        complete(mock, request("mock-hang", "Hi", 100, cancel.future()))
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertThat(((ProviderException) failure).kind()).isEqualTo(Kind.CANCELLED);
                    testContext.completeNow();
                })));
        vertx.setTimer(50, id -> cancel.complete());
    }

    @Test
    void aLatencyBeyondTheFirstByteLimitFailsWithTimeoutAtTheLimit(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("latency_ms", 10_000));
        long startedAt = System.nanoTime();
        complete(mock, request("mock-small", "Hi", 100).timeouts(100, 0))
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertThat(((ProviderException) failure).kind()).isEqualTo(Kind.TIMEOUT);
                    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt)).isBetween(100L, 5_000L);
                    testContext.completeNow();
                })));
    }

    @Test
    void aChunkIntervalBeyondTheIdleLimitFailsMidStreamWithWhatWasDelivered(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("chunk_count", 4).put("chunk_interval_ms", 2_000)
                .put("completion_tokens", 8));
        RecordingChunkSink sink = new RecordingChunkSink();
        long startedAt = System.nanoTime();
        stream(mock, request("mock-small", "Hi", 100).timeouts(0, 100), sink)
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    ProviderException error = (ProviderException) failure;
                    assertThat(error.kind()).isEqualTo(Kind.TIMEOUT);
                    assertThat(error.getMessage()).contains("100 ms");
                    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt)).isBetween(100L, 1_900L);
                    assertThat(sink.writes()).isEqualTo(1);
                    assertThat(error.usage()).as("one of four deltas: 2 of 8 tokens, estimated")
                            .isEqualTo(new Usage(error.usage().promptTokens(), 2, 0, 0, true));
                    testContext.completeNow();
                })));
    }

    @Test
    void aPacedStreamWithinItsLimitsIsNotCutByThem(VertxTestContext testContext) {
        ProviderEndpoint mock = endpoint(new JsonObject().put("latency_ms", 20).put("chunk_count", 5)
                .put("chunk_interval_ms", 40));
        RecordingChunkSink sink = new RecordingChunkSink();
        stream(mock, request("mock-small", "Hi", 100).timeouts(100, 100), sink)
                .onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
                    assertThat(sink.writes()).as("about 180 ms in all, longer than either limit").isEqualTo(5);
                    assertThat(outcome.finishReason()).isEqualTo("stop");
                    testContext.completeNow();
                })));
    }

    @Test
    void theMockProviderIsIndexedAsAPf4jExtensionOfTypeMock() throws IOException {
        assertThat(new MockProvider().type()).isEqualTo("mock");
        // test compilation writes an empty index of its own, so look at every index on the class path
        StringBuilder indexes = new StringBuilder();
        Enumeration<URL> found = MockProvider.class.getClassLoader().getResources("META-INF/extensions.idx");
        while (found.hasMoreElements()) {
            try (InputStream index = found.nextElement().openStream()) {
                indexes.append(new String(index.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        assertThat(indexes.toString().lines()).contains(MockProvider.class.getName());
    }

    private ProviderEndpoint endpoint(JsonObject config) {
        return new MockProvider().create(new ProviderContext(vertx, "mock", name -> null, Tokens.counter()), config);
    }

    private Future<ChatCompletion> complete(ProviderEndpoint endpoint, ChatRequest request) {
        return onEventLoop(() -> endpoint.complete(request));
    }

    private Future<StreamOutcome> stream(ProviderEndpoint endpoint, ChatRequest request, RecordingChunkSink sink) {
        return onEventLoop(() -> endpoint.stream(request, sink));
    }

    private <T> Future<T> onEventLoop(Supplier<Future<T>> call) {
        Promise<T> result = Promise.promise();
        context.runOnContext(v -> call.get().onComplete(result));
        return result.future();
    }

    private static ChatRequest request(String model, String userMessage, int maxTokens) {
        return request(model, userMessage, maxTokens, NEVER_CANCELLED);
    }

    private static ChatRequest request(String model, String userMessage, int maxTokens, Future<Void> cancelled) {
        return new ChatRequest("gen-1", model, body(model, userMessage), maxTokens, 20_000, cancelled);
    }

    private static ChatRequest request(String model, JsonArray messages, int maxTokens) {
        return new ChatRequest("gen-1", model, new JsonObject().put("model", model).put("messages", messages),
                maxTokens, 20_000, NEVER_CANCELLED);
    }

    private static JsonObject body(String model, String userMessage) {
        return new JsonObject().put("model", model).put("messages", new JsonArray()
                .add(new JsonObject().put("role", "user").put("content", userMessage)));
    }

    private static String content(ChatCompletion completion) {
        return completion.body().getJsonArray("choices").getJsonObject(0).getJsonObject("message")
                .getString("content");
    }

    private static List<String> contentDeltas(RecordingChunkSink sink) {
        return sink.chunks().stream()
                .map(chunk -> chunk.getJsonArray("choices").getJsonObject(0).getJsonObject("delta"))
                .filter(delta -> !delta.containsKey("role") && delta.containsKey("content"))
                .map(delta -> delta.getString("content"))
                .toList();
    }
}
