package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The console's data routes through the node's real {@code /api} router: no session is a 401, another user's object
 * is a 404, a state change without the CSRF token is a 403, and a signed-in user's keys work on {@code /v1}.
 */
class ConsoleDataRoutesTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().build();

    static final String PASSWORD = "correct horse battery staple";

    /** A verified, signed-in user whose account holds a dollar. */
    record User(ConsoleClient client, long accountId) {
    }

    static User signedIn() {
        String email = "data-" + System.nanoTime() + "@example.com";
        ConsoleClient client = new ConsoleClient(NODE);
        HttpResponse<String> signUp = client.signUp(email, PASSWORD);
        assertThat(signUp.statusCode()).as(signUp.body()).isEqualTo(201);
        long accountId = NODE.sql("UPDATE users SET email_verified_at = now() WHERE email_normalized = $1 "
                + "RETURNING account_id", email).iterator().next().getLong(0);
        HttpResponse<String> login = client.login(email, PASSWORD);
        assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
        NODE.admin("POST", "/admin/accounts/" + accountId + "/credits",
                new JsonObject().put("amount_usd", "1.00").put("reason", "test credit"), 201);
        return new User(client, accountId);
    }

    static JsonObject chatBody() {
        return new JsonObject().put("model", CorouterNode.MOCK_MODEL).put("max_tokens", 8)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
    }

    @Test
    void everyDataRouteAnswers401WithoutASession() {
        ConsoleClient anonymous = new ConsoleClient(NODE);
        for (String path : new String[] {"/api/keys", "/api/activity", "/api/dashboard", "/api/generations",
                "/api/generations/gen-x", "/api/billing", "/api/privacy/export", "/api/bridge-token"}) {
            HttpResponse<String> response = anonymous.get(path);
            assertThat(response.statusCode()).as(path).isEqualTo(401);
            assertThat(new JsonObject(response.body()).getJsonObject("error").getInteger("code")).isEqualTo(401);
        }
        assertThat(anonymous.post("/api/keys", new JsonObject().put("name", "x")).statusCode()).isIn(401, 403);
    }

    @Test
    void aKeyCreatedInTheConsoleServesV1AndAnotherUserCannotSeeOrChangeItsObjects() {
        User alice = signedIn();
        User mallory = signedIn();

        HttpResponse<String> created = alice.client().post("/api/keys", new JsonObject().put("name", "laptop"));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonObject key = new JsonObject(created.body());
        HttpResponse<String> chat = NODE.chat(key.getString("key"), chatBody());
        assertThat(chat.statusCode()).isEqualTo(200);
        String generation = chat.headers().firstValue("X-Generation-Id").orElseThrow();
        NODE.flushUsage();

        String keyPath = "/api/keys/" + key.getLong("id");
        assertThat(mallory.client().patch(keyPath, new JsonObject().put("disabled", true)).statusCode())
                .isEqualTo(404);
        assertThat(mallory.client().delete(keyPath).statusCode()).isEqualTo(404);
        assertThat(mallory.client().get("/api/generations/" + generation).statusCode()).isEqualTo(404);
        assertThat(new JsonObject(mallory.client().get("/api/generations").body()).getJsonArray("data")).isEmpty();
        assertThat(alice.client().copy().withoutCsrf().patch(keyPath, new JsonObject().put("disabled", true)).statusCode())
                .isEqualTo(403);
        assertThat(NODE.chat(key.getString("key"), chatBody()).statusCode()).isEqualTo(200);

        HttpResponse<String> mine = alice.client().get("/api/generations/" + generation);
        assertThat(mine.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(mine.body()).getString("id")).isEqualTo(generation);
        JsonArray keys = new JsonObject(alice.client().get("/api/keys").body()).getJsonArray("data");
        assertThat(keys).hasSize(1);
        assertThat(keys.getJsonObject(0).getLong("requests")).isEqualTo(1);

        HttpResponse<String> disabled = alice.client().patch(keyPath, new JsonObject().put("disabled", true));
        assertThat(new JsonObject(disabled.body()).getBoolean("disabled")).isTrue();
        assertThat(NODE.chat(key.getString("key"), chatBody()).statusCode()).isEqualTo(401);
        assertThat(alice.client().patch(keyPath, new JsonObject().put("disabled", "yes")).statusCode())
                .isEqualTo(400);
        assertThat(alice.client().get("/api/activity?from=2020-01-01&to=2022-01-01").statusCode()).isEqualTo(400);
        assertThat(alice.client().delete(keyPath).statusCode()).isEqualTo(204);
        assertThat(alice.client().delete(keyPath).statusCode()).isEqualTo(404);
    }

    @Test
    void theExportIsOneJsonDownloadWithTheUsageRowsAndNoSecrets() {
        User alice = signedIn();
        JsonObject key = new JsonObject(alice.client().post("/api/keys", new JsonObject().put("name", "ci")).body());
        for (int i = 0; i < 3; i++) {
            assertThat(NODE.chat(key.getString("key"), chatBody()).statusCode()).isEqualTo(200);
        }
        NODE.flushUsage();

        HttpResponse<String> export = alice.client().get("/api/privacy/export");
        assertThat(export.statusCode()).isEqualTo(200);
        assertThat(export.headers().firstValue("Content-Disposition").orElseThrow())
                .startsWith("attachment; filename=\"corouter-export-");
        JsonObject body = new JsonObject(export.body());
        assertThat(body.getJsonArray("usage")).hasSize(3);
        assertThat(body.getJsonArray("keys")).hasSize(1);
        assertThat(body.getJsonArray("sessions")).hasSize(1);
        assertThat(body.getJsonArray("login_history")).isNotEmpty();
        assertThat(export.body()).doesNotContain("$argon2").doesNotContain(key.getString("key"))
                .doesNotContain(alice.client().cookies.get(ConsoleClient.CSRF));

        JsonObject token = new JsonObject(alice.client().get("/api/bridge-token").body());
        assertThat(token.getString("address")).isEqualTo("corouter.console." + alice.accountId());
    }
}
