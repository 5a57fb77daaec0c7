package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.common.Money;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The OpenAI-compatible surface against provider-mock, loaded from its plugin jar, and a real ledger. */
class ChatCompletionsTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().set("http", "body_limit_bytes", 4096).build();

    static JsonObject hello(boolean stream) {
        return new JsonObject().put("model", CorouterNode.MOCK_MODEL).put("stream", stream)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hello")));
    }

    @Test
    void aWholeCompletionCarriesUsageWhoseCostEqualsTheLedgerDebit() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        HttpResponse<String> response = NODE.chat(account.key(), hello(false));

        assertThat(response.statusCode()).isEqualTo(200);
        String generationId = response.headers().firstValue("X-Generation-Id").orElseThrow();
        JsonObject body = new JsonObject(response.body());
        assertThat(body.getString("id")).isEqualTo(generationId);
        assertThat(body.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"))
                .isNotBlank();
        JsonObject usage = body.getJsonObject("usage");
        assertThat(usage.getInteger("total_tokens"))
                .isEqualTo(usage.getInteger("prompt_tokens") + usage.getInteger("completion_tokens"));
        BigDecimal cost = new BigDecimal(usage.getValue("cost").toString());
        assertThat(cost).isPositive();

        NODE.flushUsage();
        long debit = NODE.chargeFor(generationId);
        assertThat(Money.toUsd(debit)).isEqualByComparingTo(cost);
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD - debit);
        NODE.assertLedgerBalances();
    }

    @Test
    void aStreamEndsWithAUsageChunkAndDoneAndIsChargedExactly() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        HttpResponse<String> response = NODE.chat(account.key(), hello(true));

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        String generationId = response.headers().firstValue("X-Generation-Id").orElseThrow();
        List<String> events = new ArrayList<>();
        for (String block : response.body().split("\n\n")) {
            if (block.startsWith("data: ")) {
                events.add(block.substring(6));
            }
        }
        assertThat(events.get(events.size() - 1)).isEqualTo("[DONE]");
        JsonObject last = new JsonObject(events.get(events.size() - 2));
        assertThat(last.getJsonArray("choices")).isEmpty();
        BigDecimal cost = new BigDecimal(last.getJsonObject("usage").getValue("cost").toString());
        assertThat(cost).isPositive();
        StringBuilder text = new StringBuilder();
        for (String event : events.subList(0, events.size() - 2)) {
            JsonObject chunk = new JsonObject(event);
            JsonObject delta = chunk.getJsonArray("choices").getJsonObject(0).getJsonObject("delta");
            text.append(delta.getString("content", ""));
        }
        assertThat(text.toString()).isNotBlank();

        NODE.flushUsage();
        assertThat(Money.toUsd(NODE.chargeFor(generationId))).isEqualByComparingTo(cost);
        HttpResponse<String> generation = NODE.get("/v1/generation?id=" + generationId, account.key());
        assertThat(generation.statusCode()).isEqualTo(200);
        JsonObject data = new JsonObject(generation.body()).getJsonObject("data");
        assertThat(data.getBoolean("streamed")).isTrue();
        assertThat(new BigDecimal(data.getValue("total_cost").toString())).isEqualByComparingTo(cost);
    }

    @Test
    void aGenerationIsVisibleOnlyToItsOwnAccount() {
        CorouterNode.Account owner = NODE.newAccount("1.00");
        CorouterNode.Account stranger = NODE.newAccount("1.00");
        String generationId = NODE.chat(owner.key(), hello(false)).headers().firstValue("X-Generation-Id").orElseThrow();
        NODE.flushUsage();

        assertThat(NODE.get("/v1/generation?id=" + generationId, owner.key()).statusCode()).isEqualTo(200);
        HttpResponse<String> foreign = NODE.get("/v1/generation?id=" + generationId, stranger.key());
        assertThat(foreign.statusCode()).isEqualTo(404);
        assertThat(new JsonObject(foreign.body()).getJsonObject("error").getInteger("code")).isEqualTo(404);
    }

    @Test
    void creditsAndKeyReportWhatTheLedgerHolds() {
        CorouterNode.Account account = NODE.newAccount("2.50");
        NODE.chat(account.key(), hello(false));
        NODE.flushUsage();

        JsonObject credits = new JsonObject(NODE.get("/v1/credits", account.key()).body()).getJsonObject("data");
        assertThat(new BigDecimal(credits.getValue("total_credits").toString())).isEqualByComparingTo("2.5");
        BigDecimal used = new BigDecimal(credits.getValue("total_usage").toString());
        assertThat(used).isPositive();
        assertThat(Money.toUsd(NODE.balance(account.id()))).isEqualByComparingTo(new BigDecimal("2.5").subtract(used));

        JsonObject key = new JsonObject(NODE.get("/v1/key", account.key()).body()).getJsonObject("data");
        assertThat(key.getString("label")).isEqualTo("test");
        assertThat(new BigDecimal(key.getValue("usage").toString())).isEqualByComparingTo(used);
    }

    @Test
    void modelsListsTheCatalogWithPerTokenPricesAsStrings() {
        HttpResponse<String> response = NODE.get("/v1/models", null);
        assertThat(response.statusCode()).isEqualTo(200);
        JsonObject model = new JsonObject(response.body()).getJsonArray("data").stream()
                .map(JsonObject.class::cast).filter(m -> m.getString("id").equals(CorouterNode.MOCK_MODEL))
                .findFirst().orElseThrow();
        assertThat(model.getJsonObject("pricing").getString("prompt")).isEqualTo("0.0000005");
        assertThat(model.getJsonObject("pricing").getString("completion")).isEqualTo("0.0000015");
        assertThat(model.getInteger("context_length")).isPositive();
        assertThat(model.getJsonArray("supported_parameters")).contains("max_tokens");
    }

    @Test
    void keysAreRefusedWhenMissingMalformedUnknownOrRevoked() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        assertError(NODE.chat(null, hello(false)), 401);
        assertError(NODE.chat("sk-cr-v1-nonsense", hello(false)), 401);
        String forged = account.key().substring(0, account.key().length() - 1)
                + (account.key().endsWith("A") ? "B" : "A");
        assertError(NODE.chat(forged, hello(false)), 401);
        assertThat(NODE.chat(account.key(), hello(false)).statusCode()).isEqualTo(200);

        NODE.admin("DELETE", "/admin/keys/" + account.keyId(), null, 200);
        assertError(NODE.chat(account.key(), hello(false)), 401);
    }

    @Test
    void badRequestsGetA400NamingTheProblemWithoutEchoingContent() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        assertError(NODE.chat(account.key(), "{not json"), 400);
        assertError(NODE.chat(account.key(), "[1,2]"), 400);
        assertError(NODE.chat(account.key(), new JsonObject().put("messages", new JsonArray())), 400);
        HttpResponse<String> unknown = NODE.chat(account.key(), hello(false).put("model", "nobody/none"));
        assertError(unknown, 400);
        assertThat(unknown.body()).contains("nobody/none");
        HttpResponse<String> badRole = NODE.chat(account.key(), new JsonObject().put("model", CorouterNode.MOCK_MODEL)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "wizard").put("content", "SECRET-1"))));
        assertError(badRole, 400);
        assertThat(badRole.body()).doesNotContain("SECRET-1");
        assertError(NODE.chat(account.key(), hello(false).put("max_tokens", -5)), 400);
        assertError(NODE.chat(account.key(), hello(false).put("stream", "yes")), 400);
    }

    @Test
    void aBodyOverTheLimitGets413() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        JsonObject big = hello(false);
        big.getJsonArray("messages").getJsonObject(0).put("content", "x".repeat(5000));
        assertError(NODE.chat(account.key(), big), 413);
    }

    @Test
    void anAccountWithoutEnoughCreditGets402AndIsNotCharged() {
        CorouterNode.Account account = NODE.newAccount("0.000001");
        HttpResponse<String> response = NODE.chat(account.key(), hello(false));
        assertError(response, 402);
        NODE.flushUsage();
        assertThat(NODE.balance(account.id())).isEqualTo(1_000);
        NODE.assertLedgerBalances();
    }

    static void assertError(HttpResponse<String> response, int status) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        JsonObject error = new JsonObject(response.body()).getJsonObject("error");
        assertThat(error.getInteger("code")).isEqualTo(status);
        assertThat(error.getString("message")).isNotBlank();
        assertThat(response.body()).doesNotContain("Exception").doesNotContain("\tat ");
    }
}
