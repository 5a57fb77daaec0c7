package co.corouter.server.bench;

import co.corouter.server.metering.MeteringContract;
import co.corouter.server.metering.UsageReports;
import co.corouter.server.storage.Database;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The console's queries at scale (scripts/bench/console-scale.sh): an embedded PostgreSQL with one account holding
 * 1,000,000 generations over 366 days (10 keys, 5 models) and the matching usage_daily rows, then the dashboard, the
 * activity (30 days by model, 366 days by key) and generations pages timed client-side through the real
 * {@link UsageReports}, median and worst of {@value #RUNS} runs after a warm-up. Targets: aggregates under 200 ms,
 * first page under 100 ms.
 */
public final class ConsoleScaleBench {

    static final int RUNS = 20;

    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        Path dir = Files.createTempDirectory("corouter-console-scale");
        Database database = Database.embedded(dir);
        Vertx vertx = Vertx.vertx();
        Pool pool = database.pool(vertx, 4);
        try {
            long account = seed(pool, rows);
            UsageReports reports = new UsageReports(pool);
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            MeteringContract.GenerationFilter none = new MeteringContract.GenerationFilter(null, null, null);
            long key = await(pool.preparedQuery("SELECT min(id) FROM api_keys WHERE account_id = $1")
                    .execute(Tuple.of(account))).iterator().next().getLong(0);
            System.out.printf("%-44s %10s %10s%n", "query (" + rows + " generations)", "median ms", "max ms");
            time("dashboard", () -> reports.dashboard(account, today));
            time("activity 30 days by model", () -> reports.activity(account, today.minusDays(29), today,
                    MeteringContract.Grouping.MODEL));
            time("activity 366 days by key", () -> reports.activity(account, today.minusDays(365), today,
                    MeteringContract.Grouping.KEY));
            time("activity 366 days, no grouping", () -> reports.activity(account, today.minusDays(365), today,
                    MeteringContract.Grouping.NONE));
            time("key totals (keys page)", () -> reports.keyTotals(account));
            time("billing: usage per day, 51 days", () -> reports.dailyCosts(account, null, 51));
            time("generations first page (50)", () -> reports.generations(account, none, null, null, 51));
            var first = await(reports.generations(account, none, null, null, 51));
            var last = first.get(49);
            var at = java.time.OffsetDateTime.parse(last.getString("created_at"));
            time("generations second page (cursor)", () -> reports.generations(account, none, at,
                    last.getString("id"), 51));
            time("generations first page, model filter", () -> reports.generations(account,
                    new MeteringContract.GenerationFilter("bench/model-3", null, null), null, null, 51));
            time("generations first page, key filter", () -> reports.generations(account,
                    new MeteringContract.GenerationFilter(null, key, null), null, null, 51));
            time("generations first page, status=error", () -> reports.generations(account,
                    new MeteringContract.GenerationFilter(null, null, false), null, null, 51));
            explain(pool, "EXPLAIN (ANALYZE, BUFFERS) SELECT day, api_key_id, sum(requests), sum(cost) FROM usage_daily "
                    + "WHERE account_id = " + account + " AND day BETWEEN current_date - 365 AND current_date "
                    + "GROUP BY day, api_key_id ORDER BY day, api_key_id");
            explain(pool, "EXPLAIN (ANALYZE, BUFFERS) SELECT id, created_at FROM generations WHERE account_id = "
                    + account + " ORDER BY created_at DESC, id DESC LIMIT 51");
        } finally {
            await(pool.close());
            await(vertx.close());
            database.close();
        }
    }

    static long seed(Pool pool, int rows) {
        long started = System.nanoTime();
        long account = await(pool.query("INSERT INTO accounts (name) VALUES ('bench') RETURNING id").execute())
                .iterator().next().getLong(0);
        await(pool.preparedQuery("""
                INSERT INTO api_keys (account_id, key_hash, display, label)
                SELECT $1, sha256(('bench-key-' || k)::bytea), 'sk-cr-v2-ben...' || k, 'key ' || k
                FROM generate_series(1, 10) k""").execute(Tuple.of(account)));
        // 366 days back from now, evenly spread; 2% errors
        await(pool.preparedQuery("""
                INSERT INTO generations (id, account_id, api_key_id, model, provider, upstream_model, streamed, status,
                                         prompt_tokens, completion_tokens, cost, latency_ms, created_at, api)
                SELECT 'gen-' || lpad(to_hex(g), 25, '0'), $1,
                       (SELECT min(id) FROM api_keys WHERE account_id = $1) + g % 10,
                       'bench/model-' || (g / 10) % 5, 'mock', 'mock', g % 3 = 0, CASE WHEN g % 50 = 0 THEN 502 ELSE 200 END,
                       100 + g % 400, 20 + g % 300, 1000 + g % 5000, 50 + g % 900,
                       now() - (g * (366 * 86400.0 / $2)) * interval '1 second', 'chat'
                FROM generate_series(1, $2) g""").execute(Tuple.of(account, rows)));
        await(pool.preparedQuery("""
                INSERT INTO usage_daily (account_id, api_key_id, model, day, requests, prompt_tokens, completion_tokens,
                                         cost)
                SELECT account_id, api_key_id, model, (created_at AT TIME ZONE 'UTC')::date, count(*),
                       sum(prompt_tokens), sum(completion_tokens), sum(cost)
                FROM generations WHERE account_id = $1 GROUP BY 1, 2, 3, 4""").execute(Tuple.of(account)));
        await(pool.query("VACUUM ANALYZE generations").execute());
        await(pool.query("VACUUM ANALYZE usage_daily").execute());
        long daily = await(pool.query("SELECT count(*) FROM usage_daily").execute()).iterator().next().getLong(0);
        System.out.printf("seeded %d generations and %d usage_daily rows in %d s%n", rows, daily,
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
        return account;
    }

    static void time(String what, Supplier<Future<?>> query) {
        for (int i = 0; i < 3; i++) {
            await(query.get());
        }
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
            long start = System.nanoTime();
            await(query.get());
            millis.add((System.nanoTime() - start) / 1e6);
        }
        Collections.sort(millis);
        System.out.printf("%-44s %10.2f %10.2f%n", what, millis.get(RUNS / 2), millis.get(RUNS - 1));
    }

    static void explain(Pool pool, String sql) {
        System.out.println();
        System.out.println(sql);
        for (Row row : await(pool.query(sql).execute())) {
            System.out.println("  " + row.getString(0));
        }
    }

    static <T> T await(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
