package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.accounts.AccountRepository;
import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.accounts.Passwords;
import co.corouter.server.billing.LedgerRepository;
import co.corouter.server.common.ApiException;
import co.corouter.server.config.ServerOptions;
import co.corouter.server.console.ConsoleUser;
import co.corouter.server.console.data.ConsoleDataApi;
import co.corouter.server.console.data.RetentionJob;
import co.corouter.server.metering.MeteringContract;
import co.corouter.server.metering.UsageReports;
import co.corouter.server.metering.UsageRepository;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The console's data, against a real node and PostgreSQL: the daily rollup and keys' last use kept by metering in the
 * batch's transaction, keys switched off and on, processing restricted, the live feed, retention, the export and the
 * erasure. The route handlers' actions are called through {@link ConsoleDataApi} with a signed-in user.
 */
class ConsoleDataTest {

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().build();

    static final String LARGE = "corouter/mock-large";
    static ConsoleDataApi api;
    static Passwords passwords;

    @BeforeAll
    static void consoleData() {
        var pool = NODE.node().pool();
        AccountsContract.Accounts accounts = NODE.node().accounts();
        passwords = new Passwords(NODE.vertx());
        api = ConsoleDataApi.create(NODE.vertx(), pool, new ConsoleDataApi.Services(accounts,
                        (AccountsContract.OwnerKeys) accounts, NODE.node().credits(), new LedgerRepository(pool),
                        new UsageReports(pool), NODE.node().payments(), null),
                (hash, password) -> passwords.verify(password, hash), null, Clock.systemUTC());
        CorouterNode.await(api.start());
    }

    static JsonObject chatBody(String model) {
        return new JsonObject().put("model", model).put("max_tokens", 16)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")));
    }

    /** A user row for the account (as sign-up writes it), with a real Argon2id hash of {@code password}. */
    static ConsoleUser user(CorouterNode.Account account, String password) {
        String email = "user-" + System.nanoTime() + "@example.com";
        String hash = CorouterNode.await(passwords.hash(password));
        long userId = NODE.sql("""
                INSERT INTO users (account_id, email, email_normalized, password_hash, display_name, adult_confirmed_at,
                                   policy_version)
                VALUES ($1, $2, $2, $3, 'Ada', now(), '2025-01') RETURNING id""", account.id(), email, hash)
                .iterator().next().getLong(0);
        return new ConsoleUser(userId, account.id(), 0, email);
    }

    static <T> T await(io.vertx.core.Future<T> future) {
        return CorouterNode.await(future);
    }

