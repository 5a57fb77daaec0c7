package co.corouter.server.metering;

import co.corouter.server.common.Timestamps;
import co.corouter.server.accounts.AccountsContract;
import co.corouter.server.billing.BillingContract;
import co.corouter.server.metering.MeteringContract.UsageRecord;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Usage rows (metadata of requests that reached a provider, never content) in PostgreSQL: the {@code generations}
 * table and its daily rollup {@code usage_daily}, which only metering writes. A batch is one transaction: billing's
 * charge statement ({@link BillingContract.UsageCharges}), then — pipelined on the connection — ONE insert of the rows,
 * each naming the charge transaction that collected its cost, ONE upsert of the batch's per (account, key, model, UTC
 * day) sums into {@code usage_daily}, and the keys' last use ({@link AccountsContract.KeyUse}). The generation id is the
 * idempotency key of the row, of its share of the charge and of the rollup: a batch retried after an unknown outcome
 * first drops the rows already written.
 */
public final class UsageRepository implements MeteringContract.UsageQueries {

    static final String INSERT_ROWS = """
            INSERT INTO generations (id, account_id, api_key_id, model, provider, upstream_model, streamed, status,
                                     error_code, finish_reason, prompt_tokens, completion_tokens, cached_tokens,
                                     reasoning_tokens, usage_estimated, cancelled, cost, latency_ms, created_at,
                                     charge_txn_id, provider_responses, cache_write_tokens, api)
            SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                                 $7::bool[], $8::int[], $9::text[], $10::text[], $11::int[], $12::int[],
                                 $13::int[], $14::int[], $15::bool[], $16::bool[], $17::bigint[], $18::int[],
                                 $19::timestamptz[], $20::bigint[], $21::text[], $22::int[], $23::text[])""";

    /** A usage row whose charge cannot be applied (see {@link #recordUncollected}): kept, at cost 0. */
    static final String RECORD_UNCOLLECTED = """
            INSERT INTO generations (id, account_id, api_key_id, model, provider, upstream_model, streamed, status,
                                     error_code, finish_reason, prompt_tokens, completion_tokens, cached_tokens,
                                     reasoning_tokens, usage_estimated, cancelled, cost, latency_ms, created_at,
                                     cache_write_tokens, api)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'charge_failed', $9, $10, $11, $12, $13, $14, $15, 0, $16, $17,
                    $18, $19)
            ON CONFLICT (id) DO NOTHING""";

    /** Rows are added in primary-key order, so two nodes' batches touching the same rows cannot deadlock. */
    static final String ADD_DAILY = """
            INSERT INTO usage_daily (account_id, day, api_key_id, model, requests, prompt_tokens, completion_tokens, cost)
            SELECT * FROM unnest($1::bigint[], $2::date[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[],
                                 $7::bigint[], $8::bigint[])
            ON CONFLICT (account_id, day, api_key_id, model) DO UPDATE SET
                requests = usage_daily.requests + EXCLUDED.requests,
                prompt_tokens = usage_daily.prompt_tokens + EXCLUDED.prompt_tokens,
                completion_tokens = usage_daily.completion_tokens + EXCLUDED.completion_tokens,
                cost = usage_daily.cost + EXCLUDED.cost""";

    private final Pool pool;
    private final BillingContract.UsageCharges charges;
    private final BillingContract.KeySpends keySpends;
    private final AccountsContract.KeyUse keyUse;

    public UsageRepository(Pool pool, BillingContract.UsageCharges charges, BillingContract.KeySpends keySpends,
            AccountsContract.KeyUse keyUse) {
        this.pool = pool;
        this.charges = charges;
        this.keySpends = keySpends;
        this.keyUse = keyUse;
    }

    /**
     * What a committed batch wrote: the rows (those already written by an earlier try left out) and, per account it
     * charged, the balance the charge left (nano-dollars).
     */
    public record Settled(List<UsageRecord> written, Map<Long, Long> balances) {

        static final Settled NOTHING = new Settled(List.of(), Map.of());
    }

