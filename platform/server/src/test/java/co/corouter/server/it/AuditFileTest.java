package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Opt-in audit logging into files on the server (the audit-file plugin), through the console API: records land once,
 * byte-exact; turning audit off stops new records; the export carries the configuration, erasure removes it; and
 * what the console answers for bad configurations.
 */
class AuditFileTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream()
            .set("audit", "flush_interval_ms", 50).build();

    static Path accountDir(long accountId) {
        return NODE.dataDir().resolve("audit-files").resolve("account-" + accountId);
    }

    static Map<String, JsonObject> records(Path dir) {
        Map<String, JsonObject> found = new LinkedHashMap<>();
        if (!Files.isDirectory(dir)) {
            return found;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".jsonl")).sorted().toList()) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    if (!line.isBlank()) {
                        JsonObject record = new JsonObject(line);
                        assertThat(found.put(record.getString("generation_id"), record)).as("written twice").isNull();
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    @Test
    void recordsLandInTheAccountsFilesUntilAuditIsTurnedOffAndErasureRemovesTheConfiguration() {
        AuditS3Test.User user = AuditS3Test.user(NODE);
        JsonObject body = new JsonObject().put("sink", "file").put("config", new JsonObject().put("path", "gateway"));
        HttpResponse<String> saved = user.client().send("PUT", "/api/audit", body);
        assertThat(saved.statusCode()).as(saved.body()).isEqualTo(200);

        List<String> ids = new ArrayList<>();
        Map<String, String[]> exchanged = new LinkedHashMap<>();
        for (boolean stream : new boolean[] {false, true, false}) {
            String request = AuditS3Test.chat("file me " + stream, stream);
            HttpResponse<String> response = NODE.chat(user.key(), request);
            assertThat(response.statusCode()).isEqualTo(200);
            String id = response.headers().firstValue("X-Generation-Id").orElseThrow();
            ids.add(id);
            exchanged.put(id, new String[] {request, response.body()});
        }
        Path dir = accountDir(user.accountId()).resolve("gateway");
        AuditS3Test.await("the records in the account's files", Duration.ofSeconds(15),
                () -> records(dir).keySet().containsAll(ids));
        Map<String, JsonObject> records = records(dir);
        assertThat(List.copyOf(records.keySet())).containsExactlyElementsOf(ids);
        exchanged.forEach((id, sent) -> {
            assertThat(records.get(id).getString("request")).isEqualTo(sent[0]);
            assertThat(records.get(id).getString("response")).isEqualTo(sent[1]);
        });

        // the export names the destination (no credentials to leave out here; AuditS3Test checks those)
        JsonObject export = new JsonObject(user.client().get("/api/privacy/export").body());
        assertThat(export.getJsonObject("audit").getString("sink")).isEqualTo("file");
        assertThat(export.getJsonObject("audit").getJsonObject("config").getString("path")).isEqualTo("gateway");

        // off: no new record, and the status says so
        HttpResponse<String> off = user.client().delete("/api/audit");
        assertThat(off.statusCode()).as(off.body()).isEqualTo(200);
        assertThat(new JsonObject(off.body()).getBoolean("enabled")).isFalse();
        String after = NODE.chat(user.key(), AuditS3Test.chat("not any more", false)).headers()
                .firstValue("X-Generation-Id").orElseThrow();
        NODE.flushUsage();
        assertThat(NODE.sql("SELECT count(*) FROM generations WHERE id = $1", after).iterator().next().getLong(0))
                .as("the request itself was served and metered").isEqualTo(1);
        assertThat(records(dir)).doesNotContainKey(after).hasSize(ids.size());

        // erasure removes the configuration
        HttpResponse<String> erased = user.client().post("/api/privacy/delete",
                new JsonObject().put("password", ConsoleDataRoutesTest.PASSWORD));
        assertThat(erased.statusCode()).as(erased.body()).isEqualTo(204);
        assertThat(NODE.sql("SELECT count(*) FROM audit_configs WHERE account_id = $1", user.accountId()).iterator()
                .next().getLong(0)).isZero();
    }

    @Test
    void aConfigurationThatCannotWorkIsRefusedWithTheReasonAndNothingIsSaved() {
        AuditS3Test.User user = AuditS3Test.user(NODE);
        HttpResponse<String> escape = user.client().send("PUT", "/api/audit", new JsonObject().put("sink", "file")
                .put("config", new JsonObject().put("path", "../../etc")));
        assertThat(escape.statusCode()).as(escape.body()).isEqualTo(400);
        assertThat(new JsonObject(escape.body()).getJsonObject("error").getJsonObject("metadata")
                .getJsonObject("fields").containsKey("config")).isTrue();
        HttpResponse<String> unknown = user.client().post("/api/audit/test", new JsonObject().put("sink", "ftp")
                .put("config", new JsonObject()));
        assertThat(unknown.statusCode()).isEqualTo(400);
        HttpResponse<String> s3Private = user.client().post("/api/audit/test", new JsonObject().put("sink", "s3")
                .put("config", new JsonObject().put("bucket", "b-u-c").put("region", "us-east-1")
                        .put("endpoint", "http://169.254.169.254").put("path_style", true)
                        .put("access_key_id", "x").put("secret_access_key", "top-secret-value")));
        assertThat(s3Private.statusCode()).as(s3Private.body()).isEqualTo(422);
        assertThat(s3Private.body()).doesNotContain("top-secret-value");
        assertThat(new JsonObject(s3Private.body()).getJsonObject("error").getJsonObject("metadata")
                .getString("kind")).isEqualTo("REFUSED");
        assertThat(new JsonObject(user.client().get("/api/audit").body()).getBoolean("configured")).isFalse();
        JsonArray sinks = new JsonObject(user.client().get("/api/audit/sinks").body()).getJsonArray("data");
        assertThat(sinks.stream().map(s -> ((JsonObject) s).getString("type")).toList()).contains("s3", "file");
    }
}
