package co.corouter.server.billing;

import co.corouter.server.accounts.AccountsContract.KeyLimit;
import co.corouter.server.accounts.AccountsContract.LimitReset;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Stage;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage "limits": a key's spend limit (OpenRouter's {@code limit} / {@code limit_reset}), with the same no-overdraft
 * guarantee as the balance. Before the provider is called, the request's worst case (the one {@link AdmitStage}
 * reserves) is held against the key's period in PostgreSQL; {@link SettleStage} settles the hold to the actual cost
 * when the request ends, whatever happened (a refusal, a failure and a client gone release it; cancelled and
 * estimated usage are settled like any other). A key whose period cannot cover the hold is refused with 402,
 * {@code metadata.limit_source = "key"}, before anything is reserved or called. A key without a limit costs one null
 * check: no query, no allocation.
 *
 * <p><b>Why one conditional statement per request, not a lease per node.</b> A request of a limited key costs two
 * statements (hold, settle) that lock its period row ({@link KeyLimitRepository}); the row lock orders every request
 * of every node, so the limit is exact across nodes with no lease protocol and no credit stranded on a node that
 * holds a slice of a small limit while another node refuses. Limited keys are the exception (budgets handed to a team
 * or an app), and their requests already wait for an upstream that takes hundreds of milliseconds; a sub-millisecond
 * indexed upsert is noise beside it. Each hold is a row owned by its node and renewed by the node's heartbeat
 * ({@link KeyHolds}); a node that dies between hold and settle stops renewing, and the sweep gives its holds back to
 * the period after the lease TTL, exactly once. A per-node lease of the key's period, as {@link CreditBook} does for
 * balances, is the upgrade path should one hot key ever need more than one row can take.
 *
 * <p><b>Periods</b> are UTC: a day from 00:00, a week from Monday 00:00 (as OpenRouter), a month from the 1st; a key
 * without {@code limit_reset} has one period for its whole life. The hold names the period it was taken in and is
 * settled into it, so a request that straddles the boundary counts where it began, and the previous period's spend no
 * longer counts once the clock passes the boundary.
 */
public final class LimitsStage implements Stage {

    private static final Logger log = LoggerFactory.getLogger(LimitsStage.class);
    /** The period of a key whose limit never resets. */
    static final OffsetDateTime FOREVER = Instant.EPOCH.atOffset(ZoneOffset.UTC);

    /** A request's hold on its key's period; {@link SettleStage} settles it. */
    record KeyHold(long keyId, OffsetDateTime periodStart, long amount) {
    }

    static final Exchange.Key<KeyHold> HOLD = new Exchange.Key<>("billing.key-hold");

    private final KeyHolds limits;
    private final Clock clock;

    public LimitsStage(KeyHolds limits, Clock clock) {
        this.limits = limits;
        this.clock = clock;
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        KeyLimit limit = exchange.principal().limit();
        if (limit == null) {
            return DONE;
        }
        long worstCase = AdmitStage.worstCase(exchange);
        if (worstCase == 0) {
            return DONE;
        }
        long keyId = exchange.principal().keyId();
        OffsetDateTime period = periodStart(limit.reset(), clock.instant());
        return limits.hold(exchange.id(), keyId, period, worstCase, limit.amount()).recover(failure -> {
            log.error("[{}] holding the limit of key {} failed: {}", exchange.id(), keyId, failure.toString());
            return Future.failedFuture(new ApiException(ErrorCodes.UNAVAILABLE,
                    "billing is unavailable; try again shortly"));
        }).compose(held -> {
            if (!held) {
                return Future.failedFuture(limitReached());
            }
            exchange.put(HOLD, new KeyHold(keyId, period, worstCase));
            return DONE;
        });
    }

    /** The start of the UTC period that {@code now} falls in. */
    public static OffsetDateTime periodStart(LimitReset reset, Instant now) {
        OffsetDateTime day = now.atOffset(ZoneOffset.UTC).truncatedTo(ChronoUnit.DAYS);
        return switch (reset) {
            case DAILY -> day;
            case WEEKLY -> day.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
            case MONTHLY -> day.withDayOfMonth(1);
            case NEVER -> FOREVER;
        };
    }

    static ApiException limitReached() {
        return new ApiException(ErrorCodes.INSUFFICIENT_CREDIT,
                "this API key's spend limit is reached for the current period: raise the key's limit or lower "
                        + "max_tokens", new JsonObject().put("limit_source", "key"));
    }
}