    static ApiException failure(io.vertx.core.Future<?> future) {
        try {
            future.toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(ApiException.class);
            return (ApiException) e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("expected a failure");
    }

    @Test
    void theDailyRollupEqualsAGroupByOverGenerationsAfterConcurrentRequestsAcrossKeysAndModels() throws Exception {
        CorouterNode.Account account = NODE.newAccount("20.00");
        List<String> keys = new ArrayList<>(List.of(account.key()));
        for (int i = 0; i < 2; i++) {
            keys.add(new JsonObject(NODE.admin("POST", "/admin/accounts/" + account.id() + "/keys",
                    new JsonObject().put("label", "k" + i), 201)).getString("key"));
        }
        HttpClient client = HttpClient.newHttpClient();
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < 240; i++) {
            String key = keys.get(i % keys.size());
            String model = i % 2 == 0 ? CorouterNode.MOCK_MODEL : LARGE;
            calls.add(client.sendAsync(HttpRequest.newBuilder(URI.create(NODE.baseUrl() + "/chat/completions"))
                    .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(chatBody(model).encode())).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            assertThat(call.get().statusCode()).as(call.get().body()).isEqualTo(200);
        }
        NODE.flushUsage();

        String rollup = """
                SELECT api_key_id, model, day, requests, prompt_tokens, completion_tokens, cost FROM usage_daily
                WHERE account_id = $1 ORDER BY 1, 2, 3""";
        String groupBy = """
                SELECT api_key_id, model, (created_at AT TIME ZONE 'UTC')::date, count(*), sum(prompt_tokens),
                       sum(completion_tokens), sum(cost)
                FROM generations WHERE account_id = $1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""";
        List<String> expected = rows(NODE.sql(groupBy, account.id()));
        assertThat(expected).hasSize(6); // 3 keys x 2 models (one UTC day, unless the test straddles midnight)
        assertThat(rows(NODE.sql(rollup, account.id()))).isEqualTo(expected);
        assertThat(NODE.sql("SELECT sum(requests)::bigint FROM usage_daily WHERE account_id = $1", account.id())
                .iterator().next().getLong(0)).isEqualTo(240);

        // each key's last use is its newest generation
        List<String> lastUsed = rows(NODE.sql("""
                SELECT id, last_used_at FROM api_keys WHERE account_id = $1 ORDER BY id""", account.id()));
        List<String> newest = rows(NODE.sql("""
                SELECT api_key_id, max(created_at) FROM generations WHERE account_id = $1 GROUP BY 1 ORDER BY 1""",
                account.id()));
        assertThat(lastUsed).isEqualTo(newest).hasSize(3);

        // and the console's aggregates read the rollup
        ConsoleUser user = user(account, "correct horse battery");
        JsonObject listed = await(api.keys(user));
        long requests = 0;
        for (Object key : listed.getJsonArray("data")) {
            JsonObject k = (JsonObject) key;
            assertThat(k.getString("last_used_at")).isNotNull();
            assertThat(k.getString("prefix")).startsWith("sk-cr-v2-");
            requests += k.getLong("requests");
        }
        assertThat(requests).isEqualTo(240);
        JsonObject byModel = await(api.activity(user, null, null, "model"));
        assertThat(byModel.getJsonObject("totals").getLong("requests")).isEqualTo(240);
        assertThat(byModel.getJsonArray("data").stream().map(o -> ((JsonObject) o).getString("model")).toList())
                .contains(CorouterNode.MOCK_MODEL, LARGE);
        long cost = NODE.sql("SELECT sum(cost)::bigint FROM generations WHERE account_id = $1", account.id())
                .iterator().next().getLong(0);
        assertThat(byModel.getJsonObject("totals").getString("usage_usd"))
                .isEqualTo(co.corouter.server.common.Money.toUsdText(cost));
        JsonObject dashboard = await(api.dashboard(user));
        assertThat(dashboard.getLong("requests_today")).isEqualTo(240);
        assertThat(dashboard.getString("spend_today_usd")).isEqualTo(co.corouter.server.common.Money.toUsdText(cost));
        assertThat(dashboard.getString("balance_usd"))
                .isEqualTo(co.corouter.server.common.Money.toUsdText(NODE.balance(account.id())));
        NODE.assertLedgerBalances();
    }

    private static List<String> rows(io.vertx.sqlclient.RowSet<Row> rows) {
        List<String> list = new ArrayList<>();
        for (Row row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                Object v = row.getValue(i);
                line.append(v instanceof Number n ? Long.toString(n.longValue()) : String.valueOf(v)).append('|');
            }
            list.add(line.toString());
        }
        return list;
    }

    @Test
    void aDisabledKeyIsRefusedWith401AndWorksAgainOnceEnabled() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        ConsoleUser user = user(account, "correct horse battery");
        assertThat(NODE.chat(account.key(), chatBody(CorouterNode.MOCK_MODEL)).statusCode()).isEqualTo(200);

