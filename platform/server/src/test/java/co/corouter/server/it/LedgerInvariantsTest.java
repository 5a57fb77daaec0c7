package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.common.Money;
import co.corouter.testkit.upstream.Behaviour;
import co.corouter.testkit.upstream.RecordedRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Rule 16 for money: random sequences of grants, replayed grants and bursts of concurrent requests against a hostile
 * upstream, on two accounts of one node, with the ledger's invariants checked after every step. A failure names its
 * seed; rerun it with {@code -Dcorouter.test.seed=<seed>} (concurrency keeps a rerun close, not identical).
 */
class LedgerInvariantsTest {

    static final int STEPS = 40;
    static final long PROMPT_NANOS_PER_MILLION = 2_000_000_000L;
    static final long COMPLETION_NANOS_PER_MILLION = 10_000_000_000L;
    static final int MAX_OUTPUT_TOKENS = 1024;
    static final String UPSTREAM_KEY = "sk-upstream-test";

    /** A small lease slice, so that bursts extend leases many times instead of taking all credit at once. */
    @RegisterExtension
    // no same-endpoint retries (RetryTest covers them): every admitted request reaches the upstream exactly once, and
    // a breaker that never opens (the bursts fail on purpose, and must all reach the upstream)
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream()
            .set("billing", "lease_slice_usd", "0.02").set("routing", "retries", 0)
            .set("routing", "breaker_max_failures", 10_000).set("routing", "breaker_min_requests", 1_000_000).build();

    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    static LongStream seeds() {
        String fixed = System.getProperty("corouter.test.seed");
        if (fixed != null) {
            return LongStream.of(Long.parseLong(fixed));
        }
        return new SecureRandom().longs(3);
    }

    /** One account under test and what the model knows about it. */
    static final class Wallet {
        final CorouterNode.Account account;
        final List<String> grantKeys = new ArrayList<>();
        final Map<String, Long> grantAmounts = new HashMap<>();
        /** Since its last grant, a burst asked for more than the balance: the node may back off for a while. */
        boolean overAsked;

        Wallet(CorouterNode.Account account) {
            this.account = account;
        }

        long id() {
            return account.id();
        }
    }

    /** One chat request of a burst: its body (tagged by a unique marker) and the worst case admission reserves. */
    record Call(Wallet wallet, String marker, String body, boolean stream, long worstCase) {
    }

    /** A call and the answer it got. */
    record Answered(Call call, HttpResponse<String> response) {

        String generationId() {
            return response.headers().firstValue("X-Generation-Id").orElseThrow();
        }
    }

    final Map<Integer, Integer> statuses = new HashMap<>();
    int affordableBursts;

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void anyInterleavingOfGrantsReplaysAndHostileBurstsKeepsTheLedgerSound(long seed) {
        System.out.println("LedgerInvariantsTest seed " + seed);
        Random random = new Random(seed);
        List<Wallet> wallets = List.of(new Wallet(NODE.newAccount("0.05")), new Wallet(NODE.newAccount("0.05")));
        for (int step = 0; step < STEPS; step++) {
            String context = "seed " + seed + ", step " + step;
            int op = random.nextInt(100);
            Map<Long, Long> before = balances(wallets);
            if (op < 15) {
                grant(random, wallets, seed, step, context + " (grant)", before);
            } else if (op < 25) {
                replay(random, wallets, context + " (replayed grant)");
            } else {
                List<Wallet> targets = op < 70 ? List.of(wallets.get(random.nextInt(2))) : wallets;
                burst(random, targets, seed, step, context + " (burst on " + targets.size() + " accounts)", before);
            }
            for (Wallet wallet : wallets) {
                assertInvariants(wallet, context);
            }
        }
        System.out.println("LedgerInvariantsTest seed " + seed + " statuses " + statuses + ", affordable bursts "
                + affordableBursts);
        assertThat(statuses.getOrDefault(200, 0)).as("seed " + seed + ": some requests were served").isPositive();
        assertThat(statuses.getOrDefault(402, 0)).as("seed " + seed + ": some requests were refused").isPositive();
    }

    void grant(Random random, List<Wallet> wallets, long seed, int step, String context, Map<Long, Long> before) {
        Wallet wallet = wallets.get(random.nextInt(wallets.size()));
        long amount = 5_000_000L + random.nextInt(195_000_000);
        String key = "invariants:" + seed + ":" + step;
        JsonObject answer = grantRequest(wallet, amount, key);
        wallet.grantKeys.add(key);
        wallet.grantAmounts.put(key, amount);
        wallet.overAsked = false;
        assertThat(answer.getBoolean("replayed")).as(context).isFalse();
        assertThat(Money.parseUsd(answer.getString("balance_usd"), "balance")).as(context + ": reported balance")
                .isEqualTo(before.get(wallet.id()) + amount);
        assertThat(NODE.balance(wallet.id())).as(context).isEqualTo(before.get(wallet.id()) + amount);
    }

