package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.common.Money;
import co.corouter.testkit.upstream.Behaviour;
import co.corouter.testkit.upstream.FakeOpenAiUpstream;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Several fake upstreams behind one model: which endpoint is tried, in which order, when the next one is tried, what
 * the client sees, and what the ledger and the usage rows say about who served at what price.
 */
class RoutingTest {

    /** a: $1/M prompt, $2/M completion — b: $3/M, $6/M — c: $5/M, $10/M (the priciest). */
    static JsonObject endpoint(String provider, String prompt, String completion) {
        return new JsonObject().put("provider", provider).put("upstream_model", "gpt-" + provider)
                .put("max_output_tokens", 1000).put("supported_parameters", new JsonArray().add("max_tokens"))
                .put("pricing", new JsonObject().put("prompt_per_million", prompt).put("completion_per_million",
                        completion));
    }

    static final JsonObject A = endpoint("a", "1.00", "2.00");
    static final JsonObject B = endpoint("b", "3.00", "6.00");
    static final JsonObject C = endpoint("c", "5.00", "10.00");

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstreams("a", "b", "c")
            .set("routing", "retries", 0)
            .set("routing", "first_byte_timeout_ms", 400)
            .set("routing", "breaker_max_failures", 3)
            .set("routing", "breaker_reset_ms", 1_000)
            .model(new JsonObject().put("id", "route/trio").put("context_length", 8192)
                    .put("endpoints", new JsonArray().add(A).add(B).add(C.copy().put("supported_parameters",
                            new JsonArray().add("max_tokens").add("tools")))))
            .model(new JsonObject().put("id", "route/solo").put("context_length", 8192)
                    .put("endpoints", new JsonArray().add(A)))
            .model(new JsonObject().put("id", "route/backup").put("context_length", 8192)
                    .put("endpoints", new JsonArray().add(C)))
            .model(new JsonObject().put("id", "route/narrow").put("context_length", 8192)
                    .put("endpoints", new JsonArray().add(A.copy().put("max_in_flight", 1)).add(B)))
            .build();

    CorouterNode.Account account;

    @BeforeEach
    void freshAccountUpstreamsAndBreakers() {
        account = NODE.newAccount("1.00");
        NODE.admin("POST", "/admin/endpoints/reset", null, 200);
        for (String name : List.of("a", "b", "c")) {
            NODE.upstream(name).reset().requireApiKey("sk-upstream-test")
                    .behave(Behaviour.normal().promptTokens(10).completionTokens(20));
        }
    }

    static FakeOpenAiUpstream up(String name) {
        return NODE.upstream(name);
    }

    static JsonObject chat(String model) {
        return new JsonObject().put("model", model).put("max_tokens", 100)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hi")));
    }

    static JsonObject inOrder(JsonObject request, String... providers) {
        JsonArray order = new JsonArray();
        for (String provider : providers) {
            order.add(provider);
        }
        return request.put("provider", new JsonObject().put("order", order));
    }

    static long cost(JsonObject endpoint, int prompt, int completion) {
        JsonObject pricing = endpoint.getJsonObject("pricing");
        return Money.cost(prompt, Money.parseUsd(pricing.getString("prompt_per_million"), "p"), completion,
                Money.parseUsd(pricing.getString("completion_per_million"), "c"));
    }

    Row usageRow(HttpResponse<String> response) {
        return NODE.awaitGeneration(response.headers().firstValue("X-Generation-Id").orElseThrow());
    }

