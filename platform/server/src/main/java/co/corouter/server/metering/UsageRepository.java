package co.corouter.server.metering;

import co.corouter.server.billing.BillingContract;
import co.corouter.server.metering.MeteringContract.UsageRecord;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

/**
 * Usage rows and their ledger charges. A batch is ONE statement (one round trip, one commit): it inserts the
 * usage rows, one charge transaction with two balanced entries per account in the batch (the sum of that account's
 * costs; each usage row names it in {@code charge_txn_id}), debits the wallets and shrinks the node's leases. The
 * generation id is the idempotency key, so a retried batch never charges twice.
 */
public final class UsageRepository {

    static final String SETTLE_BATCH = """
            WITH input AS (
                SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                                     $7::bool[], $8::int[], $9::text[], $10::text[], $11::int[], $12::int[],
                                     $13::int[], $14::int[], $15::bool[], $16::bool[], $17::bigint[], $18::int[],
                                     $19::timestamptz[])
                    AS t(id, account_id, api_key_id, model, provider, upstream_model, streamed, status, error_code,
                         finish_reason, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens,
                         usage_estimated, cancelled, cost, latency_ms, created_at)
            ), fresh AS (
                -- a batch retried after an unknown outcome skips the rows already written: the generation id is the
                -- idempotency key of the usage row AND of its share of the charge
                SELECT i.* FROM input i WHERE NOT EXISTS (SELECT 1 FROM generations g WHERE g.id = i.id)
            ), per_account AS (
                SELECT account_id, sum(cost)::bigint AS total, count(*) AS requests, min(id) AS first_id
                FROM fresh WHERE cost > 0 GROUP BY account_id
            ), charge AS (
                INSERT INTO ledger_transactions (idempotency_key, kind, account_id, amount, reason)
                SELECT 'usage:' || first_id, 'charge', account_id, total, 'usage of ' || requests || ' requests'
                FROM per_account
                RETURNING id, account_id, amount
            ), usage AS (
                INSERT INTO generations (id, account_id, api_key_id, model, provider, upstream_model, streamed, status,
                                         error_code, finish_reason, prompt_tokens, completion_tokens, cached_tokens,
                                         reasoning_tokens, usage_estimated, cancelled, cost, latency_ms, created_at,
                                         charge_txn_id)
                SELECT f.*, CASE WHEN f.cost > 0 THEN c.id END
                FROM fresh f LEFT JOIN charge c ON c.account_id = f.account_id
            ), entries AS (
                INSERT INTO ledger_entries (txn_id, book, account_id, amount)
                SELECT id, 'customer', account_id, -amount FROM charge
                UNION ALL
                SELECT id, 'revenue', NULL, amount FROM charge
            ), held AS (
                -- a charge leaves this node's lease; never take more than this node's row holds (a node whose lease
                -- was swept must not eat into another node's lease)
                SELECT l.account_id, LEAST(l.amount, c.amount) AS cut
                FROM leases l JOIN charge c ON c.account_id = l.account_id
                WHERE l.node_id = $20
                FOR UPDATE OF l
            ), wallet AS (
                UPDATE wallets w SET balance = w.balance - c.amount, leased = w.leased - coalesce(h.cut, 0)
                FROM charge c LEFT JOIN held h ON h.account_id = c.account_id
                WHERE w.account_id = c.account_id
            )
            UPDATE leases l SET amount = l.amount - h.cut FROM held h
            WHERE l.node_id = $20 AND l.account_id = h.account_id""";

    /** A usage row whose charge cannot be applied (see {@link #recordUncollected}): kept, at cost 0. */
    static final String RECORD_UNCOLLECTED = """
            INSERT INTO generations (id, account_id, api_key_id, model, provider, upstream_model, streamed, status,
                                     error_code, finish_reason, prompt_tokens, completion_tokens, cached_tokens,
                                     reasoning_tokens, usage_estimated, cancelled, cost, latency_ms, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'charge_failed', $9, $10, $11, $12, $13, $14, $15, 0, $16, $17)
            ON CONFLICT (id) DO NOTHING""";

