package co.corouter.server.metering;

import co.corouter.server.common.Money;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The console's reads of usage: aggregates from {@code usage_daily} (never a scan of generations), and pages of
 * generations by keyset on (created_at, id), newest first. Every query is bounded by one account's index range.
 */
public final class UsageReports implements MeteringContract.ConsoleUsage {

    private final Pool pool;

    public UsageReports(Pool pool) {
        this.pool = pool;
    }

    @Override
    public Future<JsonObject> activity(long accountId, LocalDate from, LocalDate to, MeteringContract.Grouping group) {
        String by = switch (group) {
            case MODEL -> ", model";
            case KEY -> ", api_key_id";
            case NONE -> "";
        };
        return pool.preparedQuery("SELECT day" + by + ", sum(requests)::bigint, sum(prompt_tokens)::bigint, "
                        + "sum(completion_tokens)::bigint, sum(cost)::bigint FROM usage_daily "
                        + "WHERE account_id = $1 AND day BETWEEN $2 AND $3 GROUP BY day" + by + " ORDER BY day" + by)
                .execute(Tuple.of(accountId, from, to))
                .map(rows -> {
                    JsonArray data = new JsonArray();
                    long[] totals = new long[4];
                    for (Row row : rows) {
                        int at = 1;
                        JsonObject item = new JsonObject().put("date", row.getLocalDate(0).toString());
                        if (group == MeteringContract.Grouping.MODEL) {
                            item.put("model", row.getString(at++));
                        } else if (group == MeteringContract.Grouping.KEY) {
                            item.put("key_id", row.getLong(at++));
                        }
                        long requests = row.getLong(at);
                        long prompt = row.getLong(at + 1);
                        long completion = row.getLong(at + 2);
                        long cost = row.getLong(at + 3);
                        totals[0] += requests;
                        totals[1] += prompt;
                        totals[2] += completion;
                        totals[3] = Math.addExact(totals[3], cost);
                        data.add(item.put("requests", requests).put("prompt_tokens", prompt)
                                .put("completion_tokens", completion).put("usage_usd", Money.toUsdText(cost)));
                    }
                    return new JsonObject().put("data", data).put("totals", new JsonObject()
                            .put("requests", totals[0]).put("prompt_tokens", totals[1])
                            .put("completion_tokens", totals[2]).put("usage_usd", Money.toUsdText(totals[3])));
                });
    }

    @Override
    public Future<JsonObject> dashboard(long accountId, LocalDate today) {
        LocalDate monthStart = today.withDayOfMonth(1);
        LocalDate since = today.minusDays(29);
        Future<JsonObject> spend = pool.preparedQuery("""
                        SELECT coalesce(sum(cost) FILTER (WHERE day = $2), 0)::bigint,
                               coalesce(sum(requests) FILTER (WHERE day = $2), 0)::bigint,
                               coalesce(sum(cost) FILTER (WHERE day >= $3), 0)::bigint
                        FROM usage_daily WHERE account_id = $1 AND day >= $3 AND day <= $2""")
                .execute(Tuple.of(accountId, today, monthStart))
                .map(rows -> {
                    Row row = rows.iterator().next();
                    return new JsonObject().put("spend_today_usd", Money.toUsdText(row.getLong(0)))
                            .put("spend_month_usd", Money.toUsdText(row.getLong(2)))
                            .put("requests_today", row.getLong(1));
                });
        Future<JsonArray> byModel = pool.preparedQuery("""
                        SELECT day, model, sum(cost)::bigint FROM usage_daily
                        WHERE account_id = $1 AND day BETWEEN $2 AND $3
                        GROUP BY day, model ORDER BY day, model""")
                .execute(Tuple.of(accountId, since, today))
                .map(rows -> {
                    JsonArray list = new JsonArray();
                    rows.forEach(row -> list.add(new JsonObject().put("date", row.getLocalDate(0).toString())
                            .put("model", row.getString(1)).put("usage_usd", Money.toUsdText(row.getLong(2)))));
                    return list;
                });
        return Future.all(spend, byModel).map(v -> spend.result().put("by_model_30d", byModel.result()));
    }

    @Override
    public Future<Map<Long, long[]>> keyTotals(long accountId) {
        return pool.preparedQuery("""
                        SELECT api_key_id, sum(cost)::bigint, sum(requests)::bigint FROM usage_daily
                        WHERE account_id = $1 GROUP BY api_key_id""")
                .execute(Tuple.of(accountId))
                .map(rows -> {
                    Map<Long, long[]> totals = new HashMap<>();
                    rows.forEach(row -> totals.put(row.getLong(0), new long[] {row.getLong(1), row.getLong(2)}));
                    return totals;
                });
    }

