package co.corouter.server.it;

import static co.corouter.server.it.ChatCompletionsTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.common.Money;
import co.corouter.testkit.upstream.Behaviour;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * provider-openai (loaded from its plugin jar) against a hostile fake upstream, through a real node: for every
 * upstream behaviour, what the client sees AND what the ledger and the usage table hold afterwards.
 */
class OpenAiUpstreamTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream().set("http", "sse_keepalive_ms", 200)
            .build();

    CorouterNode.Account account;

    @BeforeEach
    void freshAccountAndUpstream() {
        account = NODE.newAccount("1.00");
        NODE.upstream().reset().requireApiKey("sk-upstream-test");
        // each case starts with a closed breaker: the failures of the others must not turn it away
        NODE.admin("POST", "/admin/endpoints/reset", null, 200);
    }

    static JsonObject request(boolean stream) {
        return new JsonObject().put("model", CorouterNode.FAKE_MODEL).put("stream", stream).put("max_tokens", 50)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hi there")));
    }

    /** $2/M prompt, $10/M completion (the fake model's catalog price). */
    static long costOf(int prompt, int completion) {
        return Money.cost(prompt, 2_000_000_000L, completion, 10_000_000_000L);
    }

    Row generation(String id) {
        NODE.flushUsage();
        var rows = NODE.sql("SELECT * FROM generations WHERE id = $1", id);
        assertThat(rows.size()).as("usage row for " + id).isEqualTo(1);
        return rows.iterator().next();
    }

    void assertNothingCharged(String generationId) {
        assertThat(generation(generationId).getLong("cost")).isZero();
        assertThat(NODE.chargeFor(generationId)).isZero();
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD);
        NODE.assertLedgerBalances();
    }

    static String id(HttpResponse<String> response) {
        return response.headers().firstValue("X-Generation-Id").orElseThrow();
    }

    static List<JsonObject> events(HttpResponse<String> response) {
        List<JsonObject> events = new ArrayList<>();
        for (String block : response.body().split("\n\n")) {
            if (block.startsWith("data: ") && !block.equals("data: [DONE]")) {
                events.add(new JsonObject(block.substring(6)));
            }
        }
        return events;
    }

    @Test
    void aNormalAnswerIsRelayedAndChargedAtTheCatalogPrice() {
        NODE.upstream().behave(Behaviour.normal().promptTokens(7).completionTokens(12).content("hello back"));
        HttpResponse<String> response = NODE.chat(account.key(), request(false));

        assertThat(response.statusCode()).isEqualTo(200);
        JsonObject body = new JsonObject(response.body());
        assertThat(body.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"))
                .isEqualTo("hello back");
        assertThat(body.getString("model")).isEqualTo(CorouterNode.FAKE_MODEL);
        JsonObject usage = body.getJsonObject("usage");
        assertThat(usage.getInteger("prompt_tokens")).isEqualTo(7);
        assertThat(usage.getInteger("completion_tokens")).isEqualTo(12);
        long expected = costOf(7, 12);
        assertThat(new BigDecimal(usage.getValue("cost").toString())).isEqualByComparingTo(Money.toUsd(expected));

        assertThat(NODE.upstream().requestCount()).isEqualTo(1);
        var upstreamRequest = NODE.upstream().lastRequest();
        assertThat(upstreamRequest.authorization()).isEqualTo("Bearer sk-upstream-test");
        assertThat(upstreamRequest.body().getString("model")).isEqualTo("gpt-fake");
        assertThat(upstreamRequest.body().getInteger("max_tokens")).isEqualTo(50);

        Row row = generation(id(response));
        assertThat(row.getInteger("status")).isEqualTo(200);
        assertThat(row.getLong("cost")).isEqualTo(expected);
        assertThat(NODE.chargeFor(id(response))).isEqualTo(expected);
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD - expected);
        NODE.assertLedgerBalances();
    }

    @Test
    void aPacedStreamArrivesChunkByChunkWithTheUsageChunkLast() {
        NODE.upstream().behave(Behaviour.normal().chunks(10).intervalMs(5).promptTokens(3).completionTokens(20));
        HttpResponse<String> response = NODE.chat(account.key(), request(true));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).endsWith("data: [DONE]\n\n");
        List<JsonObject> events = events(response);
        long contentChunks = events.stream().filter(e -> !e.getJsonArray("choices").isEmpty())
                .filter(e -> e.getJsonArray("choices").getJsonObject(0).getJsonObject("delta").getString("content") != null)
                .count();
        assertThat(contentChunks).isGreaterThanOrEqualTo(10);
        long usageChunks = events.stream().filter(e -> e.getValue("usage") instanceof JsonObject).count();
        assertThat(usageChunks).as("only corouter's own usage chunk carries usage").isEqualTo(1);
        JsonObject usage = events.get(events.size() - 1).getJsonObject("usage");
        long expected = costOf(3, 20);
        assertThat(new BigDecimal(usage.getValue("cost").toString())).isEqualByComparingTo(Money.toUsd(expected));

        Row row = generation(id(response));
        assertThat(row.getBoolean("streamed")).isTrue();
        assertThat(row.getInteger("completion_tokens")).isEqualTo(20);
        assertThat(NODE.chargeFor(id(response))).isEqualTo(expected);
        NODE.assertLedgerBalances();
    }

    @Test
    void anUpstreamServerErrorBecomes502AndCostsNothing() {
        NODE.upstream().behave(Behaviour.error(500));
        HttpResponse<String> response = NODE.chat(account.key(), request(false));
        assertError(response, 502);
        assertThat(new JsonObject(response.body()).getJsonObject("error").getJsonObject("metadata")
                .getInteger("provider_code")).isEqualTo(500);
        assertThat(generation(id(response)).getInteger("status")).isEqualTo(502);
        assertNothingCharged(id(response));
    }

    @Test
    void anUpstreamRateLimitBecomes429WithRetryAfterAndAnAuthFailure502AndBothCostNothing() {
        NODE.upstream().enqueue(Behaviour.error(429).header("Retry-After", "7"), Behaviour.error(401));
        HttpResponse<String> limited = NODE.chat(account.key(), request(false));
        assertError(limited, 429);
        assertThat(limited.headers().firstValue("Retry-After")).hasValue("7");
        HttpResponse<String> denied = NODE.chat(account.key(), request(true));
        assertError(denied, 502);
        assertThat(NODE.upstream().requestCount()).isEqualTo(2);
        assertNothingCharged(id(limited));
        assertNothingCharged(id(denied));
    }

    @Test
    void anUpstreamBadRequestIsReportedAs400AndCostsNothing() {
        NODE.upstream().behave(Behaviour.error(400));
        HttpResponse<String> response = NODE.chat(account.key(), request(false));
        assertError(response, 400);
        assertNothingCharged(id(response));
    }

    @Test
    void aHangingUpstreamTimesOutWith504AndCostsNothing() {
        NODE.upstream().behave(Behaviour.hang());
        long started = System.nanoTime();
        HttpResponse<String> response = NODE.chat(account.key(), request(false));
        long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
        assertError(response, 504);
        assertThat(elapsedMillis).isBetween(2_500L, 15_000L);
        assertThat(generation(id(response)).getInteger("status")).isEqualTo(504);
        assertNothingCharged(id(response));
    }

    @Test
    void aConnectionResetMidStreamEndsTheStreamWithAnErrorEventAndBillsOnlyWhatWasDelivered() {
        NODE.upstream().behave(Behaviour.normal().chunks(10).intervalMs(2).resetAfter(3));
        HttpResponse<String> response = NODE.chat(account.key(), request(true));

        assertThat(response.statusCode()).isEqualTo(200);
        List<JsonObject> events = events(response);
        JsonObject last = events.get(events.size() - 1);
        assertThat(last.getJsonObject("error").getInteger("code")).isEqualTo(502);
        assertThat(last.getJsonArray("choices").getJsonObject(0).getString("finish_reason")).isEqualTo("error");
        assertThat(events.size()).isGreaterThanOrEqualTo(3);
        Row row = generation(id(response));
        assertThat(row.getInteger("status")).isEqualTo(502);
        assertThat(row.getBoolean("usage_estimated")).isTrue();
        assertDeliveredOutputIsBilled(row, last, id(response));
    }

    @Test
    void aMalformedChunkEndsTheStreamWithAnErrorEventAndBillsOnlyWhatWasDelivered() {
        NODE.upstream().behave(Behaviour.normal().chunks(6).malformedChunkAfter(2));
        HttpResponse<String> response = NODE.chat(account.key(), request(true));

        assertThat(response.statusCode()).isEqualTo(200);
        List<JsonObject> events = events(response);
        JsonObject last = events.get(events.size() - 1);
        assertThat(last.getJsonObject("error").getInteger("code")).isEqualTo(502);
        Row row = generation(id(response));
        assertThat(row.getString("error_code")).isEqualTo("upstream_malformed");
        assertDeliveredOutputIsBilled(row, last, id(response));
    }

    /** The delivered part is charged (never the whole reservation), and the error event says what it cost. */
    void assertDeliveredOutputIsBilled(Row row, JsonObject errorEvent, String generationId) {
        long cost = row.getLong("cost");
        assertThat(row.getInteger("completion_tokens")).isPositive().isLessThan(50);
        assertThat(cost).isPositive().isEqualTo(costOf(row.getInteger("prompt_tokens"), row.getInteger("completion_tokens")));
        assertThat(NODE.chargeFor(generationId)).isEqualTo(cost);
        assertThat(new BigDecimal(errorEvent.getJsonObject("usage").getValue("cost").toString()))
                .isEqualByComparingTo(Money.toUsd(cost));
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD - cost);
        NODE.assertLedgerBalances();
    }

    @Test
    void aClientThatHangsUpMidStreamStopsTheUpstreamAndPaysForWhatItReceived() throws Exception {
        NODE.upstream().behave(Behaviour.normal().chunks(40).intervalMs(25));
        String body = request(true).encode();
        String generationId;
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", NODE.port())) {
            socket.getOutputStream().write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer " + account.key() + "\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + "\r\n\r\n"
                    + body).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            java.io.BufferedReader reader = new java.io.BufferedReader(new java.io.InputStreamReader(
                    socket.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
            String line;
            String header = null;
            int contentEvents = 0;
            while ((line = reader.readLine()) != null && contentEvents < 5) {
                if (line.regionMatches(true, 0, "X-Generation-Id:", 0, 16)) {
                    header = line.substring(16).trim();
                }
                if (line.startsWith("data: ") && line.contains("\"content\"")) {
                    contentEvents++;
                }
            }
            generationId = header;
        }
        assertThat(generationId).isNotNull();
        var upstreamRequest = NODE.upstream().lastRequest();
        CorouterNode.await(upstreamRequest.connectionClosed());

        Row row = NODE.awaitGeneration(generationId);
        assertThat(row.getInteger("status")).isEqualTo(499);
        assertThat(row.getBoolean("cancelled")).isTrue();
        assertThat(row.getInteger("completion_tokens")).isPositive().isLessThan(50);
        assertThat(row.getLong("cost")).isPositive().isEqualTo(NODE.chargeFor(generationId));
        assertThat(NODE.upstream().requestCount()).isEqualTo(1);
        NODE.assertLedgerBalances();
    }

    @Test
    void aMalformedWholeResponseBecomes502() {
        NODE.upstream().behave(Behaviour.normal().malformedBody());
        HttpResponse<String> response = NODE.chat(account.key(), request(false));
        assertError(response, 502);
        assertNothingCharged(id(response));
    }

    @Test
    void anAnswerWithoutUsageIsChargedOnAnEstimateAndMarkedSo() {
        NODE.upstream().behave(Behaviour.normal().omitUsage().content("four words right here"));
        HttpResponse<String> whole = NODE.chat(account.key(), request(false));
        NODE.upstream().behave(Behaviour.normal().omitUsage().chunks(5));
        HttpResponse<String> streamed = NODE.chat(account.key(), request(true));

        for (HttpResponse<String> response : List.of(whole, streamed)) {
            assertThat(response.statusCode()).isEqualTo(200);
            Row row = generation(id(response));
            assertThat(row.getBoolean("usage_estimated")).isTrue();
            assertThat(row.getInteger("completion_tokens")).isPositive();
            assertThat(row.getLong("cost")).isPositive().isEqualTo(NODE.chargeFor(id(response)));
        }
        NODE.assertLedgerBalances();
    }

    @Test
    void aRequestTheAccountCannotAffordNeverReachesTheUpstream() {
        CorouterNode.Account poor = NODE.newAccount("0.0001");
        HttpResponse<String> response = NODE.chat(poor.key(), request(false).put("max_tokens", 1000));
        assertError(response, 402);
        assertThat(NODE.upstream().requestCount()).isZero();
        NODE.flushUsage();
        assertThat(NODE.balance(poor.id())).isEqualTo(100_000);
    }

    @Test
    void aStreamWaitingForItsFirstUpstreamEventGetsKeepAliveCommentsAndThenItsAnswer() {
        NODE.upstream().behave(Behaviour.normal().delayMs(900).chunks(3).promptTokens(3).completionTokens(6));
        HttpResponse<String> response = NODE.chat(account.key(), request(true));

        assertThat(response.statusCode()).isEqualTo(200);
        String body = response.body();
        assertThat(body).startsWith(": corouter processing\n\n");
        assertThat(body.indexOf("data: ")).as("comments come before the first event, none after it")
                .isGreaterThan(body.lastIndexOf(": corouter processing"));
        assertThat(body).endsWith("data: [DONE]\n\n");
        Row row = generation(id(response));
        assertThat(row.getInteger("status")).isEqualTo(200);
        assertThat(row.getLong("cost")).isEqualTo(costOf(3, 6));
    }
}
