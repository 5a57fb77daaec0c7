package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.testkit.s3.S3MockServer;
import co.corouter.testkit.upstream.Behaviour;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Opt-in audit logging into a customer's S3 bucket (issue 12), end to end: a real node with the real audit-s3 plugin,
 * a real S3 server (S3Mock in its own JVM), opt-in through the console API, requests whole, streamed and cut off by
 * the client, the objects read back. Also the sink down and back, a node restart with batches in the spool, and the
 * spool limit's exact dropped count.
 */
class AuditS3Test {

    static final String BUCKET = "customer-audit";
    static final String SECRET = "s3-secret-" + Long.toString(System.nanoTime(), 36);

    static S3MockServer s3;

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream()
            .set("audit", "flush_interval_ms", 50).set("audit", "retry_max_ms", 400)
            .set("audit", "guard", new JsonObject().put("allow_http", true)
                    .put("allow_list", new JsonArray().add("127.0.0.1/32")))
            .set("http", "upstream_timeout_ms", 30_000).build();

    @BeforeAll
    static void startS3() {
        s3 = S3MockServer.builder().bucket(BUCKET).start();
    }

    @AfterAll
    static void stopS3() {
        if (s3 != null) {
            s3.close();
        }
    }

    /** A signed-in console user of a fresh account holding $5, with a key of its own. */
    record User(ConsoleClient client, long accountId, String key) {
    }

    static User user() {
        return user(NODE);
    }

    static User user(CorouterNode node) {
        CorouterNode NODE = node;
        String email = "audit-" + System.nanoTime() + "@example.com";
        ConsoleClient client = new ConsoleClient(NODE);
        assertThat(client.signUp(email, ConsoleDataRoutesTest.PASSWORD).statusCode()).isEqualTo(201);
        long accountId = NODE.sql("UPDATE users SET email_verified_at = now() WHERE email_normalized = $1 "
                + "RETURNING account_id", email).iterator().next().getLong(0);
        assertThat(client.login(email, ConsoleDataRoutesTest.PASSWORD).statusCode()).isEqualTo(200);
        NODE.admin("POST", "/admin/accounts/" + accountId + "/credits",
                new JsonObject().put("amount_usd", "5.00").put("reason", "test credit"), 201);
        HttpResponse<String> key = client.post("/api/keys", new JsonObject().put("name", "audited"));
        assertThat(key.statusCode()).as(key.body()).isEqualTo(201);
        return new User(client, accountId, new JsonObject(key.body()).getString("key"));
    }

    static JsonObject s3Config(String prefix) {
        return new JsonObject().put("bucket", BUCKET).put("prefix", prefix).put("region", "us-east-1")
                .put("endpoint", s3.endpoint()).put("path_style", true).put("access_key_id", "corouter-test")
                .put("secret_access_key", SECRET);
    }

    static void optIn(User user, String prefix) {
        JsonObject body = new JsonObject().put("sink", "s3").put("config", s3Config(prefix));
        HttpResponse<String> tested = user.client().post("/api/audit/test", body);
        assertThat(tested.statusCode()).as(tested.body()).isEqualTo(200);
        HttpResponse<String> saved = user.client().send("PUT", "/api/audit", body);
        assertThat(saved.statusCode()).as(saved.body()).isEqualTo(200);
        assertThat(saved.body()).doesNotContain(SECRET);
        JsonObject view = new JsonObject(saved.body());
        assertThat(view.getBoolean("enabled")).isTrue();
        assertThat(view.getJsonArray("secrets_set")).contains("secret_access_key");
    }

    static String chat(String content, boolean stream) {
        return new JsonObject().put("model", CorouterNode.FAKE_MODEL).put("stream", stream).put("max_tokens", 32)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", content)))
                .encode();
    }

