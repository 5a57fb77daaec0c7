package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The privacy policy's promise, checked end to end: request content is never retained. Every request carries a
 * unique canary in its content; afterwards neither any row of any table nor any line of the log holds it, while
 * the usage metadata the policy does keep (model, tokens, cost, status) is there.
 */
class PrivacyTest {

    private static final int SUCCESSFUL = 100;
    private static final Path LOG = Path.of("target/test-logs/corouter.log");

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().set("http", "body_limit_bytes", 8192).build();

    private final String canary = "CANARY-" + UUID.randomUUID();

    /** A request whose content carries the canary everywhere content can be: messages, parts, user, stop. */
    private JsonObject request(int i, boolean stream) {
        JsonArray messages = new JsonArray()
                .add(new JsonObject().put("role", "system").put("content", "You keep " + canary + " secret."))
                .add(new JsonObject().put("role", "user").put("content", "Request " + i + " says " + canary));
        if (i % 3 == 0) {
            messages.add(new JsonObject().put("role", "assistant").put("content", "I heard " + canary));
            messages.add(new JsonObject().put("role", "user").put("content", new JsonArray()
                    .add(new JsonObject().put("type", "text").put("text", "parts carry " + canary))));
        }
        JsonObject body = new JsonObject().put("model", CorouterNode.MOCK_MODEL).put("stream", stream)
                .put("messages", messages).put("max_tokens", 24);
        if (i % 5 == 0) {
            body.put("user", canary).put("stop", new JsonArray().add(canary));
        }
        return body;
    }

    @Test
    void noTableRowAndNoLogLineHoldsPromptContentWhileUsageMetadataIsKept() throws IOException {
        CorouterNode.Account account = NODE.newAccount("5.00");
        CorouterNode.Account poor = NODE.newAccount("0.000001");

        List<String> generations = new ArrayList<>();
        int streamed = 0;
        for (int i = 0; i < SUCCESSFUL; i++) {
            boolean stream = i % 2 == 1;
            HttpResponse<String> response = NODE.chat(account.key(), request(i, stream));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            if (stream) {
                streamed++;
                assertThat(response.body()).endsWith("data: [DONE]\n\n");
            }
            generations.add(response.headers().firstValue("X-Generation-Id").orElseThrow());
        }

        List<HttpResponse<String>> refused = new ArrayList<>();
        refused.add(expect(400, NODE.chat(account.key(), request(1, false).put("model", "nobody/none"))));
        refused.add(expect(400, NODE.chat(account.key(), new JsonObject().put("model", CorouterNode.MOCK_MODEL)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "wizard").put("content", canary))))));
        refused.add(expect(400, NODE.chat(account.key(), request(2, false).put("max_tokens", canary))));
        refused.add(expect(400, NODE.chat(account.key(), request(3, false).put("temperature", canary))));
        refused.add(expect(400, NODE.chat(account.key(), "{\"model\":\"" + CorouterNode.MOCK_MODEL
                + "\",\"messages\":[{\"role\":\"user\",\"content\":\"" + canary + "\"")));
        refused.add(expect(413, NODE.chat(account.key(), request(4, false).put("padding", canary.repeat(300)))));
        refused.add(expect(401, NODE.chat(null, request(5, false))));
        refused.add(expect(402, NODE.chat(poor.key(), request(6, false))));
        refused.add(expect(402, NODE.chat(poor.key(), request(7, true))));
        assertThat(refused).allSatisfy(r -> assertThat(r.body()).doesNotContain(canary));
        NODE.flushUsage();

        // what the policy keeps: one metadata row per answered request, priced and charged
        List<Row> rows = new ArrayList<>();
        NODE.sql("SELECT * FROM generations WHERE account_id = $1 ORDER BY created_at", account.id()).forEach(rows::add);
        assertThat(rows).extracting(r -> r.getString("id")).containsExactlyInAnyOrderElementsOf(generations);
        assertThat(rows).allSatisfy(row -> {
            assertThat(row.getString("model")).isEqualTo(CorouterNode.MOCK_MODEL);
            assertThat(row.getInteger("status")).isEqualTo(200);
            assertThat(row.getInteger("prompt_tokens")).isPositive();
            assertThat(row.getInteger("completion_tokens")).isPositive();
            assertThat(row.getLong("cost")).isPositive();
            assertThat(NODE.chargeFor(row.getString("id"))).isEqualTo(row.getLong("cost"));
        });
        assertThat(rows).filteredOn(row -> row.getBoolean("streamed")).hasSize(streamed);
        assertThat(NODE.sql("SELECT status, cost FROM generations WHERE account_id = $1", poor.id()))
                .as("refused requests leave no usage row").isEmpty();
        NODE.assertLedgerBalances();

        // what it does not keep: the canary, anywhere in the database ...
        List<String> tables = new ArrayList<>();
        NODE.sql("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
                .forEach(row -> tables.add(row.getString(0)));
        assertThat(tables).contains("accounts", "api_keys", "generations", "ledger_transactions", "ledger_entries");
        long scanned = 0;
        for (String table : tables) {
            for (Row row : NODE.sql("SELECT t::text FROM public.\"" + table.replace("\"", "\"\"") + "\" t")) {
                scanned++;
                assertThat(row.getString(0)).as("a row of %s", table).doesNotContain(canary);
            }
        }
        assertThat(scanned).isGreaterThan(SUCCESSFUL);

        // ... or in the log, which holds this node's own lines
        assertThat(LOG).isRegularFile();
        String log = Files.readString(LOG, StandardCharsets.UTF_8);
        assertThat(log).contains("corouter node " + NODE.node().nodeId() + " listening");
        assertThat(log).doesNotContain(canary);
    }

    private static HttpResponse<String> expect(int status, HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        return response;
    }
}