    /**
     * Writes a batch of usage rows, their charges and their rollup atomically. {@code maybeWritten}: the batch (or part
     * of it) may already be in the database (a retry after an unknown outcome); those rows are skipped, charges and
     * rollup included.
     */
    public Future<Settled> settleBatch(List<UsageRecord> batch, String nodeId, boolean maybeWritten) {
        return pool.withTransaction(conn -> fresh(conn, batch, maybeWritten).compose(rows -> {
            if (rows.isEmpty()) {
                return Future.succeededFuture(Settled.NOTHING);
            }
            return charges.collect(conn, nodeId, chargesOf(rows)).compose(collected -> keySpends
                    .spend(conn, nodeId, keySpendsOf(rows)).map(collected)).compose(collected -> {
                Map<Long, Long> transactions = new HashMap<>();
                Map<Long, Long> balances = new HashMap<>();
                collected.forEach((account, c) -> {
                    transactions.put(account, c.transactionId());
                    balances.put(account, c.balance());
                });
                return Future.all(conn.preparedQuery(INSERT_ROWS).execute(rowParams(rows, transactions)),
                                addDaily(conn, rows), keyUse.markUsed(conn, lastUsed(rows)))
                        .map(v -> new Settled(rows, balances));
            });
        }));
    }

    /** The day of a usage row: its UTC date. */
    private record Day(long accountId, LocalDate day, long keyId, String model) implements Comparable<Day> {

        private static final Comparator<Day> ORDER = Comparator.comparingLong(Day::accountId)
                .thenComparing(Day::day).thenComparingLong(Day::keyId).thenComparing(Day::model);

        @Override
        public int compareTo(Day other) {
            return ORDER.compare(this, other);
        }
    }

    /** The batch's sums per (account, UTC day, key, model), added to usage_daily in one statement. */
    private static Future<?> addDaily(SqlConnection conn, List<UsageRecord> rows) {
        TreeMap<Day, long[]> sums = new TreeMap<>();
        for (UsageRecord r : rows) {
            LocalDate day = Instant.ofEpochMilli(r.createdAtMillis()).atOffset(ZoneOffset.UTC).toLocalDate();
            long[] sum = sums.computeIfAbsent(new Day(r.accountId(), day, r.apiKeyId(), r.model()), d -> new long[4]);
            sum[0]++;
            sum[1] += r.promptTokens();
            sum[2] += r.completionTokens();
            sum[3] = Math.addExact(sum[3], r.cost());
        }
        int n = sums.size();
        Long[] account = new Long[n];
        LocalDate[] day = new LocalDate[n];
        Long[] key = new Long[n];
        String[] model = new String[n];
        Long[] requests = new Long[n];
        Long[] prompt = new Long[n];
        Long[] completion = new Long[n];
        Long[] cost = new Long[n];
        int i = 0;
        for (Map.Entry<Day, long[]> e : sums.entrySet()) {
            account[i] = e.getKey().accountId();
            day[i] = e.getKey().day();
            key[i] = e.getKey().keyId();
            model[i] = e.getKey().model();
            requests[i] = e.getValue()[0];
            prompt[i] = e.getValue()[1];
            completion[i] = e.getValue()[2];
            cost[i] = e.getValue()[3];
            i++;
        }
        return conn.preparedQuery(ADD_DAILY)
                .execute(Tuple.tuple(List.of(account, day, key, model, requests, prompt, completion, cost)));
    }

    private static SortedMap<Long, Long> lastUsed(List<UsageRecord> rows) {
        SortedMap<Long, Long> last = new TreeMap<>();
        for (UsageRecord r : rows) {
            last.merge(r.apiKeyId(), r.createdAtMillis(), Math::max);
        }
        return last;
    }

    private static Future<List<UsageRecord>> fresh(SqlConnection conn, List<UsageRecord> batch, boolean maybeWritten) {
        if (!maybeWritten) {
            return Future.succeededFuture(batch);
        }
        String[] ids = batch.stream().map(UsageRecord::generationId).toArray(String[]::new);
        return conn.preparedQuery("SELECT id FROM generations WHERE id = ANY($1::text[])").execute(Tuple.of(ids))
                .map(rows -> {
                    Set<String> written = new HashSet<>();
                    rows.forEach(row -> written.add(row.getString(0)));
                    return batch.stream().filter(r -> !written.contains(r.generationId())).toList();
                });
    }

    /** Per account, the sum of its priced rows; the first such row's id keys the charge (a retry cannot repeat it). */
    /** The batch's charges of limited keys, per key and period, in lock order. */
    static List<BillingContract.KeySpend> keySpendsOf(List<UsageRecord> rows) {
        TreeMap<Long, TreeMap<OffsetDateTime, Long>> sums = new TreeMap<>();
        for (UsageRecord r : rows) {
            if (r.cost() > 0 && r.limitPeriod() != null) {
                sums.computeIfAbsent(r.apiKeyId(), key -> new TreeMap<>()).merge(r.limitPeriod(), r.cost(),
                        Math::addExact);
            }
        }
        List<BillingContract.KeySpend> spends = new ArrayList<>();
        sums.forEach((key, periods) -> periods.forEach((start, amount) ->
                spends.add(new BillingContract.KeySpend(key, start, amount))));
        return spends;
    }