    /**
     * Replays an earlier idempotency key: with the original details it is the same, already applied movement; with
     * another amount or on another account it is a 409. Either way nothing may change.
     */
    void replay(Random random, List<Wallet> wallets, String context) {
        Wallet owner = wallets.get(random.nextInt(wallets.size()));
        if (owner.grantKeys.isEmpty()) {
            return;
        }
        String key = owner.grantKeys.get(random.nextInt(owner.grantKeys.size()));
        long original = owner.grantAmounts.get(key);
        Wallet target = random.nextInt(4) == 0 ? wallets.get(random.nextInt(wallets.size())) : owner;
        long amount = random.nextInt(3) == 0 ? original + 1 + random.nextInt(100_000_000) : original;
        boolean same = target == owner && amount == original;
        Map<Long, Long> before = balances(wallets);
        String body = NODE.admin("POST", "/admin/accounts/" + target.id() + "/credits", new JsonObject()
                .put("amount_usd", Money.toUsd(amount).toPlainString()).put("reason", "invariants")
                .put("idempotency_key", key), same ? 201 : 409);
        if (same) {
            JsonObject answer = new JsonObject(body);
            target.overAsked = false;
            assertThat(answer.getBoolean("replayed")).as(context + ": key " + key).isTrue();
            assertThat(Money.parseUsd(answer.getString("balance_usd"), "balance")).as(context + ": reported balance")
                    .isEqualTo(before.get(owner.id()));
        }
        assertThat(balances(wallets)).as(context + ": balances after replaying " + key).isEqualTo(before);
        long transactions = NODE.sql("SELECT count(*) FROM ledger_transactions WHERE idempotency_key = $1", key)
                .iterator().next().getLong(0);
        assertThat(transactions).as(context).isEqualTo(1);
    }

    static JsonObject grantRequest(Wallet wallet, long amount, String key) {
        return new JsonObject(NODE.admin("POST", "/admin/accounts/" + wallet.id() + "/credits", new JsonObject()
                .put("amount_usd", Money.toUsd(amount).toPlainString()).put("reason", "invariants")
                .put("idempotency_key", key), 201));
    }