    /** The answer came from {@code provider} at its price, and the usage row and the ledger say so. */
    void assertServedBy(HttpResponse<String> response, String provider, JsonObject endpoint) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonObject body = new JsonObject(response.body());
        assertThat(body.getString("provider")).isEqualTo(provider);
        long expected = cost(endpoint, 10, 20);
        assertThat(new BigDecimal(body.getJsonObject("usage").getValue("cost").toString()))
                .isEqualByComparingTo(Money.toUsd(expected));
        Row row = usageRow(response);
        assertThat(row.getString("provider")).isEqualTo(provider);
        assertThat(row.getString("upstream_model")).isEqualTo("gpt-" + provider);
        assertThat(row.getLong("cost")).isEqualTo(expected).isEqualTo(NODE.chargeFor(row.getString("id")));
        NODE.assertLedgerBalances();
    }

    @Test
    void eachFailureBeforeTheFirstByteFailsOverToTheNextEndpoint() {
        List<Behaviour> failures = List.of(Behaviour.error(500), Behaviour.error(502), Behaviour.error(503),
                Behaviour.error(529), Behaviour.error(429), Behaviour.error(408), Behaviour.error(401),
                Behaviour.normal().resetAfter(0), Behaviour.hang());
        for (Behaviour failure : failures) {
            NODE.admin("POST", "/admin/endpoints/reset", null, 200);
            up("a").reset().requireApiKey("sk-upstream-test").enqueue(failure);
            up("b").reset().requireApiKey("sk-upstream-test").behave(Behaviour.normal().promptTokens(10)
                    .completionTokens(20));
            HttpResponse<String> response = NODE.chat(account.key(), inOrder(chat("route/trio"), "a", "b"));
            assertServedBy(response, "b", B);
            assertThat(up("a").requestCount()).as(failure.toString()).isEqualTo(1);
            assertThat(up("b").requestCount()).as(failure.toString()).isEqualTo(1);
            JsonArray attempts = new JsonObject(NODE.get("/v1/generation?id=" + response.headers()
                    .firstValue("X-Generation-Id").orElseThrow(), account.key()).body()).getJsonObject("data")
                    .getJsonArray("provider_responses");
            assertThat(attempts).hasSize(2);
            assertThat(attempts.getJsonObject(0).getString("provider")).isEqualTo("a");
            assertThat(attempts.getJsonObject(0).getInteger("status")).as(failure.toString()).isNotEqualTo(200);
            assertThat(attempts.getJsonObject(1).getString("provider")).isEqualTo("b");
            assertThat(attempts.getJsonObject(1).getInteger("status")).isEqualTo(200);
        }
    }

    @Test
    void aBadRequestIsNotRetriedElsewhere() {
        up("a").enqueue(Behaviour.error(400));
        HttpResponse<String> response = NODE.chat(account.key(), inOrder(chat("route/trio"), "a", "b"));
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(up("b").requestCount()).isZero();
    }

    @Test
    void nothingFailsOverOnceAByteReachedTheClient() {
        up("a").enqueue(Behaviour.normal().chunks(6).intervalMs(2).resetAfter(3));
        HttpResponse<String> response = NODE.chat(account.key(), inOrder(chat("route/trio").put("stream", true),
                "a", "b"));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("\"finish_reason\":\"error\"").endsWith("data: [DONE]\n\n");
        assertThat(up("b").requestCount()).isZero();
        Row row = usageRow(response);
        assertThat(row.getString("provider")).isEqualTo("a");
        assertThat(row.getLong("cost")).isEqualTo(NODE.chargeFor(row.getString("id")));
    }

    @Test
    void modelsFallBackInTheirListedOrderAndTheAnswerNamesTheModelThatServed() {
        up("a").behave(Behaviour.error(500));
        HttpResponse<String> response = NODE.chat(account.key(), chat("route/solo")
                .put("models", new JsonArray().add("route/backup")));
        assertServedBy(response, "c", C);
        assertThat(new JsonObject(response.body()).getString("model")).isEqualTo("route/backup");
        assertThat(usageRow(response).getString("model")).isEqualTo("route/backup");
        assertThat(up("a").requestCount()).isEqualTo(1);
    }

    @Test
    void providerPreferencesChooseAndExcludeEndpoints() {
        assertServedBy(NODE.chat(account.key(), chat("route/trio").put("provider",
                new JsonObject().put("only", new JsonArray().add("b")))), "b", B);
        assertServedBy(NODE.chat(account.key(), chat("route/trio").put("provider",
                new JsonObject().put("ignore", new JsonArray().add("a").add("b")))), "c", C);
        assertServedBy(NODE.chat(account.key(), chat("route/trio").put("provider",
                new JsonObject().put("max_price", new JsonObject().put("prompt", 2).put("completion", 2)))), "a", A);
        assertServedBy(NODE.chat(account.key(), chat("route/trio").put("provider",
                new JsonObject().put("sort", "price"))), "a", A);
        assertServedBy(NODE.chat(account.key(), chat("route/trio").put("tools", new JsonArray().add(new JsonObject()
                        .put("type", "function").put("function", new JsonObject().put("name", "f"))))
                .put("provider", new JsonObject().put("require_parameters", true))), "c", C);
        assertThat(up("a").requestCount() + up("b").requestCount() + up("c").requestCount()).isEqualTo(5);

        HttpResponse<String> none = NODE.chat(account.key(), chat("route/trio").put("provider",
                new JsonObject().put("max_price", new JsonObject().put("prompt", "0.10"))));
        ChatCompletionsTest.assertError(none, 503);
        HttpResponse<String> badSort = NODE.chat(account.key(), chat("route/trio").put("provider",
                new JsonObject().put("sort", "vibes")));
        ChatCompletionsTest.assertError(badSort, 400);
    }

    @Test
    void withoutFallbacksAFailureOfTheChosenEndpointIsTheAnswer() {
        up("a").behave(Behaviour.error(500));
        HttpResponse<String> response = NODE.chat(account.key(), chat("route/trio").put("provider",
                new JsonObject().put("order", new JsonArray().add("a")).put("allow_fallbacks", false)));
        ChatCompletionsTest.assertError(response, 502);
        assertThat(new JsonObject(response.body()).getJsonObject("error").getJsonObject("metadata")
                .getString("provider_name")).isEqualTo("a");
        assertThat(up("b").requestCount() + up("c").requestCount()).isZero();
    }

    @Test
    void theReservationCoversThePriciestCandidateAndTheChargeIsTheServingEndpointsPrice() {
        // worst case at c's prices: the body's bytes at $5/M plus 100 tokens at $10/M
        String body = inOrder(chat("route/trio"), "a", "b", "c").encode();
        long atC = Money.cost(body.length(), 5_000_000_000L, 100, 10_000_000_000L);
        long atA = Money.cost(body.length(), 1_000_000_000L, 100, 2_000_000_000L);
        CorouterNode.Account justA = NODE.newAccount(Money.toUsd(atA).toPlainString());
        ChatCompletionsTest.assertError(NODE.chat(justA.key(), body), 402);
        assertThat(up("a").requestCount()).as("refused before any call").isZero();

        CorouterNode.Account justC = NODE.newAccount(Money.toUsd(atC).toPlainString());
        up("a").enqueue(Behaviour.error(500));
        HttpResponse<String> served = NODE.chat(justC.key(), body);
        assertThat(new JsonObject(served.body()).getString("provider")).isEqualTo("b");
        NODE.flushUsage();
        assertThat(NODE.balance(justC.id())).isEqualTo(atC - cost(B, 10, 20));
        NODE.assertLedgerBalances();
    }

    @Test
    void aBreakerOpensAfterRepeatedFailuresSkipsTheEndpointThenProbesAndCloses() {
        up("a").behave(Behaviour.error(500));
        for (int i = 0; i < 3; i++) {
            assertServedBy(NODE.chat(account.key(), inOrder(chat("route/trio"), "a", "b")), "b", B);
        }
        assertThat(up("a").requestCount()).isEqualTo(3);
        assertThat(breaker("route/trio", "a")).isEqualTo("open");
        assertServedBy(NODE.chat(account.key(), inOrder(chat("route/trio"), "a", "b")), "b", B);
        assertThat(up("a").requestCount()).as("no call while the breaker is open").isEqualTo(3);

        up("a").behave(Behaviour.normal().promptTokens(10).completionTokens(20));
        NODE.awaitCondition("the breaker half-opens after its reset time",
                () -> breaker("route/trio", "a").equals("half_open"));
        assertServedBy(NODE.chat(account.key(), inOrder(chat("route/trio"), "a", "b")), "a", A);
        assertThat(breaker("route/trio", "a")).isEqualTo("closed");
        assertServedBy(NODE.chat(account.key(), inOrder(chat("route/trio"), "a", "b")), "a", A);
    }

    String breaker(String model, String provider) {
        JsonArray endpoints = new JsonObject(NODE.admin("GET", "/admin/endpoints", null, 200)).getJsonArray("data");
        for (Object item : endpoints) {
            JsonObject e = (JsonObject) item;
            if (e.getString("model").equals(model) && e.getString("provider").equals(provider)) {
                return e.getString("breaker");
            }
        }
        throw new AssertionError("no endpoint " + model + "@" + provider);
    }

    @Test
    void aFullBulkheadSendsTheRequestToTheNextEndpointWithoutWaiting() throws Exception {
        // a slow stream holds a's only place for a second and a half (its first byte comes at once)
        up("a").behave(Behaviour.normal().chunks(10).intervalMs(150).promptTokens(10).completionTokens(20));
        CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() ->
                NODE.chat(account.key(), inOrder(chat("route/narrow").put("stream", true), "a", "b")));
        NODE.awaitCondition("the first request holds a's only place", () -> up("a").requestCount() == 1);
        HttpResponse<String> second = NODE.chat(account.key(), inOrder(chat("route/narrow"), "a", "b"));
        assertThat(new JsonObject(second.body()).getString("provider")).isEqualTo("b");
        assertThat(up("a").requestCount()).isEqualTo(1);
        assertThat(first.get().body()).contains("\"provider\":\"a\"");
    }

    @Test
    void whenEveryCandidateIsRateLimitedTheClientGets429WithRetryAfter() {
        up("a").behave(Behaviour.error(429).header("Retry-After", "2"));
        up("b").behave(Behaviour.error(429).header("Retry-After", "3"));
        up("c").behave(Behaviour.error(429).header("Retry-After", "5"));
        HttpResponse<String> response = NODE.chat(account.key(), chat("route/trio"));
        ChatCompletionsTest.assertError(response, 429);
        assertThat(response.headers().firstValue("Retry-After")).hasValue("2");
        assertThat(up("a").requestCount() + up("b").requestCount() + up("c").requestCount()).isEqualTo(3);
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD);
    }

    @Test
    void theEndpointsOfAModelAreListedWithPricesAndHealth() {
        JsonObject listed = new JsonObject(NODE.get("/v1/models/route/trio/endpoints", null).body())
                .getJsonObject("data");
        assertThat(listed.getString("id")).isEqualTo("route/trio");
        JsonArray endpoints = listed.getJsonArray("endpoints");
        assertThat(endpoints).hasSize(3);
        assertThat(endpoints.getJsonObject(0).getString("provider_name")).isEqualTo("a");
        assertThat(endpoints.getJsonObject(0).getJsonObject("pricing").getString("prompt")).isEqualTo("0.000001");
        assertThat(endpoints.getJsonObject(2).getJsonObject("pricing").getString("completion")).isEqualTo("0.00001");
        assertThat(endpoints.getJsonObject(0).getJsonObject("health").getString("breaker")).isNotBlank();
        ChatCompletionsTest.assertError(NODE.get("/v1/models/route/none/endpoints", null), 404);
        JsonObject model = new JsonObject(NODE.get("/v1/models", null).body()).getJsonArray("data").stream()
                .map(JsonObject.class::cast).filter(m -> m.getString("id").equals("route/trio")).findFirst()
                .orElseThrow();
        assertThat(model.getString("object")).isEqualTo("model");
        assertThat(model.getString("owned_by")).isEqualTo("route");
        assertThat(model.getJsonObject("pricing").getString("prompt")).as("the cheapest endpoint's price")
                .isEqualTo("0.000001");
    }

    @Test
    void everyChunkOfAStreamCarriesTheGenerationIdAndThePublicModel() {
        up("a").behave(Behaviour.normal().chunks(5).promptTokens(10).completionTokens(20));
        HttpResponse<String> response = NODE.chat(account.key(), inOrder(chat("route/trio").put("stream", true),
                "a"));
        String id = response.headers().firstValue("X-Generation-Id").orElseThrow();
        assertThat(response.headers().firstValue("x-request-id")).hasValue(id);
        List<JsonObject> events = OpenAiUpstreamTest.events(response);
        assertThat(events).hasSizeGreaterThan(3);
        assertThat(events).allSatisfy(event -> {
            assertThat(event.getString("id")).isEqualTo(id);
            assertThat(event.getString("model")).isEqualTo("route/trio");
        });
    }

    @Test
    void theOpenAiSdkBacksOffOnA429AndSucceedsOnceTheProvidersRecover() {
        for (String name : List.of("a", "b", "c")) {
            up(name).enqueue(Behaviour.error(429));
        }
        com.openai.client.OpenAIClient client = com.openai.client.okhttp.OpenAIOkHttpClient.builder()
                .apiKey(account.key()).baseUrl(NODE.baseUrl()).maxRetries(2).build();
        try {
            com.openai.models.chat.completions.ChatCompletion completion = client.chat().completions().create(
                    com.openai.models.chat.completions.ChatCompletionCreateParams.builder().model("route/trio")
                            .addUserMessage("Hello").maxCompletionTokens(100).build());
            assertThat(completion.choices()).hasSize(1);
        } finally {
            client.close();
        }
        assertThat(up("a").requestCount() + up("b").requestCount() + up("c").requestCount())
                .as("three 429s, then one success after the SDK's back-off").isEqualTo(4);
    }

    @Test
    void theOpenAiSdkSeesOneIdAcrossAStreamAndTheRequestId() {
        up("a").behave(Behaviour.normal().chunks(6).promptTokens(10).completionTokens(20));
        com.openai.client.OpenAIClient client = com.openai.client.okhttp.OpenAIOkHttpClient.builder()
                .apiKey(account.key()).baseUrl(NODE.baseUrl()).maxRetries(0).build();
        try (com.openai.core.http.HttpResponseFor<com.openai.core.http.StreamResponse<
                        com.openai.models.chat.completions.ChatCompletionChunk>> response = client.chat().completions()
                        .withRawResponse().createStreaming(com.openai.models.chat.completions.ChatCompletionCreateParams
                                .builder().model("route/trio").addUserMessage("Hello").maxCompletionTokens(100).build());
                com.openai.core.http.StreamResponse<com.openai.models.chat.completions.ChatCompletionChunk> stream =
                        response.parse()) {
            String requestId = response.requestId().orElseThrow();
            List<com.openai.models.chat.completions.ChatCompletionChunk> chunks = stream.stream().toList();
            assertThat(requestId).startsWith("gen-");
            assertThat(chunks).hasSizeGreaterThan(3).allSatisfy(chunk -> {
                assertThat(chunk.id()).isEqualTo(requestId);
                assertThat(chunk.model()).isEqualTo("route/trio");
            });
            assertThat(chunks.get(chunks.size() - 1).usage()).as("usage in the final chunk, always").isPresent();
        } finally {
            client.close();
        }
    }
}