    /** Every record in the bucket under {@code prefix}, by generation id, in the order of the object keys. */
    static Map<String, JsonObject> records(String prefix) {
        Map<String, JsonObject> found = new LinkedHashMap<>();
        for (String key : s3.keys(BUCKET)) {
            if (!key.startsWith(prefix)) {
                continue;
            }
            byte[] gz = s3.object(BUCKET, key).orElseThrow().body();
            String lines;
            try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
                lines = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            for (String line : lines.split("\n")) {
                if (!line.isEmpty()) {
                    JsonObject record = new JsonObject(line);
                    JsonObject previous = found.put(record.getString("generation_id"), record);
                    assertThat(previous).as("record %s written twice", record.getString("generation_id")).isNull();
                }
            }
        }
        return found;
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            try {
                Thread.sleep(25); // polling an external server's state; the condition is what is awaited
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void everyRequestOfAnOptedInAccountLandsInItsBucketOnceWithBothBodiesExactlyAsExchanged() throws Exception {
        User user = user();
        User other = user();
        String prefix = "a" + user.accountId() + "/";
        optIn(user, prefix);
        NODE.upstream().reset();
        NODE.upstream().behave(Behaviour.normal().content("the answer holds ünïcödé and \"quotes\"\nand lines")
                .chunks(4).completionTokens(9));

        Map<String, String[]> exchanged = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) {
            for (boolean stream : new boolean[] {false, true}) {
                String body = chat("question " + i + " ✓ \"" + stream + "\"", stream);
                HttpResponse<String> response = NODE.chat(user.key(), body);
                assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                exchanged.put(response.headers().firstValue("X-Generation-Id").orElseThrow(),
                        new String[] {body, response.body()});
            }
        }
        // a refused request of the opted-in account is a record too: what was asked, and the error delivered
        String refused = chat("too long", false).replace("\"max_tokens\":32", "\"max_tokens\":-1");
        HttpResponse<String> bad = NODE.chat(user.key(), refused);
        assertThat(bad.statusCode()).isEqualTo(400);
        exchanged.put(bad.headers().firstValue("X-Generation-Id").orElseThrow(), new String[] {refused, bad.body()});

        // a client that hangs up in the middle of a stream
        NODE.upstream().behave(Behaviour.normal().chunks(40).intervalMs(50).completionTokens(40));
        String cutBody = chat("tell me a long story", true);
        String cutId;
        String firstEvent;
        try (RawHttp client = new RawHttp(NODE.port())) {
            byte[] bytes = cutBody.getBytes(StandardCharsets.UTF_8);
            client.send(RawHttp.postHead("/v1/chat/completions", user.key(), bytes.length)).send(bytes);
            RawHttp.StreamHead head = client.readStreamHead();
            assertThat(head.status()).isEqualTo(200);
            cutId = head.header("X-Generation-Id");
            firstEvent = client.readEvent();
            client.reset();
        }
        // the other account did not opt in: none of its requests may appear anywhere in the bucket
        NODE.upstream().reset();
        String otherId = NODE.chat(other.key(), chat("not audited", false)).headers()
                .firstValue("X-Generation-Id").orElseThrow();

        await("every record of the account in its bucket", Duration.ofSeconds(30),
                () -> records(prefix).keySet().containsAll(exchanged.keySet()) && records(prefix).containsKey(cutId));
        NODE.flushUsage();
        Map<String, JsonObject> records = records(prefix);
        assertThat(records).hasSize(exchanged.size() + 1);
        exchanged.forEach((id, sent) -> {
            JsonObject record = records.get(id);
            assertThat(record.getString("request")).as("request of %s", id).isEqualTo(sent[0]);
            assertThat(record.getString("response")).as("response of %s", id).isEqualTo(sent[1]);
            assertThat(record.getBoolean("response_complete")).isTrue();
            assertThat(record.getLong("account_id")).isEqualTo(user.accountId());
            long cost = NODE.sql("SELECT coalesce((SELECT cost FROM generations WHERE id = $1), 0)::bigint", id)
                    .iterator().next().getLong(0);
            assertThat(record.getString("cost_usd"))
                    .isEqualTo(co.corouter.server.common.Money.toUsdText(cost));
        });
        JsonObject cut = records.get(cutId);
        assertThat(cut.getString("request")).isEqualTo(cutBody);
        assertThat(cut.getString("response")).startsWith(firstEvent);
        assertThat(cut.getBoolean("response_complete")).isFalse();
        assertThat(cut.getBoolean("client_gone")).isTrue();
        assertThat(s3.keys(BUCKET)).noneMatch(key -> key.contains("account-" + other.accountId() + "/"));
        for (String key : s3.keys(BUCKET)) {
            assertThat(new String(s3.object(BUCKET, key).orElseThrow().body(), StandardCharsets.ISO_8859_1))
                    .doesNotContain(otherId);
        }

        // behind the API: the credential is sealed, the status counts what was delivered
        String stored = NODE.sql("SELECT config::text || encode(secrets, 'escape') FROM audit_configs "
                + "WHERE account_id = $1", user.accountId()).iterator().next().getString(0);
        assertThat(stored).doesNotContain(SECRET).contains(BUCKET);
        await("the delivered count reported", Duration.ofSeconds(10), () -> new JsonObject(
                user.client().get("/api/audit").body()).getJsonObject("status").getLong("delivered") == records.size());
    }

    @Test
    void aSinkThatIsDownLosesNothingAndEverythingArrivesInOrderOnceItIsBackEvenAcrossARestart() throws Exception {
        User user = user();
        String prefix = "b" + user.accountId() + "/";
        optIn(user, prefix);
        NODE.upstream().reset();
        String canary = "canary-" + Long.toString(System.nanoTime(), 36);
        List<String> ids = new ArrayList<>();
        s3.stopForOutage();
        try {
            for (int i = 0; i < 6; i++) {
                ids.add(NODE.chat(user.key(), chat(canary + " " + i, false)).headers()
                        .firstValue("X-Generation-Id").orElseThrow());
            }
            Path spool = NODE.dataDir().resolve("audit-spool").resolve(Long.toString(user.accountId()));
            await("the batches spooled while the sink is down", Duration.ofSeconds(10),
                    () -> spooledRecords(user) == ids.size());
            await("the failure shown on the audit page", Duration.ofSeconds(10), () -> new JsonObject(
                    user.client().get("/api/audit").body()).getJsonObject("status").getString("last_error") != null);
            try (Stream<Path> files = Files.list(spool)) {
                for (Path file : files.toList()) {
                    assertThat(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1))
                            .as("spooled batches are sealed").doesNotContain(canary).doesNotContain(ids.get(0));
                }
            }
            NODE.restart(); // a graceful stop: what was queued is in the spool, the new node finds it there
            for (int i = 6; i < 9; i++) {
                ids.add(NODE.chat(user.key(), chat(canary + " " + i, false)).headers()
                        .firstValue("X-Generation-Id").orElseThrow());
            }
        } finally {
            s3.restart();
        }
        await("every record delivered after the outage", Duration.ofSeconds(30),
                () -> records(prefix).keySet().containsAll(ids));
        assertThat(List.copyOf(records(prefix).keySet())).as("in the order the requests were made")
                .containsExactlyElementsOf(ids);
    }

