package co.corouter.testkit.upstream;

import co.corouter.plugin.api.TokenCounter;
import co.corouter.testkit.tck.Tokens;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
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
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class FakeOpenAiUpstreamTest {

    @RegisterExtension
    static final FakeOpenAiUpstreamExtension UPSTREAM = new FakeOpenAiUpstreamExtension();

    private HttpClient client;

    @BeforeEach
    void createClient(Vertx vertx) {
        client = vertx.createHttpClient();
    }

    @Test
    void answersAWholeCompletionInOpenAiShape(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().content("Hi!").promptTokens(3));

        post(upstream, request(false).put("max_tokens", 17)).onComplete(testContext.succeeding(body ->
                testContext.verify(() -> {
                    JsonObject completion = new JsonObject(body);
                    assertThat(completion.getString("object")).isEqualTo("chat.completion");
                    assertThat(completion.getString("model")).isEqualTo("gpt-test");
                    JsonObject choice = completion.getJsonArray("choices").getJsonObject(0);
                    assertThat(choice.getJsonObject("message").getString("content")).isEqualTo("Hi!");
                    assertThat(choice.getString("finish_reason")).isEqualTo("stop");
                    assertThat(completion.getJsonObject("usage").getMap())
                            .containsEntry("prompt_tokens", 3).containsEntry("completion_tokens", 17)
                            .containsEntry("total_tokens", 20);
                    assertThat(upstream.requestCount()).isEqualTo(1);
                    assertThat(upstream.lastRequest().authorization()).isEqualTo("Bearer sk-test");
                    testContext.completeNow();
                })));
    }

    @Test
    void streamsRoleContentFinishUsageAndDone(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().content("abcdef").chunks(3).completionTokens(4));
        JsonObject request = request(true).put("stream_options", new JsonObject().put("include_usage", true));

        post(upstream, request).onComplete(testContext.succeeding(body -> testContext.verify(() -> {
            List<String> events = Arrays.asList(body.toString().split("\n\n"));
            assertThat(events).hasSize(7).last().isEqualTo("data: [DONE]");
            List<JsonObject> chunks = events.subList(0, 6).stream()
                    .map(e -> new JsonObject(e.substring("data: ".length()))).toList();
            assertThat(chunks).allSatisfy(c -> assertThat(c.getString("object")).isEqualTo("chat.completion.chunk"));
            assertThat(chunks.get(0).getJsonArray("choices").getJsonObject(0).getJsonObject("delta")
                    .getString("role")).isEqualTo("assistant");
            assertThat(chunks.subList(1, 4)).extracting(c -> c.getJsonArray("choices").getJsonObject(0)
                    .getJsonObject("delta").getString("content")).containsExactly("ab", "cd", "ef");
            assertThat(chunks.get(4).getJsonArray("choices").getJsonObject(0).getString("finish_reason"))
                    .isEqualTo("stop");
            assertThat(chunks.subList(0, 5)).allSatisfy(c -> assertThat(c.containsKey("usage")).isTrue());
            assertThat(chunks.get(5).getJsonArray("choices")).isEmpty();
            assertThat(chunks.get(5).getJsonObject("usage").getInteger("completion_tokens")).isEqualTo(4);
            testContext.completeNow();
        })));
    }

    @Test
    void aToolCallComesAsMessageToolCallsOrAsIdNameAndArgumentDeltas(FakeOpenAiUpstream upstream,
                                                                     VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().content("").chunks(1).toolCall("call_1", "weather", "{\"city\":\"Oslo\"}"));

        post(upstream, request(false)).compose(whole -> post(upstream, request(true)).map(stream -> List.of(whole,
                stream))).onComplete(testContext.succeeding(bodies -> testContext.verify(() -> {
                    JsonObject choice = new JsonObject(bodies.get(0)).getJsonArray("choices").getJsonObject(0);
                    JsonObject call = choice.getJsonObject("message").getJsonArray("tool_calls").getJsonObject(0);
                    assertThat(call.getString("id")).isEqualTo("call_1");
                    assertThat(call.getString("type")).isEqualTo("function");
                    assertThat(call.getJsonObject("function").getString("name")).isEqualTo("weather");
                    assertThat(call.getJsonObject("function").getString("arguments")).isEqualTo("{\"city\":\"Oslo\"}");
                    assertThat(choice.getString("finish_reason")).isEqualTo("tool_calls");

                    List<JsonObject> deltas = Arrays.stream(bodies.get(1).toString().split("\n\n"))
                            .filter(e -> !e.equals("data: [DONE]"))
                            .map(e -> new JsonObject(e.substring("data: ".length())).getJsonArray("choices")
                                    .getJsonObject(0)).toList();
                    StringBuilder arguments = new StringBuilder();
                    deltas.forEach(d -> {
                        JsonArray calls = d.getJsonObject("delta").getJsonArray("tool_calls");
                        if (calls != null) {
                            arguments.append(calls.getJsonObject(0).getJsonObject("function").getString("arguments"));
                        }
                    });
                    assertThat(deltas).filteredOn(d -> d.getJsonObject("delta").containsKey("tool_calls"))
                            .hasSize(3).first().satisfies(d -> assertThat(d.getJsonObject("delta")
                                    .getJsonArray("tool_calls").getJsonObject(0).getString("id")).isEqualTo("call_1"));
                    assertThat(arguments.toString()).isEqualTo("{\"city\":\"Oslo\"}");
                    assertThat(deltas.get(deltas.size() - 1).getString("finish_reason")).isEqualTo("tool_calls");
                    testContext.completeNow();
                })));
    }

    @Test
    void playsQueuedBehavioursBeforeTheDefault(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        upstream.enqueue(Behaviour.error(503), Behaviour.error(429));

        status(upstream).compose(first -> status(upstream).map(second -> List.of(first, second)))
                .compose(firstTwo -> status(upstream).map(third -> List.of(firstTwo.get(0), firstTwo.get(1), third)))
                .onComplete(testContext.succeeding(statuses -> testContext.verify(() -> {
                    assertThat(statuses).containsExactly(503, 429, 200);
                    assertThat(upstream.requests()).hasSize(3);
                    testContext.completeNow();
                })));
    }

    @Test
    void a429CarriesOpenAisRateLimitHeadersWhichATestCanChangeOrDrop(FakeOpenAiUpstream upstream,
                                                                    VertxTestContext testContext) {
        upstream.enqueue(Behaviour.error(429), Behaviour.error(429).header("retry-after", "2"),
                Behaviour.error(429).withoutHeader("Retry-After"));

        head(upstream).compose(first -> head(upstream).compose(second -> head(upstream)
                        .map(third -> List.of(first, second, third))))
                .onComplete(testContext.succeeding(responses -> testContext.verify(() -> {
                    assertThat(responses).extracting(HttpClientResponse::statusCode).containsOnly(429);
                    assertThat(responses.get(0).headers().getAll("Retry-After")).containsExactly("1");
                    assertThat(responses.get(0).getHeader("x-ratelimit-reset-requests")).isEqualTo("1s");
                    assertThat(responses.get(1).headers().getAll("Retry-After")).as("replaced, in any case")
                            .containsExactly("2");
                    assertThat(responses.get(2).getHeader("Retry-After")).isNull();
                    assertThat(responses.get(2).getHeader("x-ratelimit-remaining-requests")).isEqualTo("0");
                    testContext.completeNow();
                })));
    }

    @Test
    void answersOverloadedStatusesLikeTheUpstreamsThatSendThem(FakeOpenAiUpstream upstream,
                                                              VertxTestContext testContext) {
        upstream.enqueue(Behaviour.error(529), Behaviour.error(503));

        send(upstream, request(false))
                .compose(first -> first.body().map(body -> first.statusCode() + " "
                        + new JsonObject(body).getJsonObject("error").getString("type")))
                .compose(first -> status(upstream).map(second -> List.of(first, second + " ")))
                .onComplete(testContext.succeeding(answers -> testContext.verify(() -> {
                    assertThat(answers).containsExactly("529 overloaded_error", "503 ");
                    testContext.completeNow();
                })));
    }

    @Test
    void rejectsAWrongApiKeyWith401(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        upstream.requireApiKey("sk-other");

        status(upstream).onComplete(testContext.succeeding(status -> testContext.verify(() -> {
            assertThat(status).isEqualTo(401);
            testContext.completeNow();
        })));
    }

    @Test
    void aWholeCompletionIsAnsweredInFullWithNoContentEvents(FakeOpenAiUpstream upstream,
                                                            VertxTestContext testContext) {
        post(upstream, request(false))
                .compose(body -> upstream.lastRequest().responseEnded())
                .onComplete(testContext.succeeding(ended -> testContext.verify(() -> {
                    RecordedRequest seen = upstream.lastRequest();
                    assertThat(seen.wasAnsweredInFull()).isTrue();
                    assertThat(seen.contentEventsWritten()).isZero();
                    assertThat(seen.wasConnectionClosed()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void aScriptedErrorIsAnsweredInFull(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        upstream.behave(Behaviour.error(503));

        status(upstream)
                .compose(status -> upstream.lastRequest().responseEnded().map(status))
                .onComplete(testContext.succeeding(status -> testContext.verify(() -> {
                    assertThat(status).isEqualTo(503);
                    assertThat(upstream.lastRequest().wasAnsweredInFull()).isTrue();
                    testContext.completeNow();
                })));
    }

    @Test
    void aStreamCountsTheNonEmptyContentEventsItWrote(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().content("abcdef").chunks(3).keepAliveComments());

        post(upstream, request(true))
                .compose(body -> upstream.lastRequest().responseEnded().map(body))
                .onComplete(testContext.succeeding(body -> testContext.verify(() -> {
                    assertThat(contentEvents(body.toString())).hasSize(3);
                    assertThat(upstream.lastRequest().contentEventsWritten())
                            .as("the role chunk's empty content and the finish chunk are not counted").isEqualTo(3);
                    testContext.completeNow();
                })));
    }

    @Test
    void burstsAndFragmentsCountEveryContentEventOnceItsLastByteWasWritten(FakeOpenAiUpstream upstream,
                                                                          VertxTestContext testContext) {
        upstream.enqueue(Behaviour.normal().chunks(5).burst(), Behaviour.normal().chunks(5).fragments(7));

        post(upstream, request(true))
                .map(body -> upstream.lastRequest().contentEventsWritten())
                .compose(burst -> post(upstream, request(true))
                        .compose(body -> upstream.lastRequest().responseEnded())
                        .map(ended -> List.of(burst, upstream.lastRequest().contentEventsWritten())))
                .onComplete(testContext.succeeding(counts -> testContext.verify(() -> {
                    assertThat(counts).containsExactly(5, 5);
                    testContext.completeNow();
                })));
    }

    @Test
    void aResetStreamClosesTheConnectionAndIsNeverAnsweredInFull(FakeOpenAiUpstream upstream,
                                                                VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().chunks(10).resetAfter(3));

        send(upstream, request(true))
                .compose(response -> response.body().otherwiseEmpty())
                .compose(ignored -> upstream.lastRequest().connectionClosed())
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    RecordedRequest seen = upstream.lastRequest();
                    assertThat(seen.contentEventsWritten()).as("the role chunk and two content events").isEqualTo(2);
                    assertThat(seen.wasAnsweredInFull()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void splitsARepeatedOneTokenWordIntoOneTokenDeltas(FakeOpenAiUpstream upstream, VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().content(" hello".repeat(40)).chunks(40));
        TokenCounter tokens = Tokens.counter();

        post(upstream, request(true)).onComplete(testContext.succeeding(body -> testContext.verify(() -> {
            List<String> pieces = contentEvents(body.toString());
            assertThat(pieces).hasSize(40).containsOnly(" hello");
            assertThat(pieces).allSatisfy(piece -> assertThat(tokens.count(piece)).isEqualTo(1));
            assertThat(upstream.lastRequest().contentEventsWritten()).isEqualTo(40);
            testContext.completeNow();
        })));
    }

    @Test
    void countsOnlyTheContentEventsWrittenBeforeTheClientClosedTheConnection(FakeOpenAiUpstream upstream,
                                                                            VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().content(" hello".repeat(40)).chunks(40).intervalMs(20));
        AtomicInteger received = new AtomicInteger();
        Promise<Void> closing = Promise.promise();

        send(upstream, request(true)).onSuccess(response -> {
            StringBuilder pending = new StringBuilder();
            response.exceptionHandler(closedByUs -> { });
            response.handler(read -> {
                pending.append(read);
                int end;
                while ((end = pending.indexOf("\n\n")) >= 0) {
                    received.addAndGet(contentEvents(pending.substring(0, end + 2)).size());
                    pending.delete(0, end + 2);
                }
                if (received.get() >= 5 && closing.tryComplete()) {
                    response.request().connection().close();
                }
            });
        }).onFailure(testContext::failNow);

        closing.future()
                .compose(closed -> upstream.lastRequest().connectionClosed())
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    RecordedRequest seen = upstream.lastRequest();
                    // the fake may write one more event 20 ms later before it learns of the close, not 35 more
                    assertThat(seen.contentEventsWritten()).isBetween(received.get(), received.get() + 2);
                    assertThat(seen.wasAnsweredInFull()).isFalse();
                    testContext.completeNow();
                })));
    }

    /** The non-empty {@code delta.content} of each complete event in {@code stream}, in order. */
    private static List<String> contentEvents(String stream) {
        List<String> pieces = new ArrayList<>();
        for (String event : stream.split("\n\n")) {
            if (!event.startsWith("data: {")) {
                continue;
            }
            JsonArray choices = new JsonObject(event.substring("data: ".length())).getJsonArray("choices");
            if (!choices.isEmpty() && choices.getJsonObject(0).getJsonObject("delta")
                    .getValue("content") instanceof String piece && !piece.isEmpty()) {
                pieces.add(piece);
            }
        }
        return pieces;
    }

    private Future<Buffer> post(FakeOpenAiUpstream upstream, JsonObject body) {
        return send(upstream, body).compose(HttpClientResponse::body);
    }

    /** A whole-completion request's response, its body read. */
    private Future<HttpClientResponse> head(FakeOpenAiUpstream upstream) {
        return send(upstream, request(false)).compose(response -> response.body().map(response));
    }

    private Future<Integer> status(FakeOpenAiUpstream upstream) {
        return send(upstream, request(false))
                .compose(response -> response.body().map(ignored -> response.statusCode()));
    }

    private Future<HttpClientResponse> send(FakeOpenAiUpstream upstream, JsonObject body) {
        return client.request(new RequestOptions().setMethod(HttpMethod.POST)
                        .setAbsoluteURI(upstream.baseUrl() + "/chat/completions")
                        .putHeader("Authorization", "Bearer sk-test"))
                .compose(request -> request.send(body.toBuffer()));
    }

    private static JsonObject request(boolean stream) {
        return new JsonObject().put("model", "gpt-test").put("stream", stream)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
    }
}
