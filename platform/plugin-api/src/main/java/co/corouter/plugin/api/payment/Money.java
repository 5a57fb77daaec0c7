package co.corouter.plugin.api.payment;

import java.util.Objects;

/**
 * An amount of money as a processor charges it: whole minor units of an ISO 4217 currency (cents for USD and EUR).
 * Never a {@code double}. The host converts to its own nano-dollar credits from its order record, not from this.
 *
 * @param minorUnits the amount in minor units, e.g. {@code 1000} for $10.00; may be negative only for adjustments
 * @param currency   the ISO 4217 code, upper case, e.g. {@code "USD"}
 * @since 1.5.0
 */
public record Money(long minorUnits, String currency) {

    public Money {
        Objects.requireNonNull(currency, "currency");
        if (!currency.matches("[A-Z]{3}")) {
            throw new IllegalArgumentException("currency must be an upper-case ISO 4217 code, got '" + currency + "'");
        }
    }

    /** {@code minorUnits} of {@code currency}, which is upper-cased first (processors differ in case). */
    public static Money of(long minorUnits, String currency) {
        return new Money(minorUnits, currency == null ? null : currency.toUpperCase(java.util.Locale.ROOT));
    }

    /** This amount times {@code factor}, failing on overflow rather than wrapping. */
    public Money times(long factor) {
        return new Money(Math.multiplyExact(minorUnits, factor), currency);
    }

    @Override
    public String toString() {
        return minorUnits + " " + currency;
    }
}
