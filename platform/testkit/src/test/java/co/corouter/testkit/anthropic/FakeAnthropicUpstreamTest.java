package co.corouter.testkit.anthropic;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

@ExtendWith(VertxExtension.class)
class FakeAnthropicUpstreamTest {

    @RegisterExtension
    static final FakeAnthropicUpstreamExtension ANTHROPIC = new FakeAnthropicUpstreamExtension();

    private static final String TEXT = "The quick brown fox jumps over the lazy dog.";

    private HttpClient client;

    @BeforeEach
    void createClient(Vertx vertx) {
        client = vertx.createHttpClient();
    }

    /** One SSE event as the fake wrote it. */
    private record Event(String name, String data) {

        JsonObject json() {
            return new JsonObject(data);
        }
    }

    // ---- answers ----

    @Test
    void answersAWholeMessageWithEveryFieldOfTheRealOne(FakeAnthropicUpstream upstream,
                                                        VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().inputTokens(7));

        send(upstream, request(false)).compose(response -> response.body().map(body -> {
            testContext.verify(() -> {
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.getHeader("content-type")).startsWith("application/json");
                assertThat(response.getHeader("request-id")).startsWith("req_");
                JsonObject message = new JsonObject(body);
                assertThat(message.getString("id")).startsWith("msg_");
                assertThat(message.getString("type")).isEqualTo("message");
                assertThat(message.getString("role")).isEqualTo("assistant");
                assertThat(message.getString("model")).isEqualTo("claude-test");
                assertThat(message.getJsonArray("content")).containsExactly(new JsonObject()
                        .put("type", "text").put("text", TEXT).putNull("citations"));
                assertThat(message.getString("stop_reason")).isEqualTo("end_turn");
                assertThat(message.containsKey("stop_sequence")).isTrue();
                assertThat(message.getValue("stop_sequence")).isNull();
                JsonObject usage = message.getJsonObject("usage");
                assertThat(usage.getInteger("input_tokens")).isEqualTo(7);
                assertThat(usage.getInteger("output_tokens")).as("one per text piece").isEqualTo(4);
                assertThat(usage.getInteger("cache_read_input_tokens")).isZero();
                assertThat(usage.getInteger("cache_creation_input_tokens")).isZero();
                assertThat(usage.getString("service_tier")).isEqualTo("standard");
            });
            return body;
        })).onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void streamsEventsInAnthropicsOrderEachWithAnEventLineAndADataLine(FakeAnthropicUpstream upstream,
                                                                       VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().inputTokens(9));

        send(upstream, request(true)).compose(response -> response.body().map(body -> {
            testContext.verify(() -> {
                assertThat(response.getHeader("content-type")).startsWith("text/event-stream");
                assertThat(response.getHeader("request-id")).startsWith("req_");
                List<Event> events = events(body.toString());
                assertThat(events).extracting(Event::name).containsExactly("message_start", "content_block_start",
                        "ping", "content_block_delta", "content_block_delta", "content_block_delta",
                        "content_block_delta", "content_block_stop", "message_delta", "message_stop");
                assertThat(events).allSatisfy(e -> assertThat(e.json().getString("type")).isEqualTo(e.name()));
                JsonObject started = events.get(0).json().getJsonObject("message");
                assertThat(started.getJsonArray("content")).isEmpty();
                assertThat(started.getValue("stop_reason")).isNull();
                assertThat(started.getJsonObject("usage").getInteger("input_tokens")).isEqualTo(9);
                assertThat(events.get(1).json().getJsonObject("content_block"))
                        .isEqualTo(new JsonObject().put("type", "text").put("text", ""));
                assertThat(text(events)).isEqualTo(TEXT);
                JsonObject delta = events.get(8).json();
                assertThat(delta.getJsonObject("delta").getString("stop_reason")).isEqualTo("end_turn");
                assertThat(delta.getJsonObject("usage").getInteger("output_tokens")).isEqualTo(4);
                assertThat(body.toString()).as("no [DONE] since 2023-06-01").doesNotContain("[DONE]");
            });
            return body;
        })).compose(body -> upstream.lastRequest().responseEnded())
                .onComplete(testContext.succeeding(ended -> testContext.verify(() -> {
                    assertThat(upstream.lastRequest().contentEventsWritten()).isEqualTo(4);
                    testContext.completeNow();
                })));
    }

    @Test
    void streamsToolInputAsFragmentsThatStartEmptyAndParseOnceJoined(FakeAnthropicUpstream upstream,
                                                                     VertxTestContext testContext) {
        String input = "{\"city\":\"Paris\",\"unit\":\"celsius\"}";
        upstream.behave(AnthropicBehaviour.normal().text("Let me check.").chunks(1)
                .toolUse("toolu_01A", "get_weather", input).toolFragments(3));

        post(upstream, request(true)).compose(stream -> post(upstream, request(false)).map(whole -> {
            testContext.verify(() -> {
                List<Event> events = events(stream.toString());
                JsonObject start = events.stream().filter(e -> e.name().equals("content_block_start"))
                        .map(Event::json).filter(e -> e.getInteger("index") == 1).findFirst().orElseThrow();
                assertThat(start.getJsonObject("content_block")).isEqualTo(new JsonObject().put("type", "tool_use")
                        .put("id", "toolu_01A").put("name", "get_weather").put("input", new JsonObject()));
                List<String> pieces = events.stream().filter(e -> e.name().equals("content_block_delta"))
                        .map(Event::json).filter(e -> e.getInteger("index") == 1)
                        .map(e -> e.getJsonObject("delta").getString("partial_json")).toList();
                assertThat(pieces).hasSize(4).first().isEqualTo("");
                assertThat(new JsonObject(String.join("", pieces))).isEqualTo(new JsonObject(input));
                assertThat(events.get(events.size() - 2).json().getJsonObject("delta").getString("stop_reason"))
                        .isEqualTo("tool_use");
                JsonObject message = new JsonObject(whole);
                assertThat(message.getString("stop_reason")).isEqualTo("tool_use");
                assertThat(message.getJsonArray("content").getJsonObject(1)).isEqualTo(new JsonObject()
                        .put("type", "tool_use").put("id", "toolu_01A").put("name", "get_weather")
                        .put("input", new JsonObject(input)));
                assertThat(message.getJsonObject("usage").getInteger("output_tokens")).isEqualTo(1 + 3);
            });
            return whole;
        })).onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void streamsThinkingFirstWithASignatureDeltaBeforeItsStop(FakeAnthropicUpstream upstream,
                                                              VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().thinking("User wants a fox.", 2));

        post(upstream, request(true)).compose(body -> upstream.lastRequest().responseEnded().map(body))
                .onComplete(testContext.succeeding(body -> testContext.verify(() -> {
            List<Event> events = events(body.toString());
            assertThat(events.get(1).json().getJsonObject("content_block")).isEqualTo(new JsonObject()
                    .put("type", "thinking").put("thinking", "").put("signature", ""));
            List<String> deltaTypes = events.stream().filter(e -> e.name().equals("content_block_delta"))
                    .map(Event::json).filter(e -> e.getInteger("index") == 0)
                    .map(e -> e.getJsonObject("delta").getString("type")).toList();
            assertThat(deltaTypes).containsExactly("thinking_delta", "thinking_delta", "signature_delta");
            assertThat(events.get(6).name()).isEqualTo("content_block_stop");
            assertThat(upstream.lastRequest().contentEventsWritten()).isEqualTo(2 + 4);
            testContext.completeNow();
        })));
    }

    @Test
    void stopsAtTheRequestsMaxTokensLikeTheRealApi(FakeAnthropicUpstream upstream, VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().chunks(8));

        post(upstream, request(true).put("max_tokens", 3))
                .compose(stream -> post(upstream, request(false).put("max_tokens", 3)).map(whole -> {
                    testContext.verify(() -> {
                        List<Event> events = events(stream.toString());
                        assertThat(events.stream().filter(e -> e.name().equals("content_block_delta"))).hasSize(3);
                        JsonObject delta = events.get(events.size() - 2).json();
                        assertThat(delta.getJsonObject("delta").getString("stop_reason")).isEqualTo("max_tokens");
                        assertThat(delta.getJsonObject("usage").getInteger("output_tokens")).isEqualTo(3);
                        JsonObject message = new JsonObject(whole);
                        assertThat(message.getString("stop_reason")).isEqualTo("max_tokens");
                        assertThat(message.getJsonObject("usage").getInteger("output_tokens")).isEqualTo(3);
                        assertThat(message.getJsonArray("content").getJsonObject(0).getString("text"))
                                .isEqualTo(TEXT.substring(0, 3 * TEXT.length() / 8));
                    });
                    return whole;
                }))
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void reportsCacheReadsAndWritesOutsideInputTokensAndCountsThemInCountTokens(FakeAnthropicUpstream upstream,
                                                                               VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().inputTokens(5).cacheReadTokens(1024).cacheCreationTokens(200));
        JsonObject count = request(false);
        count.remove("max_tokens");
        count.remove("stream");

        post(upstream, request(false)).compose(whole -> post(upstream, request(true)).compose(stream ->
                send(upstream, "/v1/messages/count_tokens?beta=true", count, headers())
                        .compose(HttpClientResponse::body).map(counted -> {
                            testContext.verify(() -> {
                                JsonObject usage = new JsonObject(whole).getJsonObject("usage");
                                assertThat(usage.getInteger("input_tokens")).isEqualTo(5);
                                assertThat(usage.getInteger("cache_read_input_tokens")).isEqualTo(1024);
                                assertThat(usage.getInteger("cache_creation_input_tokens")).isEqualTo(200);
                                assertThat(usage.getJsonObject("cache_creation")
                                        .getInteger("ephemeral_5m_input_tokens")).isEqualTo(200);
                                JsonObject started = events(stream.toString()).get(0).json()
                                        .getJsonObject("message").getJsonObject("usage");
                                assertThat(started.getInteger("cache_read_input_tokens")).isEqualTo(1024);
                                assertThat(new JsonObject(counted).getInteger("input_tokens"))
                                        .isEqualTo(5 + 1024 + 200);
                            });
                            return counted;
                        })))
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void sendsNoUsageAnywhereWhenToldToOmitIt(FakeAnthropicUpstream upstream, VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().omitUsage());

        post(upstream, request(false)).compose(whole -> post(upstream, request(true)).map(stream -> {
            testContext.verify(() -> {
                assertThat(new JsonObject(whole).containsKey("usage")).isFalse();
                List<Event> events = events(stream.toString());
                assertThat(events.get(0).json().getJsonObject("message").containsKey("usage")).isFalse();
                assertThat(events.get(events.size() - 2).json().containsKey("usage")).isFalse();
            });
            return stream;
        })).onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void namesTheMatchedStopSequence(FakeAnthropicUpstream upstream, VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().stopReason("stop_sequence"));

        post(upstream, request(false).put("stop_sequences", new JsonArray().add("END")))
                .onComplete(testContext.succeeding(body -> testContext.verify(() -> {
                    JsonObject message = new JsonObject(body);
                    assertThat(message.getString("stop_reason")).isEqualTo("stop_sequence");
                    assertThat(message.getString("stop_sequence")).isEqualTo("END");
                    testContext.completeNow();
                })));
    }

    // ---- what it checks ----

    @Test
    void takesTheKeyFromXApiKeyOrABearerTokenAndPrefersXApiKey(FakeAnthropicUpstream upstream,
                                                               VertxTestContext testContext) {
        upstream.requireApiKey("sk-ant-test");
        MultiMap bearer = MultiMap.caseInsensitiveMultiMap().add("anthropic-version", "2026-10-21")
                .add("Authorization", "Bearer sk-ant-test");
        MultiMap both = MultiMap.caseInsensitiveMultiMap().addAll(bearer).add("x-api-key", "sk-ant-wrong");

        status(upstream, request(false), headers())
                .compose(first -> status(upstream, request(false), bearer).compose(second ->
                        send(upstream, "/v1/messages", request(false), both)
                                .compose(third -> third.body().map(body -> List.of(first, second,
                                        third.statusCode() + " " + new JsonObject(body).getJsonObject("error")
                                                .getString("type"))))))
                .onComplete(testContext.succeeding(answers -> testContext.verify(() -> {
                    assertThat(answers).containsExactly("200", "200", "401 authentication_error");
                    assertThat(upstream.requests().get(0).apiKey()).isEqualTo("sk-ant-test");
                    testContext.completeNow();
                })));
    }

    @Test
    void requiresAnAnthropicVersionHeaderAndRecordsTheBetaOne(FakeAnthropicUpstream upstream,
                                                             VertxTestContext testContext) {
        MultiMap withBeta = headers().add("anthropic-beta", "interleaved-thinking-2025-05-14");

        send(upstream, "/v1/messages", request(false), MultiMap.caseInsensitiveMultiMap())
                .compose(response -> response.body().map(body -> response.statusCode() + " "
                        + new JsonObject(body).getJsonObject("error").getString("message")))
                .compose(first -> status(upstream, request(false), withBeta).map(second -> List.of(first, second)))
                .onComplete(testContext.succeeding(answers -> testContext.verify(() -> {
                    assertThat(answers.get(0)).startsWith("400 ").contains("anthropic-version");
                    assertThat(answers.get(1)).isEqualTo("200");
                    assertThat(upstream.lastRequest().anthropicBeta()).isEqualTo("interleaved-thinking-2025-05-14");
                    assertThat(upstream.lastRequest().anthropicVersion()).isEqualTo("2023-06-01");
                    testContext.completeNow();
                })));
    }

    /** Requests the real API refuses: a change to the valid request, and what the 400's message says. */
    static Stream<Arguments> rejectedRequests() {
        String toolUse = "{'role':'assistant','content':[{'type':'tool_use','id':'toolu_1','name':'f','input':{}}]}";
        String breakpoint = "'cache_control':{'type':'ephemeral'}";
        return Stream.of(
                arguments("an unknown field", "{'stream_options':{'include_usage':true}}",
                        "stream_options: Extra inputs are not permitted"),
                arguments("no max_tokens", "{'max_tokens':null}", "max_tokens: Field required"),
                arguments("an empty text block", "{'messages':[{'role':'user','content':[{'type':'text','text':''}]}]}",
                        "messages.0.content.0: text content blocks must be non-empty"),
                arguments("a whitespace text", "{'messages':[{'role':'user','content':'  '}]}",
                        "must contain non-whitespace text"),
                arguments("a system role", "{'messages':[{'role':'system','content':'x'}]}", "messages.0.role"),
                arguments("an unanswered tool_use", "{'messages':[{'role':'user','content':'hi'}," + toolUse
                                + ",{'role':'user','content':'go on'}]}",
                        "messages.2: `tool_use` ids were found without `tool_result` blocks immediately after:"
                                + " toolu_1"),
                arguments("a tool_result after text", "{'messages':[{'role':'user','content':'hi'}," + toolUse
                                + ",{'role':'user','content':[{'type':'text','text':'x'},"
                                + "{'type':'tool_result','tool_use_id':'toolu_1'}]}]}",
                        "without `tool_result` blocks immediately after"),
                arguments("an orphan tool_result",
                        "{'messages':[{'role':'user','content':[{'type':'tool_result','tool_use_id':'toolu_9'}]}]}",
                        "messages.0.content.0: unexpected `tool_use_id`"),
                arguments("a temperature above 1", "{'temperature':1.5}",
                        "temperature: Input should be less than or equal to 1"),
                arguments("a bad image media type", "{'messages':[{'role':'user','content':[{'type':'image',"
                                + "'source':{'type':'base64','media_type':'image/bmp','data':'AA=='}}]}]}",
                        "messages.0.content.0.source.media_type"),
                arguments("a tool without a schema", "{'tools':[{'name':'f'}]}", "tools.0.input_schema.type"),
                arguments("an unknown tool_choice", "{'tool_choice':{'type':'required'}}", "tool_choice.type"),
                arguments("five cache breakpoints", "{'system':[{'type':'text','text':'a'," + breakpoint + "},"
                                + "{'type':'text','text':'b'," + breakpoint + "},{'type':'text','text':'c',"
                                + breakpoint + "},{'type':'text','text':'d'," + breakpoint + "}],"
                                + "'messages':[{'role':'user','content':[{'type':'text','text':'e',"
                                + "'cache_control':{'type':'ephemeral','ttl':'1h'}}]}]}",
                        "A maximum of 4 blocks with cache_control may be provided. Found 5."));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejectedRequests")
    void rejectsWhatTheRealApiRejectsWithA400NamingTheField(String name, String change, String expected,
                                                             FakeAnthropicUpstream upstream,
                                                             VertxTestContext testContext) {
        JsonObject body = request(false);
        new JsonObject(change.replace('\'', '"')).forEach(field -> {
            if (field.getValue() == null) {
                body.remove(field.getKey());
            } else {
                body.put(field.getKey(), field.getValue());
            }
        });

        send(upstream, "/v1/messages", body, headers())
                .compose(response -> response.body().map(answer -> {
                    testContext.verify(() -> {
                        assertThat(response.statusCode()).isEqualTo(400);
                        JsonObject error = new JsonObject(answer);
                        assertThat(error.getString("type")).isEqualTo("error");
                        assertThat(error.getJsonObject("error").getString("type")).isEqualTo("invalid_request_error");
                        assertThat(error.getJsonObject("error").getString("message")).contains(expected);
                    });
                    return answer;
                }))
                .compose(answered -> upstream.lastRequest().responseEnded())
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void rejectsSamplingParametersOnVersion20261021(FakeAnthropicUpstream upstream, VertxTestContext testContext) {
        MultiMap newest = MultiMap.caseInsensitiveMultiMap().add("anthropic-version", "2026-10-21");

        send(upstream, "/v1/messages", request(false).put("top_p", 0.9), newest)
                .compose(response -> response.body().map(body -> response.statusCode() + " "
                        + new JsonObject(body).getJsonObject("error").getString("message")))
                .onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
                    assertThat(answer).isEqualTo("400 top_p: Extra inputs are not permitted");
                    testContext.completeNow();
                })));
    }

    @Test
    void acceptsAToolRoundTripCachedBlocksAndTheBetaQuery(FakeAnthropicUpstream upstream,
                                                         VertxTestContext testContext) {
        JsonObject body = request(false)
                .put("system", new JsonArray().add(new JsonObject().put("type", "text").put("text", "Be terse.")
                        .put("cache_control", new JsonObject().put("type", "ephemeral").put("ttl", "1h"))))
                .put("messages", new JsonArray()
                        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                                .add(new JsonObject().put("type", "image").put("source", new JsonObject()
                                        .put("type", "url").put("url", "https://example.com/a.png")))
                                .add(new JsonObject().put("type", "text").put("text", "Weather in Paris?"))))
                        .add(new JsonObject().put("role", "assistant").put("content", new JsonArray()
                                .add(new JsonObject().put("type", "tool_use").put("id", "toolu_01A")
                                        .put("name", "get_weather")
                                        .put("input", new JsonObject().put("city", "Paris")))))
                        .add(new JsonObject().put("role", "user").put("content", new JsonArray()
                                .add(new JsonObject().put("type", "tool_result").put("tool_use_id", "toolu_01A")
                                        .put("content", "18°C, clear")))))
                .put("tools", new JsonArray().add(new JsonObject().put("name", "get_weather")
                        .put("input_schema", new JsonObject().put("type", "object"))))
                .put("tool_choice", new JsonObject().put("type", "auto").put("disable_parallel_tool_use", true))
                .put("metadata", new JsonObject().put("user_id", "u_7f3a"));

        send(upstream, "/v1/messages?beta=true", body, headers())
                .onComplete(testContext.succeeding(response -> testContext.verify(() -> {
                    assertThat(response.statusCode()).isEqualTo(200);
                    assertThat(upstream.lastRequest().path()).isEqualTo("/v1/messages");
                    assertThat(upstream.lastRequest().query()).isEqualTo("beta=true");
                    testContext.completeNow();
                })));
    }

    @Test
    void answersAnUnknownPathWithNotFound(FakeAnthropicUpstream upstream, VertxTestContext testContext) {
        send(upstream, "/v1/complete", request(false), headers())
                .compose(response -> response.body().map(body -> response.statusCode() + " "
                        + new JsonObject(body).getJsonObject("error").getString("type")))
                .onComplete(testContext.succeeding(answer -> testContext.verify(() -> {
                    assertThat(answer).isEqualTo("404 not_found_error");
                    testContext.completeNow();
                })));
    }

    // ---- scripted failures ----

    @ParameterizedTest(name = "HTTP {0} is {1}")
    @CsvSource({"400, invalid_request_error", "401, authentication_error", "402, billing_error",
            "403, permission_error", "404, not_found_error", "413, request_too_large", "429, rate_limit_error",
            "500, api_error", "502, api_error", "504, timeout_error", "529, overloaded_error"})
    void answersErrorStatusesWithAnthropicsErrorBody(int status, String type, FakeAnthropicUpstream upstream,
                                                     VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.error(status));

        send(upstream, request(false)).compose(response -> response.body().map(body -> {
            testContext.verify(() -> {
                assertThat(response.statusCode()).isEqualTo(status);
                JsonObject error = new JsonObject(body);
                assertThat(error.getString("type")).isEqualTo("error");
                assertThat(error.getJsonObject("error").getString("type")).isEqualTo(type);
                assertThat(error.getJsonObject("error").getString("message")).isNotBlank();
                assertThat(error.getString("request_id")).isEqualTo(response.getHeader("request-id"));
            });
            return body;
        })).onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void a429CarriesRetryAfterAndRateLimitHeadersWhichATestCanChangeOrDrop(FakeAnthropicUpstream upstream,
                                                                          VertxTestContext testContext) {
        upstream.enqueue(AnthropicBehaviour.error(429), AnthropicBehaviour.error(429).header("Retry-After", "7"),
                AnthropicBehaviour.error(429).withoutHeader("retry-after").withoutRateLimitHeaders());

        head(upstream).compose(first -> head(upstream).compose(second -> head(upstream)
                        .map(third -> List.of(first, second, third))))
                .onComplete(testContext.succeeding(responses -> testContext.verify(() -> {
                    HttpClientResponse first = responses.get(0);
                    assertThat(first.statusCode()).isEqualTo(429);
                    assertThat(first.headers().getAll("retry-after")).containsExactly("1");
                    assertThat(first.getHeader("anthropic-ratelimit-requests-remaining")).isEqualTo("0");
                    Instant reset = Instant.parse(first.getHeader("anthropic-ratelimit-requests-reset"));
                    assertThat(Duration.between(Instant.now(), reset)).isLessThanOrEqualTo(Duration.ofSeconds(2));
                    assertThat(responses.get(1).headers().getAll("retry-after")).as("replaced, in any case")
                            .containsExactly("7");
                    assertThat(responses.get(2).getHeader("retry-after")).isNull();
                    assertThat(responses.get(2).getHeader("anthropic-ratelimit-requests-reset")).isNull();
                    testContext.completeNow();
                })));
    }

    @Test
    void playsQueuedBehavioursThenPerModelOnesThenTheDefault(FakeAnthropicUpstream upstream,
                                                            VertxTestContext testContext) {
        upstream.enqueue(AnthropicBehaviour.error(529)).behaveFor("claude-broken", AnthropicBehaviour.error(500));
        JsonObject broken = request(false).put("model", "claude-broken");

        status(upstream, broken, headers())
                .compose(first -> status(upstream, broken, headers()).compose(second ->
                        status(upstream, request(false), headers()).map(third -> List.of(first, second, third))))
                .onComplete(testContext.succeeding(statuses -> testContext.verify(() -> {
                    assertThat(statuses).containsExactly("529", "500", "200");
                    assertThat(upstream.requestCount()).isEqualTo(3);
                    testContext.completeNow();
                })));
    }

    @Test
    void anErrorEventMidStreamFollowsA200AndEndsTheResponse(FakeAnthropicUpstream upstream,
                                                            VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().errorEventAfter(3));

        send(upstream, request(true)).compose(response -> response.body().map(body -> {
            testContext.verify(() -> {
                assertThat(response.statusCode()).isEqualTo(200);
                List<Event> events = events(body.toString());
                assertThat(events).extracting(Event::name).containsExactly("message_start", "content_block_start",
                        "ping", "content_block_delta", "error");
                assertThat(events.get(4).json()).isEqualTo(new JsonObject().put("type", "error").put("error",
                        new JsonObject().put("type", "overloaded_error").put("message", "Overloaded")));
            });
            return body;
        })).compose(body -> upstream.lastRequest().responseEnded()).onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void aStreamEndedEarlyHasNoMessageStopAndAMalformedEventIsNotJson(FakeAnthropicUpstream upstream,
                                                                     VertxTestContext testContext) {
        upstream.enqueue(AnthropicBehaviour.normal().endAfter(5), AnthropicBehaviour.normal().malformedEventAfter(3));

        post(upstream, request(true)).compose(ended -> post(upstream, request(true)).map(malformed -> {
            testContext.verify(() -> {
                assertThat(events(ended.toString())).extracting(Event::name).containsExactly("message_start",
                        "content_block_start", "ping", "content_block_delta", "content_block_delta",
                        "content_block_delta");
                List<Event> events = events(malformed.toString());
                assertThat(events.get(4).data()).startsWith("{\"type\":\"content_block_delta\"").endsWith("\"tru");
                assertThat(events.get(events.size() - 1).name()).as("and goes on").isEqualTo("message_stop");
            });
            return malformed;
        })).onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void aResetStreamClosesTheConnectionAndIsNeverAnsweredInFull(FakeAnthropicUpstream upstream,
                                                                VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().chunks(10).resetAfter(4));

        send(upstream, request(true))
                .compose(response -> response.body().otherwiseEmpty())
                .compose(ignored -> upstream.lastRequest().connectionClosed())
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    RecordedAnthropicRequest seen = upstream.lastRequest();
                    assertThat(seen.contentEventsWritten()).as("message_start, the block start, two deltas")
                            .isEqualTo(2);
                    assertThat(seen.wasAnsweredInFull()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void aStalledStreamSendsItsFirstEventsAndThenNothingUntilTheClientLeaves(FakeAnthropicUpstream upstream,
                                                                            VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.normal().stallAfter(3));
        Promise<Void> received = Promise.promise();
        StringBuilder pending = new StringBuilder();

        send(upstream, request(true)).onSuccess(response -> {
            response.exceptionHandler(closedByUs -> { });
            response.handler(read -> {
                pending.append(read);
                if (events(pending.toString()).size() == 4 && received.tryComplete()) {
                    testContext.verify(() -> assertThat(upstream.lastRequest().wasAnsweredInFull()).isFalse());
                    response.request().connection().close();
                }
            });
        }).onFailure(testContext::failNow);

        received.future().compose(closing -> upstream.lastRequest().connectionClosed())
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(events(pending.toString())).extracting(Event::name).containsExactly("message_start",
                            "content_block_start", "ping", "content_block_delta");
                    assertThat(upstream.lastRequest().wasAnsweredInFull()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void aHangingRequestIsNeverAnswered(Vertx vertx, FakeAnthropicUpstream upstream, VertxTestContext testContext) {
        upstream.behave(AnthropicBehaviour.hang());

        client.request(new RequestOptions().setMethod(HttpMethod.POST)
                        .setAbsoluteURI(upstream.baseUrl() + "/v1/messages").setHeaders(headers()))
                .compose(request -> {
                    request.response().onSuccess(answered -> testContext.failNow("the hanging fake answered"));
                    request.end(request(false).toBuffer());
                    Promise<Void> recorded = Promise.promise();
                    vertx.setPeriodic(5, id -> {
                        if (upstream.requestCount() == 1) {
                            vertx.cancelTimer(id);
                            recorded.complete();
                        }
                    });
                    return recorded.future().compose(seen -> request.connection().close());
                })
                .compose(closed -> upstream.lastRequest().connectionClosed())
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(upstream.lastRequest().wasAnsweredInFull()).isFalse();
                    testContext.completeNow();
                })));
    }

    @Test
    void burstsFragmentsCrlfAndPingsKeepEveryEventAndCountItsContentOnce(FakeAnthropicUpstream upstream,
                                                                        VertxTestContext testContext) {
        upstream.enqueue(AnthropicBehaviour.normal().chunks(5).burst(),
                AnthropicBehaviour.normal().chunks(5).fragments(7).crlf().pings());

        post(upstream, request(true))
                .map(burst -> upstream.lastRequest().contentEventsWritten())
                .compose(burst -> post(upstream, request(true))
                        .compose(fragmented -> upstream.lastRequest().responseEnded().map(ended -> {
                            testContext.verify(() -> {
                                assertThat(fragmented.toString()).contains("\r\n\r\n").doesNotContain("}\n\n");
                                List<Event> events = events(fragmented.toString());
                                assertThat(text(events)).isEqualTo(TEXT);
                                for (int i = 1; i < events.size(); i++) {
                                    assertThat(events.get(i - 1).name().equals("ping") || events.get(i).name()
                                            .equals("ping")).as("a ping between every two events").isTrue();
                                }
                            });
                            return List.of(burst, upstream.lastRequest().contentEventsWritten());
                        })))
                .onComplete(testContext.succeeding(counts -> testContext.verify(() -> {
                    assertThat(counts).containsExactly(5, 5);
                    testContext.completeNow();
                })));
    }

    // ---- helpers ----

    /** The events of an SSE body ({@code \n} or {@code \r\n} lines): each event's name and data. */
    private static List<Event> events(String stream) {
        List<Event> events = new ArrayList<>();
        for (String block : stream.replace("\r\n", "\n").split("\n\n")) {
            String name = null;
            String data = null;
            for (String line : block.split("\n")) {
                if (line.startsWith("event: ")) {
                    name = line.substring("event: ".length());
                } else if (line.startsWith("data: ")) {
                    data = line.substring("data: ".length());
                }
            }
            if (name != null && data != null) {
                events.add(new Event(name, data));
            }
        }
        return events;
    }

    /** The text of the {@code text_delta}s, concatenated. */
    private static String text(List<Event> events) {
        StringBuilder text = new StringBuilder();
        for (Event event : events) {
            if (event.name().equals("content_block_delta")
                    && event.json().getJsonObject("delta").getValue("text") instanceof String piece) {
                text.append(piece);
            }
        }
        return text.toString();
    }

    private static MultiMap headers() {
        return MultiMap.caseInsensitiveMultiMap().add("x-api-key", "sk-ant-test")
                .add("anthropic-version", "2023-06-01");
    }

    private static JsonObject request(boolean stream) {
        return new JsonObject().put("model", "claude-test").put("max_tokens", 64).put("stream", stream)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
    }

    private Future<Buffer> post(FakeAnthropicUpstream upstream, JsonObject body) {
        return send(upstream, body).compose(HttpClientResponse::body);
    }

    /** A whole-message request's response, its body read. */
    private Future<HttpClientResponse> head(FakeAnthropicUpstream upstream) {
        return send(upstream, request(false)).compose(response -> response.body().map(response));
    }

    private Future<String> status(FakeAnthropicUpstream upstream, JsonObject body, MultiMap headers) {
        return send(upstream, "/v1/messages", body, headers)
                .compose(response -> response.body().map(ignored -> String.valueOf(response.statusCode())));
    }

    private Future<HttpClientResponse> send(FakeAnthropicUpstream upstream, JsonObject body) {
        return send(upstream, "/v1/messages", body, headers());
    }

    private Future<HttpClientResponse> send(FakeAnthropicUpstream upstream, String path, JsonObject body,
                                            MultiMap headers) {
        return client.request(new RequestOptions().setMethod(HttpMethod.POST)
                        .setAbsoluteURI(upstream.baseUrl() + path).setHeaders(headers))
                .compose(request -> request.send(body.toBuffer()));
    }
}
