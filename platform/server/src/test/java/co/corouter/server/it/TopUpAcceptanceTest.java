package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 11's acceptance, over HTTP as a person's browser and client would do it: a new user signs up, tops up $10
 * through the (fake) Creem checkout, and spends it with a key whose $3 limit stops it at the limit — then the ledger
 * says exactly what happened.
 */
class TopUpAcceptanceTest {

    static final long USD = 1_000_000_000L;
    static final String MODEL = "test/spendy";

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeCreem()
            .model(new JsonObject().put("id", MODEL).put("name", "Spendy mock").put("provider", "mock")
                    .put("upstream_model", "mock-small").put("context_length", 8192).put("max_output_tokens", 64)
                    .put("pricing", new JsonObject().put("prompt_per_million", "1000.00")
                            .put("completion_per_million", "10000.00")))
            .build();

    final HttpClient browser = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @Test
    void aNewUserTopsUpTenDollarsAndSpendsThemWithAKeyThatStopsAtItsLimit() throws Exception {
        String email = "acceptance-" + System.nanoTime() + "@example.com";
        ConsoleClient client = new ConsoleClient(NODE);
        assertThat(client.signUp(email, ConsoleDataRoutesTest.PASSWORD).statusCode()).isEqualTo(201);
        long accountId = NODE.sql("UPDATE users SET email_verified_at = now() WHERE email_normalized = $1 "
                + "RETURNING account_id", email).iterator().next().getLong(0);
        assertThat(client.login(email, ConsoleDataRoutesTest.PASSWORD).statusCode()).isEqualTo(200);
        assertThat(new JsonObject(client.get("/api/me").body()).getString("balance_usd")).isEqualTo("0.000000000");

        // choose $10 and go to the checkout
        JsonObject offers = new JsonObject(client.get("/api/billing/offers").body());
        assertThat(offers.getString("processor")).isEqualTo("creem");
        assertThat(offers.getJsonArray("offers")).extracting(o -> ((JsonObject) o).getString("key"))
                .contains("usd_10");
        HttpResponse<String> opened = client.post("/api/billing/top-ups", new JsonObject().put("offer", "usd_10"));
        assertThat(opened.statusCode()).as(opened.body()).isEqualTo(201);
        JsonObject topUp = new JsonObject(opened.body());
        String orderId = topUp.getJsonObject("order").getString("id");
        assertThat(topUp.getJsonObject("order").getString("state")).isEqualTo("pending");

        // the hosted checkout page, and its Pay button
        HttpResponse<String> page = browser.send(HttpRequest.newBuilder(URI.create(topUp.getString("checkout_url")))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        String action = page.body().replaceAll("(?s).*<form method=\"post\" action=\"([^\"]+)\".*", "$1");
        HttpResponse<String> paid = browser.send(HttpRequest.newBuilder(URI.create(NODE.creem().baseUrl() + action))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(paid.statusCode()).isEqualTo(303);

        // back to corouter, which shows the order in the console
        HttpResponse<String> back = browser.send(HttpRequest.newBuilder(URI.create(
                paid.headers().firstValue("Location").orElseThrow())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(back.statusCode()).isEqualTo(303);
        assertThat(back.headers().firstValue("Location")).contains("/console/#/billing/orders/" + orderId);
        JsonObject receipt = new JsonObject(client.get("/api/billing/orders/" + orderId).body());
        assertThat(receipt.getString("state")).isEqualTo("paid");
        assertThat(receipt.getString("credit_usd")).isEqualTo("10.000000000");
        assertThat(new JsonObject(client.get("/api/me").body()).getString("balance_usd")).isEqualTo("10.000000000");
        JsonArray history = new JsonObject(client.get("/api/billing").body()).getJsonArray("data");
        assertThat(history).anySatisfy(row -> {
            JsonObject entry = (JsonObject) row;
            assertThat(entry.getString("kind")).isEqualTo("topup");
            assertThat(entry.getString("order_id")).isEqualTo(orderId);
            assertThat(entry.getString("amount_usd")).isEqualTo("10.000000000");
        });

        // a key limited to $3 for its life, spent until it says no
        HttpResponse<String> created = client.post("/api/keys", new JsonObject().put("name", "limited")
                .put("limit_usd", "3.00"));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonObject key = new JsonObject(created.body());
        int served = 0;
        HttpResponse<String> last;
        while (true) {
            last = NODE.chat(key.getString("key"), new JsonObject().put("model", MODEL).put("max_tokens", 16)
                    .put("messages", new JsonArray().add(new JsonObject().put("role", "user")
                            .put("content", "spend my top-up"))));
            if (last.statusCode() != 200) {
                break;
            }
            served++;
            assertThat(served).as("the limit must stop the key").isLessThan(1000);
        }
        assertThat(last.statusCode()).isEqualTo(402);
        assertThat(new JsonObject(last.body()).getJsonObject("error").getJsonObject("metadata")
                .getString("limit_source")).isEqualTo("key");
        NODE.flushUsage();

        long spent = NODE.sql("SELECT coalesce(sum(cost), 0)::bigint FROM generations WHERE api_key_id = $1",
                key.getLong("id")).iterator().next().getLong(0);
        long oneRequest = spent / served;
        assertThat(served).isGreaterThan(5);
        assertThat(spent).isLessThanOrEqualTo(3 * USD).isGreaterThan(3 * USD - 2 * oneRequest);
        assertThat(NODE.balance(accountId)).isEqualTo(10 * USD - spent);
        assertThat(NODE.ledgerBalance(accountId)).isEqualTo(10 * USD - spent);
        JsonObject limits = new JsonObject(NODE.get("/v1/key", key.getString("key")).body()).getJsonObject("data");
        assertThat(limits.getValue("limit").toString()).startsWith("3");
        NODE.assertLedgerBalances();
        System.out.printf("acceptance: topped up $10 (order %s), key limit $3: %d requests served for %d nano-USD, "
                + "then 402 limit_source=key; balance %d nano-USD%n", orderId, served, spent, NODE.balance(accountId));
    }
}