    @Test
    void erasingAnAccountDeletesItsConfigurationCredentialsAndSpooledBatchesUndelivered() throws Exception {
        User user = user();
        String prefix = "d" + user.accountId() + "/";
        optIn(user, prefix);
        NODE.upstream().reset();
        Path spool = NODE.dataDir().resolve("audit-spool").resolve(Long.toString(user.accountId()));
        s3.stopForOutage();
        try {
            for (int i = 0; i < 3; i++) {
                assertThat(NODE.chat(user.key(), chat("erase me " + i, false)).statusCode()).isEqualTo(200);
            }
            await("the batches spooled", Duration.ofSeconds(10), () -> spooledRecords(user) == 3);
            HttpResponse<String> erased = user.client().post("/api/privacy/delete",
                    new JsonObject().put("password", ConsoleDataRoutesTest.PASSWORD));
            assertThat(erased.statusCode()).as(erased.body()).isEqualTo(204);
            await("the spool of the erased account deleted", Duration.ofSeconds(10), () -> !Files.exists(spool));
        } finally {
            s3.restart();
        }
        assertThat(NODE.sql("SELECT count(*) FROM audit_configs WHERE account_id = $1", user.accountId()).iterator()
                .next().getLong(0)).isZero();
        assertThat(new JsonObject(NODE.admin("GET", "/admin/accounts/" + user.accountId() + "/audit", null, 200))
                .getBoolean("configured")).isFalse();
        // nothing of it reaches the bucket afterwards: a request of another opted-in account goes through first
        User witness = user();
        String witnessPrefix = "w" + witness.accountId() + "/";
        optIn(witness, witnessPrefix);
        String id = NODE.chat(witness.key(), chat("after the erasure", false)).headers()
                .firstValue("X-Generation-Id").orElseThrow();
        await("the witness's record delivered", Duration.ofSeconds(30), () -> records(witnessPrefix).containsKey(id));
        assertThat(records(prefix)).isEmpty();
    }