        JsonObject disabled = await(api.setKeyDisabled(user, account.keyId(), true));
        assertThat(disabled.getBoolean("disabled")).isTrue();
        HttpResponse<String> refused = NODE.chat(account.key(), chatBody(CorouterNode.MOCK_MODEL));
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("message"))
                .isEqualTo("this API key is disabled");
        assertThat(NODE.get("/v1/key", account.key()).statusCode()).isEqualTo(401);

        assertThat(await(api.setKeyDisabled(user, account.keyId(), false)).getBoolean("disabled")).isFalse();
        assertThat(NODE.chat(account.key(), chatBody(CorouterNode.MOCK_MODEL)).statusCode()).isEqualTo(200);
        assertThat(NODE.usageRows(account.id())).isEqualTo(2);
    }

    @Test
    void anotherAccountsKeyIsNotFoundForEveryChange() {
        CorouterNode.Account mine = NODE.newAccount("1.00");
        CorouterNode.Account theirs = NODE.newAccount("1.00");
        ConsoleUser user = user(mine, "correct horse battery");
        assertThat(failure(api.setKeyDisabled(user, theirs.keyId(), true)).code()).isEqualTo(404);
        assertThat(failure(api.revokeKey(user, theirs.keyId())).code()).isEqualTo(404);
        assertThat(NODE.chat(theirs.key(), chatBody(CorouterNode.MOCK_MODEL)).statusCode()).isEqualTo(200);
    }

    @Test
    void aKeyCreatedInTheConsoleWorksOnceAndARevokedOneIsRefusedAtOnce() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        ConsoleUser user = user(account, "correct horse battery");
        assertThat(failure(api.createKey(user, " ")).metadata().getJsonObject("fields").containsKey("name")).isTrue();
        JsonObject created = await(api.createKey(user, "laptop"));
        assertThat(created.getString("key")).startsWith("sk-cr-v2-");
        assertThat(created.getString("prefix")).isNotEqualTo(created.getString("key"));
        assertThat(NODE.chat(created.getString("key"), chatBody(CorouterNode.MOCK_MODEL)).statusCode()).isEqualTo(200);
        JsonArray listed = await(api.keys(user)).getJsonArray("data");
        assertThat(listed.stream().map(k -> ((JsonObject) k).getString("name")).toList()).contains("laptop");
        assertThat(listed.encode()).doesNotContain(created.getString("key"));

        await(api.revokeKey(user, created.getLong("id")));
        assertThat(NODE.chat(created.getString("key"), chatBody(CorouterNode.MOCK_MODEL)).statusCode()).isEqualTo(401);
        assertThat(await(api.keys(user)).getJsonArray("data").size()).isEqualTo(1);
    }

    @Test
    void aRestrictedAccountGets403OnV1AndNothingIsMeteredUntilTheRestrictionIsLifted() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        ConsoleUser user = user(account, "correct horse battery");
        assertThat(NODE.chat(account.key(), chatBody(CorouterNode.MOCK_MODEL)).statusCode()).isEqualTo(200);
        NODE.flushUsage();
        long balance = NODE.balance(account.id());

        assertThat(await(api.restrict(user, true)).getBoolean("restricted")).isTrue();
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> refused = NODE.chat(account.key(), chatBody(CorouterNode.MOCK_MODEL));
            assertThat(refused.statusCode()).isEqualTo(403);
            assertThat(new JsonObject(refused.body()).getJsonObject("error").getString("message"))
                    .isEqualTo("processing restricted by the account owner");
        }
        assertThat(NODE.get("/v1/credits", account.key()).statusCode()).isEqualTo(403);
        assertThat(NODE.usageRows(account.id())).isEqualTo(1);
        assertThat(NODE.balance(account.id())).isEqualTo(balance);
        assertThat(NODE.sql("SELECT restricted_at IS NOT NULL FROM accounts WHERE id = $1", account.id())
                .iterator().next().getBoolean(0)).isTrue();

        await(api.restrict(user, false));
        assertThat(NODE.chat(account.key(), chatBody(CorouterNode.MOCK_MODEL)).statusCode()).isEqualTo(200);
        assertThat(NODE.usageRows(account.id())).isEqualTo(2);
    }

    @Test
    void eachMeteredRequestIsPublishedToItsAccountsFeedWithMetadataOnly() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        List<JsonObject> received = new CopyOnWriteArrayList<>();
        MessageConsumer<JsonObject> consumer = NODE.vertx().eventBus()
                .consumer(MeteringContract.consoleFeed(account.id()), m -> received.add(m.body()));
        await(consumer.completion());
        try {
            HttpResponse<String> response = NODE.chat(account.key(), chatBody(CorouterNode.MOCK_MODEL));
            String id = response.headers().firstValue("X-Generation-Id").orElseThrow();
            NODE.awaitCondition("the feed message", () -> !received.isEmpty());
            JsonObject event = received.get(0);
            assertThat(event.getString("type")).isEqualTo("generation");
            assertThat(event.getJsonObject("generation").getString("id")).isEqualTo(id);
            assertThat(event.getJsonObject("generation").getLong("key_id")).isEqualTo(account.keyId());
            assertThat(event.getJsonObject("generation").encode()).doesNotContain("\"hi\"");
            assertThat(event.getString("balance_usd"))
                    .isEqualTo(co.corouter.server.common.Money.toUsdText(NODE.balance(account.id())));
        } finally {
            await(consumer.unregister());
        }
    }

    @Test
    void generationsArePagedNewestFirstFilteredAndAnotherAccountsGenerationIsNotFound() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        CorouterNode.Account other = NODE.newAccount("1.00");
        ConsoleUser user = user(account, "correct horse battery");
        for (int i = 0; i < 7; i++) {
            NODE.chat(account.key(), chatBody(i % 2 == 0 ? CorouterNode.MOCK_MODEL : LARGE));
        }
        String foreign = NODE.chat(other.key(), chatBody(CorouterNode.MOCK_MODEL)).headers()
                .firstValue("X-Generation-Id").orElseThrow();
        NODE.flushUsage();

        Set<String> seen = new HashSet<>();
        String cursor = null;
        java.time.Instant previousAt = null;
        String previousId = null;
        int pages = 0;
        do {
            JsonObject page = await(api.generations(user, 3, cursor, null, null, null));
            for (Object o : page.getJsonArray("data")) {
                JsonObject g = (JsonObject) o;
                assertThat(seen.add(g.getString("id"))).isTrue();
                assertThat(g.getString("created_at")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
                java.time.Instant at = java.time.Instant.parse(g.getString("created_at"));
                if (previousAt != null) {
                    assertThat(at).isBeforeOrEqualTo(previousAt);
                    if (at.equals(previousAt)) {
                        assertThat(g.getString("id")).isLessThan(previousId);
                    }
                }
                previousAt = at;
                previousId = g.getString("id");
                assertThat(g.fieldNames()).doesNotContain("messages", "content");
            }
            cursor = page.getString("next_cursor");
            pages++;
        } while (cursor != null);
        assertThat(seen).hasSize(7);
        assertThat(pages).isEqualTo(3);
        assertThat(await(api.generations(user, 50, null, LARGE, null, null)).getJsonArray("data")).hasSize(3);
        assertThat(await(api.generations(user, 50, null, null, null, "error")).getJsonArray("data")).isEmpty();
        assertThat(await(api.generations(user, 50, null, null, Long.toString(other.keyId()), "ok"))
                .getJsonArray("data")).isEmpty();
        assertThat(failure(api.generations(user, 50, "garbage!", null, null, null)).code()).isEqualTo(400);
        assertThat(failure(api.generations(user, 50, null, null, null, "maybe")).code()).isEqualTo(400);

        String mine = seen.iterator().next();
        JsonObject one = await(api.generation(user, mine));
        assertThat(one.getJsonArray("provider_responses")).hasSize(1);
        assertThat(failure(api.generation(user, foreign)).code()).isEqualTo(404);
    }

    @Test
    void activityValidatesItsRangeAndGrouping() {
        ConsoleUser user = user(NODE.newAccount("1.00"), "correct horse battery");
        assertThat(failure(api.activity(user, "2025-01-01", "2026-01-03", null)).code()).isEqualTo(400);
        assertThat(failure(api.activity(user, "2025-02-01", "2025-01-01", null)).code()).isEqualTo(400);
        assertThat(failure(api.activity(user, "yesterday", null, null)).metadata().getJsonObject("fields")
                .containsKey("from")).isTrue();
        assertThat(failure(api.activity(user, null, null, "planet")).code()).isEqualTo(400);
        assertThat(await(api.activity(user, "2025-01-01", "2026-01-01", "key")).getJsonArray("data")).isEmpty();
    }

    @Test
    void billingShowsCreditsAndOneUsageRowPerDay() {
        CorouterNode.Account account = NODE.newAccount("2.00");
        ConsoleUser user = user(account, "correct horse battery");
        for (int i = 0; i < 3; i++) {
            NODE.chat(account.key(), chatBody(CorouterNode.MOCK_MODEL));
        }
        NODE.flushUsage();
        JsonObject billing = await(api.billing(user, 50, null));
        JsonArray data = billing.getJsonArray("data");
        assertThat(data.stream().map(o -> ((JsonObject) o).getString("kind")).toList()).containsExactly("grant",
                "usage");
        assertThat(billing.getString("balance_usd"))
                .isEqualTo(co.corouter.server.common.Money.toUsdText(NODE.balance(account.id())));
        // a page of one, then the next
        JsonObject first = await(api.billing(user, 1, null));
        assertThat(first.getString("next_cursor")).isNotNull();
        JsonObject second = await(api.billing(user, 1, first.getString("next_cursor")));
        assertThat(second.getJsonArray("data")).hasSize(1);
        assertThat(second.getJsonArray("data").getJsonObject(0).getString("kind"))
                .isNotEqualTo(first.getJsonArray("data").getJsonObject(0).getString("kind"));
    }

    @Test
    void retentionPurgesUsageRowsAndSignInsOlderThanTheWindowAndKeepsNewerOnesAndTheRollup() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        ConsoleUser user = user(account, "correct horse battery");
        NODE.chat(account.key(), chatBody(CorouterNode.MOCK_MODEL));
        NODE.flushUsage();
        for (int days : new int[] {91, 200}) {
            // old rows as they were written then (at cost 0, so no charge names them)
            NODE.sql("""
                    INSERT INTO generations (id, account_id, api_key_id, model, provider, upstream_model, streamed,
                                             status, latency_ms, created_at)
                    VALUES ($1, $2, $3, 'corouter/mock-small', 'mock', 'mock-small', false, 200, 5,
                            now() - make_interval(days => $4))""",
                    "gen-old" + days + System.nanoTime(), account.id(), account.keyId(), days);
            NODE.sql("INSERT INTO login_events (user_id, outcome, created_at) VALUES ($1, 'success', "
                    + "now() - make_interval(days => $2))", user.userId(), days);
        }
        NODE.sql("INSERT INTO login_events (user_id, outcome, created_at) VALUES ($1, 'success', "
                + "now() - interval '89 days')", user.userId());
        long rollup = NODE.sql("SELECT count(*) FROM usage_daily WHERE account_id = $1", account.id())
                .iterator().next().getLong(0);

        var pool = NODE.node().pool();
        RetentionJob job = new RetentionJob(new ServerOptions.RetentionOptions(90, 90, 60),
                new UsageRepository(pool, new LedgerRepository(pool),
                        new co.corouter.server.billing.KeyLimitRepository(pool), new AccountRepository(pool)), pool,
                Clock.systemUTC());
        RetentionJob.Purged purged = await(job.runNow());
        assertThat(purged.generations()).isGreaterThanOrEqualTo(2);
        assertThat(purged.loginEvents()).isGreaterThanOrEqualTo(2);
        assertThat(NODE.sql("SELECT count(*) FROM generations WHERE account_id = $1", account.id()).iterator().next()
                .getLong(0)).isEqualTo(1);
        assertThat(NODE.sql("SELECT count(*) FROM login_events WHERE user_id = $1", user.userId()).iterator().next()
                .getLong(0)).isEqualTo(1);
        assertThat(NODE.sql("SELECT count(*) FROM usage_daily WHERE account_id = $1", account.id()).iterator().next()
                .getLong(0)).isEqualTo(rollup);
        NODE.assertLedgerBalances();
    }

    @Test
    void theExportHoldsEveryPartAndNoPasswordHashOrSessionToken() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        ConsoleUser user = user(account, "correct horse battery");
        NODE.sql("""
                INSERT INTO sessions (user_id, token_hash, csrf_token, user_agent, ip, expires_at)
                VALUES ($1, '\\x0102', 'csrf-secret-value', 'Firefox', '127.0.0.1', now() + interval '1 hour')""",
                user.userId());
        NODE.sql("INSERT INTO login_events (user_id, outcome, ip) VALUES ($1, 'success', '127.0.0.1')",
                user.userId());
        NODE.chat(account.key(), chatBody(CorouterNode.MOCK_MODEL));
        NODE.flushUsage();

        JsonObject export = await(api.exportHead(user));
        assertThat(export.fieldNames()).contains("account", "profile", "preferences", "keys", "sessions",
                "login_history", "billing_history", "usage_by_day");
        assertThat(export.getJsonObject("profile").getString("email")).isEqualTo(user.email());
        assertThat(export.getJsonObject("profile").fieldNames()).doesNotContain("password_hash");
        assertThat(export.getJsonArray("sessions")).hasSize(1);
        assertThat(export.getJsonArray("login_history")).hasSize(1);
        assertThat(export.getJsonArray("keys")).hasSize(1);
        assertThat(export.getJsonArray("billing_history").size()).isGreaterThanOrEqualTo(2);
        String text = export.encode();
        assertThat(text).doesNotContain("$argon2id").doesNotContain("csrf-secret-value").doesNotContain(account.key());
    }

    @Test
    void deletionNeedsThePasswordThenRevokesKeysEndsSessionsAndErasesPersonalData() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        ConsoleUser user = user(account, "correct horse battery");
        NODE.sql("""
                INSERT INTO sessions (user_id, token_hash, csrf_token, expires_at)
                VALUES ($1, '\\x0304', 'x', now() + interval '1 hour')""", user.userId());
        NODE.sql("INSERT INTO login_events (user_id, outcome) VALUES ($1, 'success')", user.userId());
        String generation = NODE.chat(account.key(), chatBody(CorouterNode.MOCK_MODEL)).headers()
                .firstValue("X-Generation-Id").orElseThrow();
        NODE.flushUsage();

        assertThat(failure(api.delete(user, "wrong password!")).code()).isEqualTo(403);
        assertThat(NODE.chat(account.key(), chatBody(CorouterNode.MOCK_MODEL)).statusCode()).isEqualTo(200);

        await(api.delete(user, "correct horse battery"));
        assertThat(NODE.chat(account.key(), chatBody(CorouterNode.MOCK_MODEL)).statusCode()).isEqualTo(401);
        Row row = NODE.sql("SELECT email, email_normalized, password_hash, display_name, erased_at FROM users "
                + "WHERE id = $1", user.userId()).iterator().next();
        assertThat(row.getString(0)).isEqualTo("erased-" + user.userId() + "@invalid");
        assertThat(row.getString(1)).isNull();
        assertThat(row.getString(2)).isNull();
        assertThat(row.getString(3)).isEmpty();
        assertThat(row.getOffsetDateTime(4)).isNotNull();
        assertThat(NODE.sql("SELECT name FROM accounts WHERE id = $1", account.id()).iterator().next().getString(0))
                .isEqualTo("erased-" + account.id());
        assertThat(NODE.sql("SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL", user.userId())
                .iterator().next().getLong(0)).isZero();
        assertThat(NODE.sql("SELECT count(*) FROM login_events WHERE user_id = $1", user.userId()).iterator().next()
                .getLong(0)).isZero();
        assertThat(NODE.sql("SELECT count(*) FROM api_keys WHERE account_id = $1 AND revoked_at IS NULL",
                account.id()).iterator().next().getLong(0)).isZero();
        // usage metadata and the ledger are kept: they hold ids only
        assertThat(NODE.sql("SELECT count(*) FROM generations WHERE id = $1", generation).iterator().next()
                .getLong(0)).isEqualTo(1);
        assertThat(failure(api.delete(user, "correct horse battery")).code()).isEqualTo(403);
        NODE.assertLedgerBalances();
    }

    @Test
    void aBridgeTokenNamesTheUsersOwnFeed() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        JsonObject token = api.bridgeToken(user(account, "correct horse battery"));
        assertThat(token.getString("address")).isEqualTo("corouter.console." + account.id());
        assertThat(token.getString("token").split("\\.")).hasSize(3);
    }
}
