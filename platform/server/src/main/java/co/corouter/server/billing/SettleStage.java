package co.corouter.server.billing;

import co.corouter.plugin.api.Usage;
import co.corouter.server.billing.LeaseBook.Reservation;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.ParsedChat;
import co.corouter.server.pipeline.Stage;
import co.corouter.server.routing.ModelCatalog;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * End stage "settle": decides what the request costs and returns the rest of its reservation. The rules
 * (OpenRouter's, see specs/openrouter-api.md §5):
 * <ul>
 *   <li>no provider was called → nothing;</li>
 *   <li>a streaming request whose client left → the prompt plus the completion tokens actually produced (the upstream
 *       was stopped at once);</li>
 *   <li>a non-streaming request whose client left → billed in full: the call ran to its end, as the upstream bills it;</li>
 *   <li>an upstream failure (error, timeout, cut-off stream) with zero completion tokens → nothing (zero-completion
 *       insurance); with some → the prompt plus what was delivered;</li>
 *   <li>never more than the model could have produced: completion tokens are capped at the request's cap, and the
 *       charge at the reservation (a proven upper bound).</li>
 * </ul>
 * The price is the endpoint's that served (after a fallback, not the first one tried).
 * The charge itself is written by metering with the usage row, in one transaction ({@link BillingContract.UsageCharges}).
 */
public final class SettleStage implements Stage {

    private static final Logger log = LoggerFactory.getLogger(SettleStage.class);

    private final CreditBook credits;
    private final KeyLimitBook limits;

    public SettleStage(CreditBook credits, KeyLimitBook limits) {
        this.credits = credits;
        this.limits = limits;
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        Reservation reservation = exchange.get(AdmitStage.RESERVATION);
        long charged = 0;
        if (reservation != null) {
            charged = Math.min(cost(exchange), reservation.amount());
            credits.settle(reservation, charged);
            exchange.charged(charged);
        }
        Reservation hold = exchange.get(LimitsStage.HOLD);
        if (hold != null) {
            // the same worst case as the credit reservation, so charged never exceeds it
            limits.settle(hold, Math.min(charged, hold.amount()));
        }
        return DONE;
    }

    private static long cost(Exchange exchange) {
        Usage usage = exchange.usage();
        if (!exchange.providerCalled() || usage == null) {
            return 0;
        }
        ParsedChat chat = exchange.chat();
        ModelCatalog.Endpoint served = exchange.served().endpoint();
        boolean streamCancelled = exchange.clientGone() && chat.stream();
        if (exchange.failure() != null && !streamCancelled && usage.completionTokens() == 0) {
            return 0;
        }
        int cap = chat.maxTokensFor(served);
        if (usage.completionTokens() > cap) {
            log.warn("[{}] the provider reported {} completion tokens for a cap of {}; charged the cap",
                    exchange.id(), usage.completionTokens(), cap);
            usage = new Usage(usage.promptTokens(), cap, usage.cachedTokens(), Math.min(usage.reasoningTokens(), cap),
                    usage.estimated(), usage.cacheWriteTokens());
            exchange.usage(usage);
        }
        long cost = served.cost(usage);
        Reservation reservation = exchange.get(AdmitStage.RESERVATION);
        if (cost > reservation.amount()) {
            log.warn("[{}] usage cost {} exceeds the reservation {}; charged the reservation", exchange.id(), cost,
                    reservation.amount());
        }
        return cost;
    }
}