    static List<BillingContract.UsageCharge> chargesOf(List<UsageRecord> rows) {
        Map<Long, long[]> totals = new TreeMap<>();
        Map<Long, String> firstIds = new HashMap<>();
        for (UsageRecord r : rows) {
            if (r.cost() <= 0) {
                continue;
            }
            long[] total = totals.computeIfAbsent(r.accountId(), id -> new long[2]);
            total[0] = Math.addExact(total[0], r.cost());
            total[1]++;
            firstIds.merge(r.accountId(), r.generationId(), (a, b) -> a.compareTo(b) <= 0 ? a : b);
        }
        List<BillingContract.UsageCharge> charges = new ArrayList<>(totals.size());
        totals.forEach((account, total) -> charges.add(new BillingContract.UsageCharge(account, total[0],
                (int) total[1], "usage:" + firstIds.get(account))));
        return charges;
    }

    private static Tuple rowParams(List<UsageRecord> batch, Map<Long, Long> chargeTransactions) {
        int n = batch.size();
        String[] id = new String[n];
        Long[] account = new Long[n];
        Long[] key = new Long[n];
        String[] model = new String[n];
        String[] provider = new String[n];
        String[] upstream = new String[n];
        Boolean[] streamed = new Boolean[n];
        Integer[] status = new Integer[n];
        String[] error = new String[n];
        String[] finish = new String[n];
        Integer[] prompt = new Integer[n];
        Integer[] completion = new Integer[n];
        Integer[] cached = new Integer[n];
        Integer[] reasoning = new Integer[n];
        Boolean[] estimated = new Boolean[n];
        Boolean[] cancelled = new Boolean[n];
        Long[] cost = new Long[n];
        Integer[] latency = new Integer[n];
        OffsetDateTime[] created = new OffsetDateTime[n];
        Long[] charge = new Long[n];
        String[] attempts = new String[n];
        Integer[] written = new Integer[n];
        String[] api = new String[n];
        for (int i = 0; i < n; i++) {
            UsageRecord r = batch.get(i);
            id[i] = r.generationId();
            account[i] = r.accountId();
            key[i] = r.apiKeyId();
            model[i] = r.model();
            provider[i] = r.provider();
            upstream[i] = r.upstreamModel();
            streamed[i] = r.streamed();
            status[i] = r.status();
            error[i] = r.errorCode();
            finish[i] = r.finishReason();
            prompt[i] = r.promptTokens();
            completion[i] = r.completionTokens();
            cached[i] = r.cachedTokens();
            reasoning[i] = r.reasoningTokens();
            estimated[i] = r.usageEstimated();
            cancelled[i] = r.cancelled();
            cost[i] = r.cost();
            latency[i] = r.latencyMillis();
            created[i] = OffsetDateTime.ofInstant(Instant.ofEpochMilli(r.createdAtMillis()), ZoneOffset.UTC);
            charge[i] = r.cost() > 0 ? chargeTransactions.get(r.accountId()) : null;
            attempts[i] = r.providerResponses();
            written[i] = r.cacheWriteTokens();
            api[i] = r.api();
        }
        return Tuple.tuple(List.of(id, account, key, model, provider, upstream, streamed, status, error, finish,
                prompt, completion, cached, reasoning, estimated, cancelled, cost, latency, created, charge, attempts,
                written, api));
    }

    /**
     * Keeps the metadata of a request whose charge the ledger refused (only possible after this node lost its
     * lease while cut off from the database): the row is written at cost 0 with error_code 'charge_failed', so it
     * is visible to the operator and never blocks the rows behind it.
     */
    public Future<Void> recordUncollected(UsageRecord r) {
        UsageRecord free = new UsageRecord(r.generationId(), r.accountId(), r.apiKeyId(), r.model(), r.provider(),
                r.upstreamModel(), r.streamed(), r.status(), "charge_failed", r.finishReason(), r.promptTokens(),
                r.completionTokens(), r.cachedTokens(), r.cacheWriteTokens(), r.reasoningTokens(), r.usageEstimated(),
                r.cancelled(), 0, r.latencyMillis(), r.createdAtMillis(), r.providerResponses(), r.api(), null);
        Tuple params = Tuple.tuple().addValue(r.generationId()).addValue(r.accountId()).addValue(r.apiKeyId())
                .addValue(r.model()).addValue(r.provider()).addValue(r.upstreamModel()).addValue(r.streamed())
                .addValue(r.status()).addValue(r.finishReason()).addValue(r.promptTokens())
                .addValue(r.completionTokens()).addValue(r.cachedTokens()).addValue(r.reasoningTokens())
                .addValue(r.usageEstimated()).addValue(r.cancelled()).addValue(r.latencyMillis())
                .addValue(OffsetDateTime.ofInstant(Instant.ofEpochMilli(r.createdAtMillis()), ZoneOffset.UTC))
                .addValue(r.cacheWriteTokens()).addValue(r.api());
        return pool.withTransaction(conn -> conn.preparedQuery(RECORD_UNCOLLECTED).execute(params)
                .compose(inserted -> inserted.rowCount() == 0 ? Future.succeededFuture()
                        : Future.all(addDaily(conn, List.of(free)), keyUse.markUsed(conn, lastUsed(List.of(free))))))
                .mapEmpty();
    }

