package co.corouter.server.common;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/**
 * Money is a {@code long} count of nano-dollars (1e-9 USD): exact, overflow-checked, never a {@code double}.
 * {@code Long.MAX_VALUE} nano-dollars is about 9.2 billion USD.
 */
public final class Money {

    public static final int SCALE = 9;
    public static final long NANOS_PER_USD = 1_000_000_000L;
    private static final BigInteger MILLION = BigInteger.valueOf(1_000_000);
    private static final java.util.regex.Pattern PLAIN_DECIMAL =
            java.util.regex.Pattern.compile("[+-]?[0-9]{1,19}(\\.[0-9]{1,19})?");

    private Money() {
    }

    /**
     * Parses a plain decimal USD amount ("10.00", "-0.5", "0.000015") exactly; more than 9 decimals, an exponent, or an
     * amount beyond the nano-dollar range is an error. The message quotes the input only as printable text, cut short
     * (it may come from a hostile client).
     */
    public static long parseUsd(String usd, String what) {
        String text = usd == null ? "" : usd.trim();
        if (!PLAIN_DECIMAL.matcher(text).matches()) {
            throw new IllegalArgumentException(what + " must be a decimal USD amount with at most 9 decimals, was '"
                    + printable(usd) + "'");
        }
        try {
            BigDecimal value = new BigDecimal(text);
            return value.movePointRight(SCALE).setScale(0, RoundingMode.UNNECESSARY).longValueExact();
        } catch (ArithmeticException | NumberFormatException | NullPointerException e) {
            throw new IllegalArgumentException(what + " must be a decimal USD amount with at most 9 decimals, was '"
                    + printable(usd) + "'");
        }
    }

    private static String printable(String value) {
        if (value == null) {
            return "";
        }
        String cut = value.length() > 40 ? value.substring(0, 40) + "..." : value;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }

    /** Exact decimal USD of a nano-dollar amount, without trailing zeros (for JSON numbers and strings). */
    public static BigDecimal toUsd(long nanos) {
        BigDecimal value = BigDecimal.valueOf(nanos, SCALE).stripTrailingZeros();
        return value.scale() < 0 ? value.setScale(0) : value;
    }

    /** Decimal USD with all nine decimals ({@code "12.345000000"}): the console API's money strings. */
    public static String toUsdText(long nanos) {
        return BigDecimal.valueOf(nanos, SCALE).toPlainString();
    }

    /**
     * Cost of several kinds of tokens, each at its price per million ({@code tokens0, price0, tokens1, price1, ...}),
     * summed exactly and rounded once (half up) to a whole nano-dollar.
     */
    public static long costOf(long... tokensAndNanosPerMillion) {
        if (tokensAndNanosPerMillion.length % 2 != 0) {
            throw new IllegalArgumentException("tokens and prices come in pairs");
        }
        long fast = 0;
        boolean fits = true;
        for (int i = 0; i < tokensAndNanosPerMillion.length && fits; i += 2) {
            long tokens = tokensAndNanosPerMillion[i];
            long price = tokensAndNanosPerMillion[i + 1];
            long product = tokens * price;
            fits = Math.multiplyHigh(tokens, price) == 0 && product >= 0 && fast + product >= 0;
            fast += product;
        }
        if (fits) {
            long whole = fast / 1_000_000L;
            return fast % 1_000_000L >= 500_000L ? whole + 1 : whole;
        }
        BigInteger total = BigInteger.ZERO;
        for (int i = 0; i < tokensAndNanosPerMillion.length; i += 2) {
            total = total.add(BigInteger.valueOf(tokensAndNanosPerMillion[i])
                    .multiply(BigInteger.valueOf(tokensAndNanosPerMillion[i + 1])));
        }
        BigInteger[] qr = total.divideAndRemainder(MILLION);
        BigInteger rounded = qr[1].shiftLeft(1).compareTo(MILLION) >= 0 ? qr[0].add(BigInteger.ONE) : qr[0];
        return rounded.longValueExact();
    }

    /**
     * Cost of {@code tokens} at {@code nanosPerMillionTokens}, rounded once (half up) to a whole nano-dollar.
     */
    public static long cost(long promptTokens, long promptNanosPerMillion, long completionTokens,
            long completionNanosPerMillion) {
        long ph = Math.multiplyHigh(promptTokens, promptNanosPerMillion);
        long ch = Math.multiplyHigh(completionTokens, completionNanosPerMillion);
        long p = promptTokens * promptNanosPerMillion;
        long c = completionTokens * completionNanosPerMillion;
        if (ph == 0 && ch == 0 && p >= 0 && c >= 0 && p + c >= 0) {
            long total = p + c;
            long whole = total / 1_000_000L;
            return total % 1_000_000L >= 500_000L ? whole + 1 : whole;
        }
        BigInteger total = BigInteger.valueOf(promptTokens).multiply(BigInteger.valueOf(promptNanosPerMillion))
                .add(BigInteger.valueOf(completionTokens).multiply(BigInteger.valueOf(completionNanosPerMillion)));
        BigInteger[] qr = total.divideAndRemainder(MILLION);
        BigInteger rounded = qr[1].shiftLeft(1).compareTo(MILLION) >= 0 ? qr[0].add(BigInteger.ONE) : qr[0];
        return rounded.longValueExact();
    }

    /** Price per token in USD as a plain decimal string, as OpenRouter's /models shows it. */
    public static String perTokenUsd(long nanosPerMillion) {
        BigDecimal perToken = BigDecimal.valueOf(nanosPerMillion, SCALE).movePointLeft(6).stripTrailingZeros();
        return perToken.signum() == 0 ? "0" : perToken.toPlainString();
    }
}
