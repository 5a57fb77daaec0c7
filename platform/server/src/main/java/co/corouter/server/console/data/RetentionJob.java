package co.corouter.server.console.data;

import co.corouter.server.config.ServerOptions.RetentionOptions;
import co.corouter.server.metering.UsageRepository;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The privacy policy's retention (§5), every {@code retention.interval_minutes}: usage rows ({@code generations}, with
 * their attempts, which are a column of the row) older than {@code retention.usage_days} and sign-in history older
 * than {@code retention.login_days} are deleted, {@value #BATCH} rows per statement, one statement in flight, so the
 * database never holds a long lock and no event loop waits. The daily usage rollup ({@code usage_daily}) is a billing
 * aggregate (no personal data, ids only) and is kept, as the ledger is; the ledger's per-charge reconciliation with the
 * usage rows therefore holds within the retention window. Every node runs it; the deletes are idempotent.
 */
public final class RetentionJob extends VerticleBase {

    private static final Logger log = LoggerFactory.getLogger(RetentionJob.class);
    static final int BATCH = 5_000;

    /** What one run deleted. */
    public record Purged(long generations, long loginEvents) {
    }

    private final RetentionOptions options;
    private final BiFunction<OffsetDateTime, Integer, Future<Integer>> purgeUsage;
    private final BiFunction<OffsetDateTime, Integer, Future<Integer>> purgeLogins;
    private final Clock clock;
    private long timer = -1;
    private volatile Future<Purged> running;

    public RetentionJob(RetentionOptions options, UsageRepository usage, io.vertx.sqlclient.Pool pool, Clock clock) {
        this.options = options;
        this.purgeUsage = usage::purgeBefore;
        PrivacyRepository people = new PrivacyRepository(pool);
        this.purgeLogins = people::purgeLogins;
        this.clock = clock;
    }

    @Override
    public Future<?> start() {
        timer = vertx.setPeriodic(TimeUnit.MINUTES.toMillis(options.intervalMinutes()), id -> runNow()
                .onSuccess(p -> {
                    if (p.generations() + p.loginEvents() > 0) {
                        log.info("retention: deleted {} usage rows and {} sign-in events", p.generations(),
                                p.loginEvents());
                    }
                })
                .onFailure(e -> log.error("retention purge failed, retrying next time: {}", e.toString())));
        return Future.succeededFuture();
    }

    @Override
    public Future<?> stop() {
        vertx.cancelTimer(timer);
        return running == null ? Future.succeededFuture() : running.otherwiseEmpty();
    }

    /** Runs the purge now (or joins the run in progress). */
    public Future<Purged> runNow() {
        if (running != null && !running.isComplete()) {
            return running;
        }
        OffsetDateTime now = OffsetDateTime.now(clock.withZone(ZoneOffset.UTC));
        running = drain(purgeUsage, now.minusDays(options.usageDays()), 0)
                .compose(usage -> drain(purgeLogins, now.minusDays(options.loginDays()), 0)
                        .map(logins -> new Purged(usage, logins)));
        return running;
    }

    private static Future<Long> drain(BiFunction<OffsetDateTime, Integer, Future<Integer>> purge,
            OffsetDateTime cutoff, long sofar) {
        return purge.apply(cutoff, BATCH).compose(deleted -> deleted < BATCH ? Future.succeededFuture(sofar + deleted)
                : drain(purge, cutoff, sofar + deleted));
    }
}
