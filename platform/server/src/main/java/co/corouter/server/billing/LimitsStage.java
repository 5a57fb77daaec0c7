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
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Stage "limits": a key's spend limit (OpenRouter's {@code limit} / {@code limit_reset}), with the same no-overdraft
 * guarantee as the balance, and the same mechanism ({@link KeyLimitBook}, a {@link LeaseBook}): before the provider is
 * called, the request's worst case (the one {@link AdmitStage} reserves) is held against the node's lease of the
 * key's period, in memory; {@link SettleStage} settles the hold to the actual cost when the request ends, whatever
 * happened (a refusal, a failure and a client gone release it; cancelled and estimated usage are settled like any
 * other), and the usage batch that bills the cost takes it out of the node's lease and adds it to the period's spend,
 * in the balance charge's transaction. A key whose period cannot cover the hold is refused with 402,
 * {@code metadata.limit_source = "key"}, before anything is reserved or called. A key without a limit costs one null
 * check: no query, no allocation.
 *
 * <p><b>Periods</b> are UTC: a day from 00:00, a week from Monday 00:00 (as OpenRouter), a month from the 1st; a key
 * without {@code limit_reset} has one period for its whole life. The hold names the period it was taken in and is
 * settled into it, so a request that straddles the boundary counts where it began, and the previous period's spend no
 * longer counts once the clock passes the boundary.
 */
public final class LimitsStage implements Stage {

    /** The period of a key whose limit never resets. */
    static final OffsetDateTime FOREVER = Instant.EPOCH.atOffset(ZoneOffset.UTC);

    /** A request's hold on its key's period; {@link SettleStage} settles it. */
    static final Exchange.Key<LeaseBook.Reservation> HOLD = new Exchange.Key<>("billing.key-hold");

    /** The period {@code start} that the instants from {@code fromMillis} until {@code untilMillis} fall in. */
    private record Window(long fromMillis, long untilMillis, OffsetDateTime start) {
    }

    private final KeyLimitBook limits;
    private final Clock clock;
    /** Per reset, the window of the last period computed: the date arithmetic runs once per period, not per request. */
    private final AtomicReferenceArray<Window> windows = new AtomicReferenceArray<>(LimitReset.values().length);

    public LimitsStage(KeyLimitBook limits, Clock clock) {
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
        KeyLimitBook.Period period = new KeyLimitBook.Period(exchange.principal().keyId(),
                currentPeriod(limit.reset(), clock.millis()));
        return limits.reserve(period, worstCase).map(hold -> {
            exchange.put(HOLD, hold);
            return null;
        });
    }

    /** The period whose limit the request's cost counts against, or null (its key has no limit, or it held none). */
    public static OffsetDateTime limitPeriod(Exchange exchange) {
        LeaseBook.Reservation hold = exchange.get(HOLD);
        return hold == null ? null : ((KeyLimitBook.Period) hold.holder()).start();
    }

    private OffsetDateTime currentPeriod(LimitReset reset, long nowMillis) {
        Window window = windows.get(reset.ordinal());
        if (window == null || nowMillis < window.fromMillis || nowMillis >= window.untilMillis) {
            OffsetDateTime start = periodStart(reset, Instant.ofEpochMilli(nowMillis));
            OffsetDateTime until = switch (reset) {
                case DAILY -> start.plusDays(1);
                case WEEKLY -> start.plusWeeks(1);
                case MONTHLY -> start.plusMonths(1);
                case NEVER -> OffsetDateTime.MAX;
            };
            window = new Window(start.toInstant().toEpochMilli(),
                    reset == LimitReset.NEVER ? Long.MAX_VALUE : until.toInstant().toEpochMilli(), start);
            windows.set(reset.ordinal(), window);
        }
        return window.start;
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