    private final Pool pool;

    public UsageRepository(Pool pool) {
        this.pool = pool;
    }

    /** Writes a batch of usage rows and their charges atomically. */
    public Future<Void> settleBatch(List<UsageRecord> batch, String nodeId) {
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
        }
        Tuple params = Tuple.tuple(List.of(id, account, key, model, provider, upstream, streamed, status, error, finish,
                prompt, completion, cached, reasoning, estimated, cancelled, cost, latency, created, nodeId));
        Long[] charged = batch.stream().filter(r -> r.cost() > 0).map(UsageRecord::accountId).distinct().sorted()
                .toArray(Long[]::new);
        return pool.withTransaction(conn -> conn.preparedQuery(BillingContract.LOCK_WALLETS)
                .execute(Tuple.of(charged))
                .compose(locked -> conn.preparedQuery(SETTLE_BATCH).execute(params))).mapEmpty();
    }

    /**
     * Keeps the metadata of a request whose charge the ledger refused (only possible after this node lost its
     * lease while cut off from the database): the row is written at cost 0 with error_code 'charge_failed', so it
     * is visible to the operator and never blocks the rows behind it.
     */
    public Future<Void> recordUncollected(UsageRecord r) {
        Tuple params = Tuple.tuple().addValue(r.generationId()).addValue(r.accountId()).addValue(r.apiKeyId())
                .addValue(r.model()).addValue(r.provider()).addValue(r.upstreamModel()).addValue(r.streamed())
                .addValue(r.status()).addValue(r.finishReason()).addValue(r.promptTokens())
                .addValue(r.completionTokens()).addValue(r.cachedTokens()).addValue(r.reasoningTokens())
                .addValue(r.usageEstimated()).addValue(r.cancelled()).addValue(r.latencyMillis())
                .addValue(OffsetDateTime.ofInstant(Instant.ofEpochMilli(r.createdAtMillis()), ZoneOffset.UTC));
        return pool.preparedQuery(RECORD_UNCOLLECTED).execute(params).mapEmpty();
    }

    /** One generation of one account (404 semantics: null when absent or someone else's). */
    public Future<JsonObject> generation(String id, long accountId) {
        return pool.preparedQuery("SELECT * FROM generations WHERE id = $1 AND account_id = $2")
                .execute(Tuple.of(id, accountId))
                .map(rows -> rows.size() == 0 ? null : toJson(rows.iterator().next()));
    }

    public Future<JsonArray> generations(long accountId, int limit) {
        return pool.preparedQuery("SELECT * FROM generations WHERE account_id = $1 ORDER BY created_at DESC, id LIMIT $2")
                .execute(Tuple.of(accountId, limit))
                .map(rows -> {
                    JsonArray list = new JsonArray();
                    rows.forEach(row -> list.add(toJson(row)));
                    return list;
                });
    }

    /** Spend of one key: total, and over the current UTC day, week and month (nano-dollars). */
    public Future<JsonObject> keyUsage(long apiKeyId) {
        return pool.preparedQuery("""
                        SELECT coalesce(sum(cost), 0)::bigint,
                               coalesce(sum(cost) FILTER (WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'), 0)::bigint,
                               coalesce(sum(cost) FILTER (WHERE created_at >= date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'), 0)::bigint,
                               coalesce(sum(cost) FILTER (WHERE created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'), 0)::bigint
                        FROM generations WHERE api_key_id = $1""")
                .execute(Tuple.of(apiKeyId))
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
                .put("reasoning_tokens", row.getInteger("reasoning_tokens"))
                .put("usage_estimated", row.getBoolean("usage_estimated"))
                .put("cancelled", row.getBoolean("cancelled"))
                .put("cost", row.getLong("cost"))
                .put("latency_ms", row.getInteger("latency_ms"))
                .put("created_at", row.getOffsetDateTime("created_at").toString());
    }
}
