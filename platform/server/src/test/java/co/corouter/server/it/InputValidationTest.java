package co.corouter.server.it;

import static co.corouter.server.it.ChatCompletionsTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.common.Money;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.SqlConnection;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Bad input found by probing a running node, each a regression test: the right status in the error shape, never a
 * 500, nothing reaches an upstream and no usage row is written. Refused requests are counted in metrics instead.
 */
class InputValidationTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream().build();

    CorouterNode.Account account;

    @BeforeEach
    void freshAccount() {
        account = NODE.newAccount("1.00");
        NODE.upstream().reset().requireApiKey("sk-upstream-test");
    }

    static JsonObject chat() {
        return new JsonObject().put("model", CorouterNode.FAKE_MODEL)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hi")));
    }

    void assertRefusedWithoutTrace(HttpResponse<String> response, int status, String messagePart) {
        assertError(response, status);
        assertThat(new JsonObject(response.body()).getJsonObject("error").getString("message")).contains(messagePart);
        assertThat(NODE.upstream().requestCount()).isZero();
        assertThat(NODE.usageRows(account.id())).isZero();
        assertThat(NODE.balance(account.id())).isEqualTo(Money.NANOS_PER_USD);
    }

    long refused(String reason) {
        var counter = NODE.node().metrics().registry().find("corouter_requests_refused_total").tag("reason", reason)
                .counter();
        return counter == null ? 0 : (long) counter.count();
    }

    /** A GET sent as raw bytes: the JDK client refuses to send a malformed URI at all. */
    RawHttp.Response rawGet(String target, String bearer) throws Exception {
        try (RawHttp client = new RawHttp(NODE.port())) {
            client.send("GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer "
                    + bearer + "\r\n\r\n");
            return client.read();
        }
    }

    @Test
    void malformedGenerationIdsAre400sNot500s() throws Exception {
        RawHttp.Response badEscape = rawGet("/v1/generation?id=%zz", account.key());
        assertThat(badEscape.status()).isEqualTo(400);
        assertThat(new JsonObject(badEscape.body()).getJsonObject("error").getString("message"))
                .contains("percent-encoded");
        assertRefusedWithoutTrace(NODE.get("/v1/generation?id=abc%00def", account.key()), 400, "generation id");
        assertRefusedWithoutTrace(NODE.get("/v1/generation?id=" + "a".repeat(300), account.key()), 400,
                "generation id");
        assertRefusedWithoutTrace(NODE.get("/v1/generation", account.key()), 400, "'id' is required");
        assertError(NODE.get("/v1/generation?id=gen-000000000AAAAAAAAAAAAAAAA", account.key()), 404);
    }

    @Test
    void badAdminInputIsA400NamingTheField() throws Exception {
        assertThat(NODE.admin("POST", "/admin/accounts", new JsonObject().put("name", "nul\u0000name"), 400))
                .contains("control characters");
        assertThat(NODE.admin("POST", "/admin/accounts", new JsonObject().put("name", "n".repeat(201)), 400))
                .contains("at most 200");
        assertThat(NODE.admin("POST", "/admin/accounts", new JsonObject().put("name", 7), 400)).contains("'name'");
        String grants = "/admin/accounts/" + account.id() + "/credits";
        assertThat(NODE.admin("POST", grants, new JsonObject().put("amount_usd", "1e99").put("reason", "x"), 400))
                .contains("amount_usd");
        assertThat(NODE.admin("POST", grants, new JsonObject().put("amount_usd", "99999999999999999999")
                .put("reason", "x"), 400)).contains("amount_usd");
        assertThat(NODE.admin("POST", grants, new JsonObject().put("amount_usd", "1.00").put("reason", "a\u0000b"), 400))
                .contains("control characters");
        assertThat(NODE.admin("POST", "/admin/accounts/" + account.id() + "/keys",
                new JsonObject().put("label", "k".repeat(201)), 400)).contains("at most 200");
        assertThat(NODE.admin("POST", "/admin/accounts/99999999999/credits",
                new JsonObject().put("amount_usd", "1.00").put("reason", "x"), 404)).contains("no such account");
        RawHttp.Response badEscape = rawGet("/admin/accounts/" + account.id() + "/generations?limit=%zz",
                CorouterNode.ADMIN_TOKEN);
        assertThat(badEscape.status()).isEqualTo(400);
        assertThat(badEscape.body()).contains("percent-encoded");
        assertThat(NODE.admin("GET", "/admin/accounts/12345678901234567890123", null, 400)).contains("numeric id");
    }

    @Test
    void aGrantThatWouldOverflowTheBalanceIsA400() {
        CorouterNode.Account rich = NODE.newAccount("0");
        String grants = "/admin/accounts/" + rich.id() + "/credits";
        NODE.admin("POST", grants, new JsonObject().put("amount_usd", "9223372036.854775807").put("reason", "max"),
                201);
        assertThat(NODE.admin("POST", grants, new JsonObject().put("amount_usd", "1.00").put("reason", "more"), 400))
                .contains("largest amount");
        assertThat(NODE.balance(rich.id())).isEqualTo(Long.MAX_VALUE);
        NODE.assertLedgerBalances();
    }

    @Test
    void outOfRangeNumbersAre400sNamingTheFieldAndNeverReachTheUpstream() {
        assertRefusedWithoutTrace(NODE.chat(account.key(), chat().encode().replace("{\"model\"",
                "{\"max_tokens\":18446744073709551617,\"model\"")), 400, "'max_tokens'");
        assertRefusedWithoutTrace(NODE.chat(account.key(), chat().put("max_tokens", 1025)), 400, "between 1 and 1024");
        assertRefusedWithoutTrace(NODE.chat(account.key(), chat().put("temperature", 99)), 400, "'temperature'");
        assertRefusedWithoutTrace(NODE.chat(account.key(), chat().put("top_p", 7)), 400, "'top_p'");
        assertRefusedWithoutTrace(NODE.chat(account.key(), chat().put("n", 2)), 400, "'n'");
    }

    @Test
    void aJsonBodyIsParsedAsJsonWhateverItsContentType() {
        for (String type : new String[] {"application/x-www-form-urlencoded", "text/plain", "multipart/form-data"}) {
            HttpResponse<String> response = NODE.send(HttpRequest.newBuilder(URI.create(NODE.baseUrl()
                            + "/chat/completions"))
                    .header("Authorization", "Bearer " + account.key()).header("Content-Type", type)
                    .POST(HttpRequest.BodyPublishers.ofString(chat().encode())));
            assertThat(response.statusCode()).as(type).isEqualTo(200);
        }
        HttpResponse<String> noType = NODE.send(HttpRequest.newBuilder(URI.create(NODE.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + account.key())
                .POST(HttpRequest.BodyPublishers.ofString(chat().encode())));
        assertThat(noType.statusCode()).as("curl -d without a Content-Type").isEqualTo(200);
    }

    @Test
    void refusedRequestsLeaveNoUsageRowAndAreCountedInstead() {
        CorouterNode.Account broke = NODE.newAccount("0");
        long insufficient = refused("insufficient_credit");
        long unauthorized = refused("unauthorized");
        for (int i = 0; i < 10; i++) {
            assertError(NODE.chat(broke.key(), chat()), 402);
            assertError(NODE.chat("sk-cr-v2-" + "A".repeat(40), chat()), 401);
        }
        assertThat(NODE.usageRows(broke.id())).isZero();
        assertThat(NODE.upstream().requestCount()).isZero();
        assertThat(refused("insufficient_credit")).isEqualTo(insufficient + 10);
        assertThat(refused("unauthorized")).isEqualTo(unauthorized + 10);
    }

    @Test
    void aForgedKeyIsRefusedWithoutADatabaseLookup() {
        // with the key table locked, a lookup would hang: a prompt 401 proves none was made
        SqlConnection lock = CorouterNode.await(NODE.node().pool().getConnection());
        try {
            CorouterNode.await(lock.query("BEGIN").execute());
            CorouterNode.await(lock.query("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE").execute());
            String forged = account.key().substring(0, account.key().length() - 8) + "AAAAAAAA";
            for (int i = 0; i < 20; i++) {
                HttpResponse<String> response = NODE.chat(forged, chat());
                assertError(response, 401);
                assertThat(response.body()).contains("malformed API key");
            }
        } finally {
            CorouterNode.await(lock.query("ROLLBACK").execute());
            CorouterNode.await(lock.close());
        }
    }
}