    @Override
    public Future<List<MeteringContract.DayCost>> dailyCosts(long accountId, LocalDate upTo, int limit) {
        String sql = "SELECT day, sum(cost)::bigint, sum(requests)::bigint FROM usage_daily WHERE account_id = $1"
                + (upTo == null ? "" : " AND day <= $3")
                + " GROUP BY day HAVING sum(cost) > 0 ORDER BY day DESC LIMIT $2";
        Tuple params = upTo == null ? Tuple.of(accountId, limit) : Tuple.of(accountId, limit, upTo);
        return pool.preparedQuery(sql).execute(params).map(rows -> {
            List<MeteringContract.DayCost> days = new ArrayList<>(rows.rowCount());
            rows.forEach(row -> days.add(new MeteringContract.DayCost(row.getLocalDate(0), row.getLong(1),
                    row.getLong(2))));
            return days;
        });
    }

    @Override
    public Future<List<JsonObject>> generations(long accountId, MeteringContract.GenerationFilter filter,
            OffsetDateTime beforeAt, String beforeId, int limit) {
        // one statement per combination of filters, so every plan can use the account's index range
        StringBuilder sql = new StringBuilder("SELECT ").append(GenerationView.COLUMNS)
                .append(" FROM generations WHERE account_id = $1");
        List<Object> params = new ArrayList<>();
        params.add(accountId);
        if (beforeAt != null) {
            params.add(beforeAt);
            params.add(beforeId);
            sql.append(" AND created_at <= $2 AND (created_at, id) < ($2, $3)");
        }
        if (filter.model() != null) {
            params.add(filter.model());
            sql.append(" AND model = $").append(params.size());
        }
        if (filter.keyId() != null) {
            params.add(filter.keyId());
            sql.append(" AND api_key_id = $").append(params.size());
        }
        if (filter.ok() != null) {
            sql.append(filter.ok() ? " AND status < 400" : " AND status >= 400");
        }
        params.add(limit);
        sql.append(" ORDER BY created_at DESC, id DESC LIMIT $").append(params.size());
        return pool.preparedQuery(sql.toString()).execute(Tuple.from(params)).map(rows -> {
            List<JsonObject> page = new ArrayList<>(rows.rowCount());
            rows.forEach(row -> page.add(GenerationView.of(row)));
            return page;
        });
    }

    @Override
    public Future<JsonObject> generation(long accountId, String id) {
        return pool.preparedQuery("SELECT " + GenerationView.COLUMNS
                        + ", upstream_model, error_code, provider_responses FROM generations WHERE id = $1 AND account_id = $2")
                .execute(Tuple.of(id, accountId))
                .map(rows -> {
                    if (rows.size() == 0) {
                        return null;
                    }
                    Row row = rows.iterator().next();
                    JsonObject view = GenerationView.of(row).put("error_code", row.getString("error_code"));
                    String attempts = row.getString("provider_responses");
                    return view.put("provider_responses", attempts != null ? new JsonArray(attempts)
                            : new JsonArray().add(new JsonObject().put("model", row.getString("model"))
                                    .put("provider", row.getString("provider"))
                                    .put("status", row.getInteger("status"))
                                    .put("latency", row.getInteger("latency_ms"))));
                });
    }

    @Override
    public Future<Void> exportGenerations(long accountId, int pageSize, Function<JsonArray, Future<Void>> sink) {
        return exportFrom(accountId, null, null, pageSize, sink);
    }

    /** Pages oldest first by keyset; the next page is read once the sink took the previous one (back-pressure). */
    private Future<Void> exportFrom(long accountId, OffsetDateTime afterAt, String afterId, int pageSize,
            Function<JsonArray, Future<Void>> sink) {
        String sql = "SELECT " + GenerationView.COLUMNS + ", upstream_model, error_code, provider_responses "
                + "FROM generations WHERE account_id = $1"
                + (afterAt == null ? "" : " AND created_at >= $3 AND (created_at, id) > ($3, $4)")
                + " ORDER BY created_at, id LIMIT $2";
        Tuple params = afterAt == null ? Tuple.of(accountId, pageSize)
                : Tuple.of(accountId, pageSize, afterAt, afterId);
        return pool.preparedQuery(sql).execute(params).compose(rows -> {
            JsonArray page = new JsonArray();
            OffsetDateTime lastAt = null;
            String lastId = null;
            for (Row row : rows) {
                page.add(GenerationView.of(row).put("upstream_model", row.getString("upstream_model"))
                        .put("error_code", row.getString("error_code"))
                        .put("provider_responses", row.getString("provider_responses")));
                lastAt = row.getOffsetDateTime("created_at");
                lastId = row.getString("id");
            }
            if (page.isEmpty()) {
                return Future.succeededFuture();
            }
            OffsetDateTime nextAt = lastAt;
            String nextId = lastId;
            return sink.apply(page).compose(v -> page.size() < pageSize ? Future.succeededFuture()
                    : exportFrom(accountId, nextAt, nextId, pageSize, sink));
        });
    }
}
