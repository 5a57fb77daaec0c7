package co.corouter.server.billing;

import co.corouter.server.billing.LeaseBook.Reservation;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.ParsedChat;
import co.corouter.server.pipeline.Stage;
import co.corouter.server.routing.Router;
import io.vertx.core.Future;

/**
 * Stage "admit": reserves the request's worst case from the node's {@link CreditBook} — the body's byte count as an
 * upper bound of its prompt tokens plus the completion cap, at the prices of the most expensive endpoint that may
 * serve it (a fallback never costs more than was reserved). Insufficient credit is a 402 before any provider call.
 * Free requests (a zero worst case) reserve nothing.
 */
public final class AdmitStage implements Stage {

    /** The reservation {@link SettleStage} settles. */
    static final Exchange.Key<Reservation> RESERVATION = new Exchange.Key<>("billing.reservation");

    private final CreditBook credits;

    public AdmitStage(CreditBook credits) {
        this.credits = credits;
    }

    /** What the request may cost at most: its worst case at the priciest of its candidate endpoints. */
    static long worstCase(Exchange exchange) {
        ParsedChat chat = exchange.chat();
        long worstCase = 0;
        for (Router.Route route : exchange.routes()) {
            worstCase = Math.max(worstCase, route.endpoint().worstCase(chat.bodyBytes(),
                    chat.maxTokensFor(route.endpoint())));
        }
        return worstCase;
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        long worstCase = worstCase(exchange);
        if (worstCase == 0) {
            return DONE;
        }
        Future<Reservation> reserved = credits.reserve(exchange.principal().accountId(), worstCase);
        if (reserved.succeeded()) {
            exchange.put(RESERVATION, reserved.result());
            return DONE;
        }
        return reserved.map(reservation -> {
            exchange.put(RESERVATION, reservation);
            return null;
        });
    }
}
