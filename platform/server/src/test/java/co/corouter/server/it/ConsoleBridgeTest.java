package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The console's SockJS event-bus bridge at {@code /api/eventbus}, spoken raw (SockJS's plain WebSocket transport,
 * {@code /api/eventbus/websocket}, one bridge frame per text message): a user's bridge token admits the user to their
 * own account's feed, which carries a message for each metered request of the account; another account's feed, a
 * registration without a token, and any inbound send or publish are refused with an {@code err} frame.
 */
class ConsoleBridgeTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream().build();

    static final String PASSWORD = "correct horse battery staple";

    private static WebSocketClient sockets;

    @BeforeAll
    static void client() {
        sockets = NODE.vertx().createWebSocketClient();
    }

    @AfterAll
    static void closeClient() {
        if (sockets != null) {
            CorouterNode.await(sockets.close());
        }
    }

    /** A verified, signed-in user whose account holds a dollar, with a key made in the console. */
    record User(ConsoleClient client, long accountId, String key) {

        String address() {
            return "corouter.console." + accountId;
        }

        /** A fresh bridge token for this user, and the address it says to register to. */
        JsonObject bridgeToken() {
            HttpResponse<String> response = client.get("/api/bridge-token");
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            JsonObject grant = new JsonObject(response.body());
            assertThat(grant.getString("address")).isEqualTo(address());
            assertThat(grant.getString("token")).isNotBlank();
            return grant;
        }

        /** A chat completion with the user's key; returns its generation id. */
        String complete() {
            HttpResponse<String> chat = NODE.chat(key, new JsonObject().put("model", CorouterNode.FAKE_MODEL)
                    .put("max_tokens", 8)
                    .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi"))));
            assertThat(chat.statusCode()).as(chat.body()).isEqualTo(200);
            return chat.headers().firstValue("X-Generation-Id").orElseThrow();
        }
    }

    static User signedIn() {
        String email = "bridge-" + System.nanoTime() + "@example.com";
        ConsoleClient client = new ConsoleClient(NODE);
        HttpResponse<String> signUp = client.signUp(email, PASSWORD);
        assertThat(signUp.statusCode()).as(signUp.body()).isEqualTo(201);
        long accountId = NODE.sql("UPDATE users SET email_verified_at = now() WHERE email_normalized = $1 "
                + "RETURNING account_id", email).iterator().next().getLong(0);
        HttpResponse<String> login = client.login(email, PASSWORD);
        assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
        assertThat(new JsonObject(client.get("/api/me").body()).getLong("account_id")).isEqualTo(accountId);
        NODE.admin("POST", "/admin/accounts/" + accountId + "/credits",
                new JsonObject().put("amount_usd", "1.00").put("reason", "test credit"), 201);
        HttpResponse<String> key = client.post("/api/keys", new JsonObject().put("name", "bridge"));
        assertThat(key.statusCode()).as(key.body()).isEqualTo(201);
        return new User(client, accountId, new JsonObject(key.body()).getString("key"));
    }

    /** A raw SockJS WebSocket to the bridge and the frames it received. */
    static final class Bridge implements AutoCloseable {
        final WebSocket socket;
        final LinkedBlockingQueue<JsonObject> frames = new LinkedBlockingQueue<>();
        final List<JsonObject> seen = new ArrayList<>();

        Bridge() {
            socket = CorouterNode.await(sockets.connect(NODE.port(), "127.0.0.1", "/api/eventbus/websocket"));
            // the raw transport writes the bridge's frames as binary WebSocket messages
            socket.handler(data -> frames.add(new JsonObject(data)));
        }

        Bridge send(JsonObject frame) {
            CorouterNode.await(socket.writeTextMessage(frame.encode()));
            return this;
        }

        Bridge register(String address, String token) {
            JsonObject frame = new JsonObject().put("type", "register").put("address", address);
            if (token != null) {
                frame.put("headers", new JsonObject().put("token", token));
            }
            return send(frame);
        }

        /** The next frame of {@code type} (other types are kept in {@link #seen}), waiting at most {@code seconds}. */
        JsonObject next(String type, long seconds) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (true) {
                long left = deadline - System.nanoTime();
                JsonObject frame;
                try {
                    frame = left <= 0 ? null : frames.poll(left, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
                if (frame == null) {
                    return null;
                }
                seen.add(frame);
                if (type.equals(frame.getString("type"))) {
                    return frame;
                }
            }
        }

        @Override
        public void close() {
            CorouterNode.await(socket.close());
        }
    }

    /**
     * A registration has no acknowledgement (the bridge checks the token asynchronously), so the first completion may
     * be metered before the handler exists: complete until a message arrives, a bounded number of times.
     */
    private static JsonObject receiveAfterCompletion(Bridge bridge, User user) {
        List<String> made = new ArrayList<>();
        for (int attempt = 0; attempt < 10; attempt++) {
            made.add(user.complete());
            NODE.flushUsage();
            JsonObject received = bridge.next("rec", 2);
            if (received != null) {
                assertThat(received.getJsonObject("body").getJsonObject("generation").getString("id"))
                        .as("the message is about a completion that was made").isIn(made);
                return received;
            }
        }
        throw new AssertionError("no message on " + user.address() + " after 10 completions; frames: " + bridge.seen);
    }

    /** The bridge's refusal: {@code {"type":"err","body":"rejected"}} (its hook said no) or {@code access_denied}. */
    private static void assertRefused(JsonObject frame, String what) {
        assertThat(frame == null).as("an error frame for %s", what).isFalse();
        assertThat(frame.getString("type")).isEqualTo("err");
        assertThat(frame.getString("body")).as(what).isIn("rejected", "access_denied");
    }

    @Test
    void aUserReceivesTheirOwnAccountsGenerations() {
        User alice = signedIn();
        JsonObject grant = alice.bridgeToken();
        try (Bridge bridge = new Bridge()) {
            bridge.register(grant.getString("address"), grant.getString("token"));

            JsonObject received = receiveAfterCompletion(bridge, alice);

            assertThat(received.getString("address")).isEqualTo(alice.address());
            JsonObject body = received.getJsonObject("body");
            assertThat(body.getString("type")).isEqualTo("generation");
            JsonObject generation = body.getJsonObject("generation");
            assertThat(generation.getString("model")).isEqualTo(CorouterNode.FAKE_MODEL);
            assertThat(generation.getString("status")).isEqualTo("ok");
            assertThat(NODE.sql("SELECT account_id FROM generations WHERE id = $1", generation.getString("id"))
                    .iterator().next().getLong(0)).isEqualTo(alice.accountId());
            assertThat(body.getString("balance_usd")).as("the balance after the charge")
                    .matches("0\\.9\\d+").isNotEqualTo("1.000000000");
            assertThat(bridge.seen).noneMatch(frame -> "err".equals(frame.getString("type")));
        }
    }

    @Test
    void anotherAccountsAddressIsRefusedAndItsMessagesNeverArrive() {
        User alice = signedIn();
        User bob = signedIn();
        String aliceToken = alice.bridgeToken().getString("token");
        try (Bridge bridge = new Bridge()) {
            bridge.register(bob.address(), aliceToken);
            assertRefused(bridge.next("err", 10), "Bob's address with Alice's token");

            // the same socket may still follow Alice's own feed; Bob's completion comes first and must not show up
            bridge.register(alice.address(), aliceToken);
            bob.complete();
            NODE.flushUsage();
            receiveAfterCompletion(bridge, alice);
            assertThat(bridge.seen).filteredOn(frame -> "rec".equals(frame.getString("type")))
                    .allSatisfy(frame -> assertThat(frame.getString("address")).isEqualTo(alice.address()));
        }
    }

    @Test
    void aRegistrationWithoutAValidTokenIsRefused() {
        User alice = signedIn();
        try (Bridge bridge = new Bridge()) {
            bridge.register(alice.address(), null);
            assertRefused(bridge.next("err", 10), "no token");

            bridge.register(alice.address(), "not-a-token");
            assertRefused(bridge.next("err", 10), "a forged token");

            alice.complete();
            NODE.flushUsage();
            // nothing acknowledges an absent registration: wait a bounded second for a message that must not come
            assertThat(bridge.next("rec", 1)).as("a message without a registration").isNull();
        }
    }

    @Test
    void sendsAndPublishesAreRefused() {
        User alice = signedIn();
        String token = alice.bridgeToken().getString("token");
        try (Bridge bridge = new Bridge()) {
            for (String type : List.of("send", "publish")) {
                for (String address : List.of(alice.address(), "corouter.accounts", "anything")) {
                    bridge.send(new JsonObject().put("type", type).put("address", address)
                            .put("headers", new JsonObject().put("token", token))
                            .put("body", new JsonObject().put("type", "generation")));
                    assertRefused(bridge.next("err", 10), type + " to " + address);
                }
            }
        }
    }
}