    /** The records of the account in this node's spool, read through the status API. */
    static long spooledRecords(User user) {
        JsonObject status = new JsonObject(user.client().get("/api/audit").body()).getJsonObject("status");
        return status.getLong("spooled_records", -1L);
    }

    /** A second node whose spool takes about five records: each record is its own batch. */
    @RegisterExtension
    static final CorouterNode SMALL_SPOOL = CorouterNode.builder().withFakeUpstream()
            .set("audit", "flush_interval_ms", 50).set("audit", "retry_max_ms", 400)
            .set("audit", "batch_max_records", 1).set("audit", "spool_max_bytes", 6_000)
            .set("audit", "guard", new JsonObject().put("allow_http", true)
                    .put("allow_list", new JsonArray().add("127.0.0.1/32"))).build();

    @Test
    void overTheSpoolLimitRecordsAreDroppedAndTheDroppedCountIsExact() throws Exception {
        CorouterNode.Account account = SMALL_SPOOL.newAccount("5.00");
        String prefix = "c" + account.id() + "/";
        SMALL_SPOOL.admin("PUT", "/admin/accounts/" + account.id() + "/audit",
                new JsonObject().put("sink", "s3").put("config", s3Config(prefix)), 200);
        int sent = 12;
        List<String> ids = new ArrayList<>();
        s3.stopForOutage();
        try {
            for (int i = 0; i < sent; i++) {
                ids.add(SMALL_SPOOL.chat(account.key(), chat("spool me " + i, false)).headers()
                        .firstValue("X-Generation-Id").orElseThrow());
            }
            await("every record spooled or dropped", Duration.ofSeconds(10), () -> {
                JsonObject status = adminStatus(account.id());
                return status.getLong("spooled_records") + status.getLong("dropped") == sent;
            });
        } finally {
            s3.restart();
        }
        JsonObject whileDown = adminStatus(account.id());
        long dropped = whileDown.getLong("dropped");
        assertThat(dropped).as("some records dropped, some kept").isBetween(1L, sent - 1L);
        await("what was kept delivered", Duration.ofSeconds(30),
                () -> adminStatus(account.id()).getLong("delivered") == sent - dropped);
        Map<String, JsonObject> records = records(prefix);
        assertThat(records).hasSize((int) (sent - dropped));
        assertThat(ids).containsAll(records.keySet());
        // the first records were kept (the spool filled up in order); later ones were dropped
        assertThat(List.copyOf(records.keySet())).containsExactlyElementsOf(ids.subList(0, records.size()));
        assertThat(adminStatus(account.id()).getLong("dropped")).isEqualTo(dropped);
        assertThat(adminStatus(account.id()).getString("last_error")).isNotBlank();
    }

    static JsonObject adminStatus(long accountId) {
        return new JsonObject(SMALL_SPOOL.admin("GET", "/admin/accounts/" + accountId + "/audit", null, 200))
                .getJsonObject("status");
    }
}