    /**
     * Deletes up to {@code limit} usage rows created before {@code cutoff} (the retention window); returns how many.
     * Their sums stay in usage_daily.
     */
    public Future<Integer> purgeBefore(OffsetDateTime cutoff, int limit) {
        return pool.preparedQuery("""
                        DELETE FROM generations WHERE id IN (
                            SELECT id FROM generations WHERE created_at < $1 ORDER BY created_at LIMIT $2)""")
                .execute(Tuple.of(cutoff, limit))
                .map(RowSet::rowCount);
    }

    /** One generation of one account (404 semantics: null when absent or someone else's). */
    @Override
    public Future<JsonObject> generation(String id, long accountId) {
        return pool.preparedQuery("SELECT * FROM generations WHERE id = $1 AND account_id = $2")
                .execute(Tuple.of(id, accountId))
                .map(rows -> rows.size() == 0 ? null : toJson(rows.iterator().next()));
    }

    @Override
    public Future<JsonArray> generations(long accountId, int limit) {
        return pool.preparedQuery("SELECT * FROM generations WHERE account_id = $1 ORDER BY created_at DESC, id LIMIT $2")
                .execute(Tuple.of(accountId, limit))
                .map(rows -> {
                    JsonArray list = new JsonArray();
                    rows.forEach(row -> list.add(toJson(row)));
                    return list;
                });
    }

    /** Spend of one key from usage_daily: total, and for the UTC day, ISO week and month of {@code today}. */
    @Override
    public Future<JsonObject> keyUsage(long apiKeyId, LocalDate today) {
        LocalDate monday = today.with(java.time.temporal.TemporalAdjusters.previousOrSame(java.time.DayOfWeek.MONDAY));
        return pool.preparedQuery("""
                        SELECT coalesce(sum(cost), 0)::bigint,
                               coalesce(sum(cost) FILTER (WHERE day = $2), 0)::bigint,
                               coalesce(sum(cost) FILTER (WHERE day >= $3 AND day <= $2), 0)::bigint,
                               coalesce(sum(cost) FILTER (WHERE day >= $4 AND day <= $2), 0)::bigint
                        FROM usage_daily WHERE api_key_id = $1""")
                .execute(Tuple.of(apiKeyId, today, monday, today.withDayOfMonth(1)))
                .map(rows -> {
                    Row row = rows.iterator().next();
                    return new JsonObject().put("total", row.getLong(0)).put("daily", row.getLong(1))
                            .put("weekly", row.getLong(2)).put("monthly", row.getLong(3));
                });
    }

    private static JsonObject toJson(Row row) {
        return new JsonObject()
                .put("id", row.getString("id"))
                .put("account_id", row.getLong("account_id"))
                .put("api_key_id", row.getLong("api_key_id"))
                .put("model", row.getString("model"))
                .put("provider", row.getString("provider"))
                .put("upstream_model", row.getString("upstream_model"))
                .put("streamed", row.getBoolean("streamed"))
                .put("status", row.getInteger("status"))
                .put("error_code", row.getString("error_code"))
                .put("finish_reason", row.getString("finish_reason"))
                .put("prompt_tokens", row.getInteger("prompt_tokens"))
                .put("completion_tokens", row.getInteger("completion_tokens"))
                .put("cached_tokens", row.getInteger("cached_tokens"))
                .put("cache_write_tokens", row.getInteger("cache_write_tokens"))
                .put("api", row.getString("api"))
                .put("reasoning_tokens", row.getInteger("reasoning_tokens"))
                .put("usage_estimated", row.getBoolean("usage_estimated"))
                .put("cancelled", row.getBoolean("cancelled"))
                .put("cost", row.getLong("cost"))
                .put("latency_ms", row.getInteger("latency_ms"))
                .put("created_at", Timestamps.iso(row.getOffsetDateTime("created_at")))
                .put("provider_responses", row.getString("provider_responses"));
    }
}
