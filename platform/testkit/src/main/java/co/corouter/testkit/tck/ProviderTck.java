package co.corouter.testkit.tck;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ChunkSink;
import co.corouter.plugin.api.ProviderContext;
import co.corouter.plugin.api.ProviderContext.SecretResolver;
import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.plugin.api.Usage;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.Timeout;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The provider technology compatibility kit: checks a {@link ProviderEndpoint} against the plugin contract.
 * Extend it in your plugin's tests with plugin-api and testkit on the classpath:
 *
 * <pre>
 * class MyProviderTckTest extends ProviderTck {
 *     protected ProviderEndpoint endpoint(Vertx vertx) {
 *         return new MyProvider().create(providerContext(vertx, "tck", name -&gt; "key"), config);
 *     }
 *     protected String upstreamModel() { return "my-model"; }
 * }
 * </pre>
 *
 * <p>{@link #endpoint} is called at the start of each test, after the subclass's own {@code @BeforeEach}
 * methods, so an endpoint that talks to a fake upstream can start it there. The endpoint is closed after
 * each test. Every endpoint call is made on one event-loop context, as the host does.
 *
 * <p>Streaming tests need a stream that writes at least once; the cancellation and back-pressure tests are
 * only meaningful when the stream spans several writes (a provider that writes everything at once passes
 * them trivially). Tests needing an upstream failure are skipped unless {@link #failingUpstreamModel()}
 * names a model that fails; likewise the time-limit tests need {@link #hangingUpstreamModel()} and the rate-limit
 * tests {@link #rateLimitedUpstreamModel()}.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 30, timeUnit = TimeUnit.SECONDS)
public abstract class ProviderTck {

    private final AtomicInteger generations = new AtomicInteger();
    private ProviderEndpoint endpoint;
    private Context context;

    /**
     * A context as the host builds it, with a real tokenizer ({@link Tokens#counter()}), for {@link #endpoint}.
     */
    protected static ProviderContext providerContext(Vertx vertx, String instanceName, SecretResolver secrets) {
        return new ProviderContext(vertx, instanceName, secrets, Tokens.counter());
    }

    /** The endpoint under test; called once per test, on the test thread. */
    protected abstract ProviderEndpoint endpoint(Vertx vertx);

    /** The upstream model requests name. */
    protected abstract String upstreamModel();

    /**
     * A model name for which the endpoint fails before producing any output (e.g. a fake upstream answering
     * 500), or {@code null} (the default) to skip the failure tests.
     */
    protected String failingUpstreamModel() {
        return null;
    }

    /**
     * A model name for which the upstream accepts the request and never answers (e.g. a fake upstream that hangs), or
     * {@code null} (the default) to skip the first-byte time-limit tests.
     */
    protected String hangingUpstreamModel() {
        return null;
    }

    /**
     * A model name for which the upstream answers "rate limited" (HTTP 429) and says how long to wait (a
     * {@code Retry-After}), or {@code null} (the default) to skip the rate-limit tests.
     */
    protected String rateLimitedUpstreamModel() {
        return null;
    }

    /** The first-byte limit of the time-limit tests ({@link ChatRequest#firstByteTimeoutMillis()}). */
    protected Duration firstByteTimeout() {
        return Duration.ofMillis(300);
    }

    /** How much later than its limit a call may fail with TIMEOUT (timers, a loaded machine). */
    protected Duration timeoutSlack() {
        return Duration.ofMillis(1_500);
    }

    /** The completion-token cap of ordinary requests. */
    protected int maxTokens() {
        return 64;
    }

    /** A cap small enough that the answer must be cut short (the provider must enforce it, not the host). */
    protected int smallMaxTokens() {
        return 3;
    }

    /** How soon after cancellation the returned future must complete. */
    protected Duration cancellationBound() {
        return Duration.ofSeconds(2);
    }

    /** How long to watch for writes that must not happen (after a cancel, while the sink is full). */
    protected Duration quietPeriod() {
        return Duration.ofMillis(200);
    }

    /** The request body the host would pass: OpenAI chat-completions shape, already validated. */
    protected JsonObject requestBody(String model, boolean stream, int maxTokens) {
        JsonObject body = new JsonObject()
                .put("model", model)
                .put("messages", new JsonArray()
                        .add(new JsonObject().put("role", "system").put("content", "You answer briefly."))
                        .add(new JsonObject().put("role", "user").put("content", "What does a router do?")))
                .put("max_tokens", maxTokens);
        if (stream) {
            body.put("stream", true).put("stream_options", new JsonObject().put("include_usage", true));
        }
        return body;
    }

    /** A request as the host builds it; the whole-request budget is generous so timing never fails a test. */
    protected ChatRequest request(String model, boolean stream, int maxTokens, Future<Void> cancelled) {
        return new ChatRequest("gen-tck-" + generations.incrementAndGet(), model,
                requestBody(model, stream, maxTokens), maxTokens, 20_000, cancelled);
    }

    @AfterEach
    final void closeEndpoint(VertxTestContext testContext) {
        if (endpoint == null) {
            testContext.completeNow();
            return;
        }
        ProviderEndpoint closing = endpoint;
        endpoint = null;
        onEventLoop(closing::close).onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void aWholeCompletionHasChoicesAndConsistentUsage(Vertx vertx, VertxTestContext testContext) {
        complete(vertx, request(upstreamModel(), false, maxTokens(), Promise.<Void>promise().future()))
                .onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
                    assertNotNull(completion, "complete() must not succeed with null");
                    JsonObject body = completion.parsed();
                    assertNotNull(body, "a completion needs a body");
                    if (completion.raw() != null) {
                        assertEquals(body.getJsonArray("choices").getJsonObject(0).getString("finish_reason"),
                                completion.finishReason(), "a raw completion's finishReason is its first choice's");
                    }
                    assertEquals("chat.completion", body.getString("object"), "body.object");
                    JsonArray choices = body.getJsonArray("choices");
                    assertNotNull(choices, "body.choices");
                    assertFalse(choices.isEmpty(), "body.choices must not be empty");
                    for (int i = 0; i < choices.size(); i++) {
                        JsonObject choice = choices.getJsonObject(i);
                        assertNotNull(choice.getJsonObject("message"), "choices[" + i + "].message");
                        assertEquals("assistant", choice.getJsonObject("message").getString("role"),
                                "choices[" + i + "].message.role");
                        assertNotNull(choice.getString("finish_reason"), "choices[" + i + "].finish_reason");
                    }
                    assertUsageConsistent(completion.usage(), maxTokens());
                    JsonObject reported = body.getJsonObject("usage");
                    if (reported != null) {
                        assertEquals(completion.usage().promptTokens(), reported.getInteger("prompt_tokens"),
                                "usage record and body.usage disagree on prompt_tokens");
                        assertEquals(completion.usage().completionTokens(),
                                reported.getInteger("completion_tokens"),
                                "usage record and body.usage disagree on completion_tokens");
                        if (reported.containsKey("total_tokens")) {
                            assertEquals(completion.usage().totalTokens(), reported.getInteger("total_tokens"),
                                    "body.usage.total_tokens");
                        }
                    }
                    testContext.completeNow();
                })));
    }

    @Test
    void aWholeCompletionNeverExceedsMaxTokens(Vertx vertx, VertxTestContext testContext) {
        int cap = smallMaxTokens();
        complete(vertx, request(upstreamModel(), false, cap, Promise.<Void>promise().future()))
                .onComplete(testContext.succeeding(completion -> testContext.verify(() -> {
                    assertUsageConsistent(completion.usage(), cap);
                    testContext.completeNow();
                })));
    }

    @Test
    void aStreamWritesOnlyCompleteChunkEventsAndReportsUsageInItsOutcome(Vertx vertx,
                                                                         VertxTestContext testContext) {
        RecordingChunkSink sink = new RecordingChunkSink();
        assertFalse(sink.started(), "a fresh sink has not started");
        stream(vertx, request(upstreamModel(), true, maxTokens(), Promise.<Void>promise().future()), sink)
                .onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
                    assertTrue(sink.started(), "a stream must write at least once");
                    assertEquals(0, sink.writesOffEventLoop(), "every write must happen on an event loop");
                    List<JsonObject> chunks = assertWellFormedStream(sink);
                    assertNotNull(outcome, "stream() must not succeed with null");
                    assertUsageConsistent(outcome.usage(), maxTokens());
                    if (outcome.finishReason() != null) {
                        assertTrue(chunks.stream().anyMatch(chunk -> outcome.finishReason().equals(
                                        chunk.getJsonArray("choices").getJsonObject(0).getString("finish_reason"))),
                                "the outcome's finish reason " + outcome.finishReason() + " was never streamed");
                    }
                    testContext.completeNow();
                })));
    }

    @Test
    void aStreamNeverExceedsMaxTokens(Vertx vertx, VertxTestContext testContext) {
        int cap = smallMaxTokens();
        RecordingChunkSink sink = new RecordingChunkSink();
        stream(vertx, request(upstreamModel(), true, cap, Promise.<Void>promise().future()), sink)
                .onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
                    assertWellFormedStream(sink);
                    assertUsageConsistent(outcome.usage(), cap);
                    testContext.completeNow();
                })));
    }

    @Test
    void aCancelledStreamStopsWritingCompletesPromptlyAndReportsWhatItDelivered(Vertx vertx,
                                                                              VertxTestContext testContext) {
        Promise<Void> cancel = Promise.promise();
        AtomicInteger writesAtCancel = new AtomicInteger(-1);
        RecordingChunkSink sink = new RecordingChunkSink();
        // cancel on the next turn of the event loop, as a client disconnect would arrive, not inside write()
        sink.onWrite(written -> context.runOnContext(v -> {
            if (writesAtCancel.compareAndSet(-1, sink.writes())) {
                cancel.complete();
            }
        }));
        int cap = maxTokens();
        Future<StreamOutcome> outcome = stream(vertx, request(upstreamModel(), true, cap, cancel.future()), sink);
        Promise<Void> cancelledOrEnded = Promise.promise();
        cancel.future().onComplete(cancelled -> cancelledOrEnded.tryComplete());
        outcome.onComplete(ended -> cancelledOrEnded.tryComplete());
        cancelledOrEnded.future()
                .compose(started -> settlesWithin(vertx, outcome, cancellationBound(),
                        "the stream did not complete within " + cancellationBound().toMillis()
                                + " ms of its cancellation"))
                .compose(settled -> vertx.timer(quietPeriod().toMillis()))
                .onComplete(testContext.succeeding(quiet -> testContext.verify(() -> {
                    assertNotEquals(-1, writesAtCancel.get(), "the stream never wrote, so it was never cancelled");
                    assertEquals(writesAtCancel.get(), sink.writes(), "the provider wrote after cancellation");
                    if (outcome.failed()) {
                        // it wrote before the cancel came, so the host must learn what to bill for
                        ProviderException failure = assertInstanceOf(ProviderException.class, outcome.cause(),
                                "streams fail with ProviderException");
                        assertEquals(Kind.CANCELLED, failure.kind(), "a cancelled call fails as CANCELLED");
                        assertNotNull(failure.usage(), "a stream cancelled after output must fail with the usage "
                                + "of what it delivered (ProviderException.withUsage)");
                        assertUsageConsistent(failure.usage(), cap);
                    }
                    testContext.completeNow();
                })));
    }

    @Test
    void aStreamWhoseRequestIsAlreadyCancelledWritesNothingAndCompletesPromptly(Vertx vertx,
                                                                               VertxTestContext testContext) {
        RecordingChunkSink sink = new RecordingChunkSink();
        Future<StreamOutcome> outcome =
                stream(vertx, request(upstreamModel(), true, maxTokens(), Future.succeededFuture()), sink);
        settlesWithin(vertx, outcome, cancellationBound(), "a stream for a cancelled request did not complete")
                .compose(settled -> vertx.timer(quietPeriod().toMillis()))
                .onComplete(testContext.succeeding(quiet -> testContext.verify(() -> {
                    assertEquals(0, sink.writes(), "the provider wrote for a request cancelled before it began");
                    assertFailedAsCancelledIfFailed(outcome);
                    testContext.completeNow();
                })));
    }

    @Test
    void aWholeCompletionWhoseRequestIsAlreadyCancelledCompletesPromptlyOrFailsAsCancelled(
            Vertx vertx, VertxTestContext testContext) {
        Future<ChatCompletion> outcome =
                complete(vertx, request(upstreamModel(), false, maxTokens(), Future.succeededFuture()));
        settlesWithin(vertx, outcome, cancellationBound(), "a completion for a cancelled request did not complete")
                .onComplete(testContext.succeeding(settled -> testContext.verify(() -> {
                    assertFailedAsCancelledIfFailed(outcome);
                    testContext.completeNow();
                })));
    }

    @Test
    void everyStreamEventCarriesTheRequestsGenerationIdAndResponseModel(Vertx vertx, VertxTestContext testContext) {
        ChatRequest request = request(upstreamModel(), true, maxTokens(), Promise.<Void>promise().future())
                .responseModel("public/model");
        RecordingChunkSink sink = new RecordingChunkSink();
        stream(vertx, request, sink).onComplete(testContext.succeeding(outcome -> testContext.verify(() -> {
            for (JsonObject chunk : assertWellFormedStream(sink)) {
                String shown = RecordingChunkSink.abbreviate(chunk.encode());
                assertEquals(request.generationId(), chunk.getString("id"),
                        "a chunk's id must be ChatRequest.generationId(): " + shown);
                assertEquals("public/model", chunk.getString("model"),
                        "a chunk's model must be ChatRequest.responseModel(): " + shown);
            }
            testContext.completeNow();
        })));
    }

    @Test
    void aStreamWhoseUpstreamDoesNotAnswerFailsWithTimeoutAtTheFirstByteLimit(Vertx vertx,
                                                                             VertxTestContext testContext) {
        String hanging = hangingUpstreamModel();
        Assumptions.assumeTrue(hanging != null, "hangingUpstreamModel() names no hanging model");
        RecordingChunkSink sink = new RecordingChunkSink();
        long started = System.nanoTime();
        stream(vertx, firstByteLimited(hanging, true), sink)
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertTimedOutAtTheFirstByteLimit(failure, started);
                    assertFalse(sink.started(), "nothing may be written when the upstream never answered");
                    testContext.completeNow();
                })));
    }

    @Test
    void aWholeCompletionWhoseUpstreamDoesNotAnswerFailsWithTimeoutAtTheFirstByteLimit(
            Vertx vertx, VertxTestContext testContext) {
        String hanging = hangingUpstreamModel();
        Assumptions.assumeTrue(hanging != null, "hangingUpstreamModel() names no hanging model");
        long started = System.nanoTime();
        complete(vertx, firstByteLimited(hanging, false))
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertTimedOutAtTheFirstByteLimit(failure, started);
                    testContext.completeNow();
                })));
    }

    @Test
    void aRateLimitedStreamFailsAsRateLimitedWithTheWaitTheUpstreamAsked(Vertx vertx,
                                                                        VertxTestContext testContext) {
        String limited = rateLimitedUpstreamModel();
        Assumptions.assumeTrue(limited != null, "rateLimitedUpstreamModel() names no rate-limited model");
        RecordingChunkSink sink = new RecordingChunkSink();
        stream(vertx, request(limited, true, maxTokens(), Promise.<Void>promise().future()), sink)
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertRateLimited(failure);
                    assertFalse(sink.started(), "a rate-limited stream must leave the sink unstarted");
                    testContext.completeNow();
                })));
    }

    @Test
    void aRateLimitedWholeCompletionFailsAsRateLimitedWithTheWaitTheUpstreamAsked(
            Vertx vertx, VertxTestContext testContext) {
        String limited = rateLimitedUpstreamModel();
        Assumptions.assumeTrue(limited != null, "rateLimitedUpstreamModel() names no rate-limited model");
        complete(vertx, request(limited, false, maxTokens(), Promise.<Void>promise().future()))
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertRateLimited(failure);
                    testContext.completeNow();
                })));
    }

    @Test
    void aStreamWaitsWhileTheSinkIsFullAndResumesOnDrain(Vertx vertx, VertxTestContext testContext) {
        RecordingChunkSink sink = new RecordingChunkSink().simulateWriteQueueFull(true);
        Future<StreamOutcome> outcome =
                stream(vertx, request(upstreamModel(), true, maxTokens(), Promise.<Void>promise().future()), sink);
        vertx.timer(quietPeriod().toMillis())
                .compose(quiet -> {
                    int writesWhileFull = sink.writesWhileFull();
                    sink.simulateWriteQueueFull(false);
                    return outcome.map(done -> writesWhileFull);
                })
                .onComplete(testContext.succeeding(writesWhileFull -> testContext.verify(() -> {
                    assertTrue(writesWhileFull <= 1, "the provider wrote " + writesWhileFull
                            + " times while the sink's write queue was full (at most one write may find it full)");
                    List<JsonObject> chunks = assertWellFormedStream(sink);
                    assertNotNull(chunks.get(chunks.size() - 1).getJsonArray("choices").getJsonObject(0)
                            .getString("finish_reason"), "after the drain the stream must run to its end");
                    testContext.completeNow();
                })));
    }

    @Test
    void aStreamThatFailsBeforeAnyOutputWritesNothingAndFailsWithAProviderException(
            Vertx vertx, VertxTestContext testContext) {
        String failing = failingUpstreamModel();
        Assumptions.assumeTrue(failing != null, "failingUpstreamModel() names no failing model");
        RecordingChunkSink sink = new RecordingChunkSink();
        stream(vertx, request(failing, true, maxTokens(), Promise.<Void>promise().future()), sink)
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertInstanceOf(ProviderException.class, failure, "streams fail with ProviderException");
                    assertNotNull(((ProviderException) failure).kind(), "a ProviderException needs a kind");
                    assertFalse(sink.started(),
                            "a failure before any output must leave the sink unstarted, so the host can answer "
                                    + "with an HTTP error status");
                    testContext.completeNow();
                })));
    }

    @Test
    void aWholeCompletionThatFailsFailsWithAProviderException(Vertx vertx, VertxTestContext testContext) {
        String failing = failingUpstreamModel();
        Assumptions.assumeTrue(failing != null, "failingUpstreamModel() names no failing model");
        complete(vertx, request(failing, false, maxTokens(), Promise.<Void>promise().future()))
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertInstanceOf(ProviderException.class, failure,
                            "completions fail with ProviderException");
                    assertNotNull(((ProviderException) failure).kind(), "a ProviderException needs a kind");
                    testContext.completeNow();
                })));
    }

    /** Calls {@code complete} on the test's event-loop context. */
    protected final Future<ChatCompletion> complete(Vertx vertx, ChatRequest request) {
        ProviderEndpoint under = endpointFor(vertx);
        return onEventLoop(() -> under.complete(request));
    }

    /** Calls {@code stream} on the test's event-loop context. */
    protected final Future<StreamOutcome> stream(Vertx vertx, ChatRequest request, ChunkSink sink) {
        ProviderEndpoint under = endpointFor(vertx);
        return onEventLoop(() -> under.stream(request, sink));
    }

    /**
     * Checks that every event is one {@code data: <json>\n\n} chunk of object {@code chat.completion.chunk},
     * with no {@code [DONE]} and no usage-only chunk (the host writes both), and returns the chunks.
     */
    protected static List<JsonObject> assertWellFormedStream(RecordingChunkSink sink) {
        List<String> events = sink.events();
        assertFalse(events.isEmpty(), "a stream must write at least one event");
        for (String event : events) {
            String data = RecordingChunkSink.dataOf(event);
            if (data == null) {
                fail("every event must be one line 'data: <json>' followed by a blank line, and a write must "
                        + "hold whole events; got: " + RecordingChunkSink.abbreviate(event));
            }
            assertNotEquals("[DONE]", data, "the host writes [DONE]; the provider must not");
        }
        List<JsonObject> chunks = sink.chunks();
        for (JsonObject chunk : chunks) {
            String shown = RecordingChunkSink.abbreviate(chunk.encode());
            assertEquals("chat.completion.chunk", chunk.getString("object"), "object of " + shown);
            JsonArray choices = chunk.getJsonArray("choices");
            assertNotNull(choices, "choices of " + shown);
            if (choices.isEmpty() && chunk.getValue("usage") != null) {
                fail("the host writes the usage-only chunk; the provider must not: " + shown);
            }
            assertFalse(choices.isEmpty(), "a chunk without choices: " + shown);
        }
        return chunks;
    }

    /** A request with the {@link #firstByteTimeout()} and the usual generous whole-request budget. */
    private ChatRequest firstByteLimited(String model, boolean stream) {
        return request(model, stream, maxTokens(), Promise.<Void>promise().future())
                .timeouts(firstByteTimeout().toMillis(), 0);
    }

    private void assertTimedOutAtTheFirstByteLimit(Throwable failure, long startedNanos) {
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
        long limit = firstByteTimeout().toMillis();
        ProviderException error = assertInstanceOf(ProviderException.class, failure,
                "calls fail with ProviderException");
        assertEquals(Kind.TIMEOUT, error.kind(), "past ChatRequest.firstByteTimeoutMillis() the kind is TIMEOUT: "
                + error.getMessage());
        assertTrue(elapsedMillis >= limit - 20, "timed out after " + elapsedMillis + " ms, before the " + limit
                + " ms first-byte limit");
        assertTrue(elapsedMillis <= limit + timeoutSlack().toMillis(), "timed out after " + elapsedMillis
                + " ms: the first-byte limit is " + limit + " ms (the whole-request budget is far longer)");
    }

    private static void assertRateLimited(Throwable failure) {
        ProviderException error = assertInstanceOf(ProviderException.class, failure,
                "calls fail with ProviderException");
        assertEquals(Kind.RATE_LIMITED, error.kind(), "an upstream 429 is RATE_LIMITED: " + error.getMessage());
        assertTrue(error.retryAfterMillis() >= 0, "the upstream said how long to wait, so retryAfterMillis() must "
                + "carry it (ProviderException.rateLimited), got " + error.retryAfterMillis());
    }

    /** A call that was cancelled may complete, but if it fails, it fails as CANCELLED. */
    private static void assertFailedAsCancelledIfFailed(Future<?> outcome) {
        if (outcome.failed()) {
            ProviderException failure = assertInstanceOf(ProviderException.class, outcome.cause(),
                    "calls fail with ProviderException");
            assertEquals(Kind.CANCELLED, failure.kind(), "a cancelled call fails as CANCELLED: "
                    + failure.getMessage());
        }
    }

    /** Usage is present, its parts are subsets of its totals, and completion tokens respect the cap. */
    protected static void assertUsageConsistent(Usage usage, int maxTokens) {
        assertNotNull(usage, "usage must be reported (estimate it when the upstream does not)");
        assertTrue(usage.cachedTokens() <= usage.promptTokens(), "cached tokens exceed prompt tokens: " + usage);
        assertTrue(usage.reasoningTokens() <= usage.completionTokens(),
                "reasoning tokens exceed completion tokens: " + usage);
        assertTrue(usage.completionTokens() <= maxTokens,
                "completion tokens " + usage.completionTokens() + " exceed max tokens " + maxTokens);
        assertEquals(usage.promptTokens() + usage.completionTokens(), usage.totalTokens(), "total tokens");
    }

    private ProviderEndpoint endpointFor(Vertx vertx) {
        if (endpoint == null) {
            endpoint = endpoint(vertx);
            assertNotNull(endpoint, "endpoint(vertx) returned null");
            context = vertx.getOrCreateContext();
        }
        return endpoint;
    }

    /** Runs a call on the test's event loop; a call that throws instead of failing its future fails too. */
    private <T> Future<T> onEventLoop(Supplier<Future<T>> call) {
        Promise<T> result = Promise.promise();
        context.runOnContext(v -> {
            try {
                Future<T> future = call.get();
                if (future == null) {
                    result.fail(new AssertionError("the endpoint returned a null future"));
                } else {
                    future.onComplete(result);
                }
            } catch (RuntimeException | Error e) {
                result.fail(new AssertionError("the endpoint threw instead of failing its future", e));
            }
        });
        return result.future();
    }

    /** Succeeds once {@code future} completes either way; fails if it has not within {@code bound}. */
    private static Future<Void> settlesWithin(Vertx vertx, Future<?> future, Duration bound, String message) {
        Promise<Void> settled = Promise.promise();
        long timer = vertx.setTimer(bound.toMillis(), id -> settled.tryFail(new AssertionError(message)));
        future.onComplete(done -> {
            vertx.cancelTimer(timer);
            settled.tryComplete();
        });
        return settled.future();
    }
}