    void burst(Random random, List<Wallet> targets, long seed, int step, String context, Map<Long, Long> before) {
        // a fitting burst asks for as much as the account holds and no more: admission must let all of it through
        boolean fitting = targets.size() == 1 && random.nextInt(3) == 0;
        int size = fitting ? 30 : 1 + random.nextInt(30);
        NODE.upstream().reset().requireApiKey(UPSTREAM_KEY);
        List<Call> calls = new ArrayList<>();
        int smallestCap = MAX_OUTPUT_TOKENS;
        long plannedWorst = 0;
        for (int i = 0; i < size; i++) {
            Wallet wallet = targets.get(random.nextInt(targets.size()));
            String marker = "probe-" + seed + "-" + step + "-" + i;
            JsonObject body = new JsonObject().put("model", CorouterNode.FAKE_MODEL)
                    .put("messages", new JsonArray().add(new JsonObject().put("role", "user")
                            .put("content", marker + " " + "x".repeat(random.nextInt(200)))));
            int cap = MAX_OUTPUT_TOKENS;
            switch (random.nextInt(5)) {
                case 0 -> { }
                case 1 -> {
                    int asked = 1 + random.nextInt(MAX_OUTPUT_TOKENS);
                    body.put("max_completion_tokens", asked);
                    cap = Math.min(cap, asked);
                }
                case 2 -> {
                    int asked = 1 + random.nextInt(MAX_OUTPUT_TOKENS);
                    int other = 1 + random.nextInt(MAX_OUTPUT_TOKENS);
                    body.put("max_tokens", asked).put("max_completion_tokens", other);
                    cap = Math.min(cap, Math.min(asked, other));
                }
                default -> {
                    int asked = 1 + random.nextInt(random.nextBoolean() ? 60 : MAX_OUTPUT_TOKENS);
                    body.put("max_tokens", asked);
                    cap = Math.min(cap, asked);
                }
            }
            boolean stream = random.nextBoolean();
            if (stream) {
                body.put("stream", true);
            }
            String raw = body.encode();
            long worst = Money.cost(raw.getBytes(StandardCharsets.UTF_8).length, PROMPT_NANOS_PER_MILLION, cap,
                    COMPLETION_NANOS_PER_MILLION);
            if (fitting && plannedWorst + worst > before.get(wallet.id())) {
                break;
            }
            plannedWorst += worst;
            smallestCap = Math.min(smallestCap, cap);
            calls.add(new Call(wallet, marker, raw, stream, worst));
        }
        if (calls.isEmpty()) {
            return;
        }
        List<Behaviour> behaviours = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            behaviours.add(behaviour(random, smallestCap));
        }
        NODE.upstream().enqueue(behaviours.toArray(Behaviour[]::new));
        List<CompletableFuture<Answered>> sent = calls.stream()
                .map(call -> post(call.wallet(), call.body()).thenApply(response -> new Answered(call, response)))
                .toList();
        List<Answered> answers;
        try {
            answers = CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
                    .orTimeout(60, TimeUnit.SECONDS)
                    .thenApply(v -> sent.stream().map(CompletableFuture::join).toList())
                    .join();
        } catch (CompletionException e) {
            throw new AssertionError(context + ": a request got no HTTP answer: " + e.getCause(), e);
        }
        NODE.flushUsage();
        checkBurst(answers, targets, context + " " + behaviours, before);
    }

    /** A random upstream behaviour; completion tokens stay within every request's cap unless it over-reports. */
    static Behaviour behaviour(Random random, int smallestCap) {
        int roll = random.nextInt(100);
        Behaviour normal = Behaviour.normal().promptTokens(random.nextInt(30)).chunks(random.nextInt(6));
        if (roll < 35) {
            return normal;
        }
        if (roll < 50) {
            return normal.completionTokens(random.nextInt(smallestCap + 1));
        }
        if (roll < 60) {
            return Behaviour.error(500);
        }
        if (roll < 70) {
            return normal.malformedBody().malformedChunkAfter(1 + random.nextInt(3));
        }
        if (roll < 82) {
            return normal.omitUsage();
        }
        if (roll < 95) {
            return normal.chunks(6).intervalMs(random.nextInt(3)).resetAfter(1 + random.nextInt(5));
        }
        return normal.completionTokens(MAX_OUTPUT_TOKENS * 10);
    }

    static CompletableFuture<HttpResponse<String>> post(Wallet wallet, String body) {
        return CLIENT.sendAsync(HttpRequest.newBuilder(URI.create(NODE.baseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + wallet.account.key())
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    void checkBurst(List<Answered> answers, List<Wallet> targets, String context, Map<Long, Long> before) {
        Map<String, Row> rows = new HashMap<>();
        String[] ids = answers.stream().map(Answered::generationId).toArray(String[]::new);
        NODE.sql("""
                SELECT g.id, g.account_id, g.status, g.cost,
                       CASE WHEN EXISTS (SELECT 1 FROM ledger_transactions t
                                         WHERE t.id = g.charge_txn_id AND t.kind = 'charge'
                                           AND t.amount = (SELECT sum(o.cost) FROM generations o
                                                           WHERE o.charge_txn_id = t.id)
                                           AND -t.amount = (SELECT sum(e.amount) FROM ledger_entries e
                                                            WHERE e.txn_id = t.id AND e.book = 'customer'))
                            THEN g.cost ELSE 0 END::bigint AS debit
                FROM generations g WHERE g.id = ANY($1)""", (Object) ids)
                .forEach(row -> rows.put(row.getString("id"), row));

        List<String> upstreamBodies = NODE.upstream().requests().stream().map(RecordedRequest::rawBody).toList();
        Map<Long, Long> debited = new HashMap<>();
        Map<Long, Long> asked = new HashMap<>();
        Map<Long, Integer> refused = new HashMap<>();
        int forwarded = 0;
        for (Answered answer : answers) {
            Call call = answer.call();
            HttpResponse<String> response = answer.response();
            int status = response.statusCode();
            String what = context + ": request " + call.marker() + " answered " + status + " "
                    + abbreviate(response.body());
            statuses.merge(status, 1, Integer::sum);
            assertThat(status).as(what).isIn(200, 402, 502, 503);
            Row row = rows.get(answer.generationId());
            long seen = upstreamBodies.stream().filter(b -> b.contains("\"" + call.marker() + " ")).count();
            if (status == 402) {
                assertThat(row).as(what + ": a refused request leaves no usage row").isNull();
                assertThat(seen).as(what + ": a refused request never reaches the upstream").isZero();
                refused.merge(call.wallet().id(), 1, Integer::sum);
                asked.merge(call.wallet().id(), call.worstCase(), Long::sum);
                continue;
            }
            assertThat(row).as(what + ": exactly one usage row").isNotNull();
            long debit = row.getLong("debit");
            assertThat(row.getLong("account_id")).as(what).isEqualTo(call.wallet().id());
            assertThat(debit).as(what + ": the ledger debit is the usage row's cost").isEqualTo(row.getLong("cost"));
            assertThat(debit).as(what + ": never more than the worst case reserved").isBetween(0L, call.worstCase());
            assertThat(seen).as(what + ": an admitted request reaches the upstream exactly once").isEqualTo(1);
            forwarded++;
            if (status == 200) {
                assertThat(reportedCost(call, response, what)).as(what + ": usage.cost is the ledger debit")
                        .isEqualByComparingTo(Money.toUsd(debit));
            } else {
                assertThat(debit).as(what + ": an error is free").isZero();
            }
            debited.merge(call.wallet().id(), debit, Long::sum);
            asked.merge(call.wallet().id(), call.worstCase(), Long::sum);
        }
        assertThat(NODE.upstream().requestCount()).as(context + ": upstream calls = admitted requests")
                .isEqualTo(forwarded);
        for (Wallet wallet : targets) {
            long start = before.get(wallet.id());
            long spent = debited.getOrDefault(wallet.id(), 0L);
            long wanted = asked.getOrDefault(wallet.id(), 0L);
            assertThat(NODE.balance(wallet.id())).as(context + ": account " + wallet.id()
                    + " lost exactly what its requests were charged").isEqualTo(start - spent);
            // A burst the balance covers is served in full, unless an earlier over-asking burst left the empty-account
            // back-off running. This holds on a node with several event loops because they share one credit book:
            // credit stranded in one loop's book would break it.
            if (!wallet.overAsked && wanted > 0 && wanted <= start) {
                affordableBursts++;
                assertThat(refused.getOrDefault(wallet.id(), 0)).as(context + ": account " + wallet.id()
                        + " held " + start + " for worst cases totalling " + wanted + ", yet requests were refused")
                        .isZero();
            }
            if (wanted > start) {
                wallet.overAsked = true;
            }
        }
    }

    /** The usage.cost a 200 reported: the body's usage, or a stream's usage chunk or error event. */
    static BigDecimal reportedCost(Call call, HttpResponse<String> response, String what) {
        if (!call.stream()) {
            return new BigDecimal(new JsonObject(response.body()).getJsonObject("usage").getValue("cost").toString());
        }
        assertThat(response.body()).as(what).endsWith("data: [DONE]\n\n");
        JsonObject usage = null;
        boolean failed = false;
        for (String block : response.body().split("\n\n")) {
            if (block.startsWith("data: ") && !block.equals("data: [DONE]")) {
                JsonObject event = new JsonObject(block.substring(6));
                failed |= event.containsKey("error");
                if (event.getValue("usage") instanceof JsonObject u) {
                    usage = u;
                }
            }
        }
        if (usage == null) {
            assertThat(failed).as(what + ": a stream that ended well reports its usage").isTrue();
            return BigDecimal.ZERO;
        }
        return new BigDecimal(usage.getValue("cost").toString());
    }

    static void assertInvariants(Wallet wallet, String context) {
        NODE.assertLedgerBalances();
        Row row = NODE.sql("""
                SELECT w.balance, w.leased,
                       (SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE account_id = w.account_id)::bigint,
                       (SELECT coalesce(sum(amount), 0) FROM ledger_transactions
                        WHERE account_id = w.account_id AND kind = 'charge')::bigint,
                       (SELECT coalesce(sum(cost), 0) FROM generations WHERE account_id = w.account_id)::bigint,
                       (SELECT coalesce(sum(amount), 0) FROM ledger_transactions
                        WHERE account_id = w.account_id AND kind = 'grant')::bigint,
                       (SELECT coalesce(sum(amount), 0) FROM leases WHERE account_id = w.account_id)::bigint
                FROM wallets w WHERE w.account_id = $1""", wallet.id()).iterator().next();
        long balance = row.getLong(0);
        long leased = row.getLong(1);
        String what = context + ", account " + wallet.id();
        assertThat(balance).as(what + ": balance = Σ of its entries").isEqualTo(row.getLong(2));
        assertThat(leased).as(what + ": 0 <= leased <= balance").isBetween(0L, balance);
        assertThat(row.getLong(3)).as(what + ": Σ charges = Σ generations.cost").isEqualTo(row.getLong(4));
        assertThat(balance).as(what + ": balance = Σ grants - Σ charges").isEqualTo(row.getLong(5) - row.getLong(3));
        assertThat(leased).as(what + ": leased = Σ of the node's lease rows").isEqualTo(row.getLong(6));
    }

    static Map<Long, Long> balances(List<Wallet> wallets) {
        Map<Long, Long> balances = new HashMap<>();
        wallets.forEach(w -> balances.put(w.id(), NODE.balance(w.id())));
        return balances;
    }

    static String abbreviate(String body) {
        return body.length() <= 300 ? body : body.substring(0, 300) + "…";
    }
}
