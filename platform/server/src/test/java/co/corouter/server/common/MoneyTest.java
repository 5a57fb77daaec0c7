package co.corouter.server.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MoneyTest {

    private static final BigInteger MILLION = BigInteger.valueOf(1_000_000);

    @Test
    void parseUsdReadsDecimalAmountsExactlyAsNanoDollars() {
        assertThat(Money.parseUsd("10.00", "x")).isEqualTo(10_000_000_000L);
        assertThat(Money.parseUsd("0.000015", "x")).isEqualTo(15_000L);
        assertThat(Money.parseUsd("0.000000001", "x")).isEqualTo(1L);
        assertThat(Money.parseUsd("0.1", "x")).isEqualTo(100_000_000L);
        assertThat(Money.parseUsd(" 2.5 ", "x")).isEqualTo(2_500_000_000L);
        assertThat(Money.parseUsd("0", "x")).isZero();
        assertThat(Money.parseUsd("-1.25", "x")).isEqualTo(-1_250_000_000L);
        assertThat(Money.parseUsd("9223372036.854775807", "x")).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void parseUsdAcceptsZerosBeyondTheNinthDecimalBecauseTheValueIsStillExact() {
        assertThat(Money.parseUsd("0.0000000010", "x")).isEqualTo(1L);
        assertThat(Money.parseUsd("3.000000000000", "x")).isEqualTo(3_000_000_000L);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0000000001", "1.0000000005", "0.1234567891"})
    void parseUsdRefusesAmountsFinerThanANanoDollar(String amount) {
        assertThatThrownBy(() -> Money.parseUsd(amount, "billing.lease_slice_usd"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("billing.lease_slice_usd")
                .hasMessageContaining("at most 9 decimals")
                .hasMessageContaining(amount);
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "", "  ", "1,00", "$1", "1.0.0", "NaN", "Infinity", "0x10", "9223372036.854775808",
            "-9223372036.854775809", "1e30"})
    void parseUsdRefusesGarbageAndOverflowWithAMessageNamingTheSetting(String amount) {
        assertThatThrownBy(() -> Money.parseUsd(amount, "pricing.prompt_per_million"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pricing.prompt_per_million")
                .hasMessageContaining("'" + amount + "'");
    }

    @Test
    void parseUsdRefusesNullWithAnIllegalArgumentNotANullPointer() {
        assertThatThrownBy(() -> Money.parseUsd(null, "credit"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("credit");
    }

    @Test
    void toUsdIsTheExactDecimalWithoutTrailingZerosOrANegativeScale() {
        assertThat(Money.toUsd(0).toPlainString()).isEqualTo("0");
        assertThat(Money.toUsd(1).toPlainString()).isEqualTo("0.000000001");
        assertThat(Money.toUsd(1).scale()).isEqualTo(9);
        assertThat(Money.toUsd(1_500_000_000L).toPlainString()).isEqualTo("1.5");
        assertThat(Money.toUsd(26_500L).toString()).isEqualTo("0.0000265");
        assertThat(Money.toUsd(-250_000_000L).toString()).isEqualTo("-0.25");
        assertThat(Money.toUsd(Long.MAX_VALUE).toString()).isEqualTo("9223372036.854775807");
        assertThat(Money.toUsd(Long.MIN_VALUE).toString()).isEqualTo("-9223372036.854775808");
    }

    @Test
    void toUsdOfWholeDollarsHasScaleZeroSoItNeverPrintsAsAPowerOfTen() {
        assertThat(Money.toUsd(10_000_000_000L).toString()).isEqualTo("10");
        assertThat(Money.toUsd(10_000_000_000L).scale()).isZero();
        assertThat(Money.toUsd(1_000_000_000_000L).toString()).isEqualTo("1000");
        assertThat(Money.toUsd(-20_000_000_000L).toString()).isEqualTo("-20");
    }

    @Test
    void toUsdAndParseUsdRoundTripEveryAmount() {
        Random random = new Random(20260101L);
        for (int i = 0; i < 20_000; i++) {
            long nanos = switch (i % 3) {
                case 0 -> random.nextLong();
                case 1 -> random.nextInt(1_000_000) * 1_000L;
                default -> random.nextLong() % 100_000_000_000L;
            };
            BigDecimal usd = Money.toUsd(nanos);
            assertThat(usd.scale()).as("scale of %s", usd).isBetween(0, Money.SCALE);
            assertThat(usd.toPlainString()).doesNotContain("E");
            boolean trailingZero = usd.scale() > 0 && usd.unscaledValue().mod(BigInteger.TEN).signum() == 0;
            assertThat(trailingZero).as("%s has a trailing zero", usd).isFalse();
            assertThat(Money.parseUsd(usd.toPlainString(), "x")).as("round trip of %d", nanos).isEqualTo(nanos);
        }
    }

    @Test
    void costRoundsHalfUpToAWholeNanoDollar() {
        assertThat(Money.cost(1, 499_999, 0, 0)).isZero();
        assertThat(Money.cost(1, 500_000, 0, 0)).isEqualTo(1);
        assertThat(Money.cost(3, 500_000, 0, 0)).isEqualTo(2);
        assertThat(Money.cost(0, 0, 1, 1_499_999)).isEqualTo(1);
        assertThat(Money.cost(0, 0, 1, 1_500_000)).isEqualTo(2);
        assertThat(Money.cost(1_000_000, 500_000_000, 1_000_000, 1_500_000_000)).isEqualTo(2_000_000_000L);
        assertThat(Money.cost(0, 500_000_000, 0, 1_500_000_000)).isZero();
    }

    @Test
    void costRoundsTheSumOnceInsteadOfRoundingEachPart() {
        // each part alone is 0.4 nano-dollars (would round to 0), together 0.8 rounds to 1
        assertThat(Money.cost(1, 400_000, 1, 400_000)).isEqualTo(1);
        // each part alone is 0.6 (would round to 1 each: 2), together 1.2 rounds to 1
        assertThat(Money.cost(1, 600_000, 1, 600_000)).isEqualTo(1);
        // 12 prompt tokens at $0.50/M and 7 completion tokens at $1.50/M = 6000 + 10500 nano-dollars
        assertThat(Money.cost(12, 500_000_000, 7, 1_500_000_000)).isEqualTo(16_500);
    }

    @Test
    void costTakesTheExactPathWhenTheSumOverflowsALongButTheResultFits() {
        assertThat(Money.cost(Long.MAX_VALUE, 1, 1, 1)).isEqualTo(reference(Long.MAX_VALUE, 1, 1, 1).longValueExact())
                .isEqualTo(9_223_372_036_855L);
        assertThat(Money.cost(4_000_000_000L, 4_000_000_000L, 1, 1))
                .isEqualTo(16_000_000_000_000L);
        assertThat(Money.cost(Long.MAX_VALUE, 1, 0, 0)).isEqualTo(9_223_372_036_855L);
    }

    @Test
    void costRefusesAResultThatDoesNotFitInsteadOfWrappingAround() {
        assertThatThrownBy(() -> Money.cost(Long.MAX_VALUE, Long.MAX_VALUE, 0, 0))
                .isInstanceOf(ArithmeticException.class);
        assertThatThrownBy(() -> Money.cost(1L << 40, 1L << 50, 1L << 40, 1L << 50))
                .isInstanceOf(ArithmeticException.class);
    }

    @Test
    void costAgreesWithAnExactDecimalReferenceOnBothTheLongAndTheBigIntegerPath() {
        Random random = new Random(0xC0_20_7E_12L);
        int fastPath = 0;
        int exactPath = 0;
        int overflow = 0;
        for (int i = 0; i < 200_000; i++) {
            long pt = magnitude(random, i);
            long pp = magnitude(random, i + 1);
            long ct = magnitude(random, i + 2);
            long cp = magnitude(random, i + 3);
            BigInteger expected = reference(pt, pp, ct, cp);
            if (fitsInLongWithoutOverflow(pt, pp, ct, cp)) {
                fastPath++;
            } else {
                exactPath++;
            }
            if (expected.bitLength() > 63) {
                overflow++;
                assertThatThrownBy(() -> Money.cost(pt, pp, ct, cp)).as("cost(%d,%d,%d,%d)", pt, pp, ct, cp)
                        .isInstanceOf(ArithmeticException.class);
            } else {
                assertThat(Money.cost(pt, pp, ct, cp)).as("cost(%d,%d,%d,%d)", pt, pp, ct, cp)
                        .isEqualTo(expected.longValueExact());
            }
        }
        // the property is only worth something if both code paths (and the overflow refusal) were exercised
        assertThat(fastPath).isGreaterThan(20_000);
        assertThat(exactPath - overflow).isGreaterThan(5_000);
        assertThat(overflow).isGreaterThan(1_000);
    }

    @Test
    void costAgreesWithTheReferenceRightAtTheBoundaryBetweenThePaths() {
        Random random = new Random(7L);
        for (int i = 0; i < 50_000; i++) {
            // p + c lands within a few million of Long.MAX_VALUE, on either side
            long p = Long.MAX_VALUE / 2 + random.nextInt(4_000_000) - 2_000_000;
            long c = Long.MAX_VALUE / 2 + random.nextInt(4_000_000) - 2_000_000;
            assertThat(Money.cost(p, 1, c, 1)).as("cost(%d,1,%d,1)", p, c)
                    .isEqualTo(reference(p, 1, c, 1).longValueExact());
            assertThat(Money.cost(1, p, 1, c)).isEqualTo(reference(1, p, 1, c).longValueExact());
        }
    }

    @Test
    void perTokenUsdShowsThePricePerSingleTokenAsAPlainString() {
        assertThat(Money.perTokenUsd(500_000_000L)).isEqualTo("0.0000005");
        assertThat(Money.perTokenUsd(1_500_000_000L)).isEqualTo("0.0000015");
        assertThat(Money.perTokenUsd(15_000_000_000L)).isEqualTo("0.000015");
        assertThat(Money.perTokenUsd(1L)).isEqualTo("0.000000000000001");
        assertThat(Money.perTokenUsd(0L)).isEqualTo("0");
        assertThat(Money.perTokenUsd(1_000_000_000_000_000L)).isEqualTo("1");
        assertThat(Money.perTokenUsd(10_000_000_000_000_000L)).isEqualTo("10");
    }

    @Test
    void perTokenUsdTimesAMillionIsThePriceThatWasConfigured() {
        Random random = new Random(99L);
        for (int i = 0; i < 10_000; i++) {
            long nanosPerMillion = Math.abs(random.nextLong() % 1_000_000_000_000_000L);
            String perToken = Money.perTokenUsd(nanosPerMillion);
            assertThat(perToken).doesNotContain("E");
            assertThat(new BigDecimal(perToken).movePointRight(6))
                    .isEqualByComparingTo(BigDecimal.valueOf(nanosPerMillion, Money.SCALE));
        }
    }

    /** Exact cost with decimal arithmetic, rounded half up once: what {@link Money#cost} must equal. */
    private static BigInteger reference(long pt, long pp, long ct, long cp) {
        BigDecimal total = BigDecimal.valueOf(pt).multiply(BigDecimal.valueOf(pp))
                .add(BigDecimal.valueOf(ct).multiply(BigDecimal.valueOf(cp)));
        return total.divide(new BigDecimal(MILLION), 0, RoundingMode.HALF_UP).toBigIntegerExact();
    }

    private static boolean fitsInLongWithoutOverflow(long pt, long pp, long ct, long cp) {
        BigInteger total = BigInteger.valueOf(pt).multiply(BigInteger.valueOf(pp))
                .add(BigInteger.valueOf(ct).multiply(BigInteger.valueOf(cp)));
        return total.bitLength() <= 63 && BigInteger.valueOf(pt).multiply(BigInteger.valueOf(pp)).bitLength() <= 63
                && BigInteger.valueOf(ct).multiply(BigInteger.valueOf(cp)).bitLength() <= 63;
    }

    /** Non-negative values of very different sizes, so products range from tiny to far beyond 2^63. */
    private static long magnitude(Random random, int i) {
        return switch (Math.floorMod(i * 31 + random.nextInt(7), 7)) {
            case 0 -> random.nextInt(10);
            case 1 -> random.nextInt(1_000_000);
            case 2 -> random.nextLong() >>> 34;
            case 3 -> random.nextLong() >>> 24;
            case 4 -> random.nextLong() >>> 4;
            case 5 -> Long.MAX_VALUE - random.nextInt(1000);
            default -> random.nextInt(2_000_000_000);
        };
    }

    @Test
    void costOfSumsEveryTokenClassExactlyAndRoundsOnce() {
        // 1 token at each of three prices of 0.4 nano-USD per token: 1.2 rounds to 1, where rounding each would give 0
        assertThat(Money.costOf(1, 400_000, 1, 400_000, 1, 400_000)).isEqualTo(1L);
        // 1000 plain at $3, 2000 cache reads at $0.30, 500 cache writes at $3.75, 100 completion at $15 per million
        assertThat(Money.costOf(1_000, 3_000_000_000L, 2_000, 300_000_000L, 500, 3_750_000_000L, 100,
                15_000_000_000L)).isEqualTo(3_000_000L + 600_000L + 1_875_000L + 1_500_000L);
        assertThat(Money.costOf()).isZero();
    }

    @Test
    void costOfFallsBackToExactArithmeticWhenProductsOverflow() {
        long tokens = 4_000_000_000L;
        long price = 9_000_000_000_000L; // $9000 per million: the product is past a long
        BigInteger expected = BigInteger.valueOf(tokens).multiply(BigInteger.valueOf(price)).multiply(BigInteger.TWO)
                .add(BigInteger.valueOf(500_000)).divide(MILLION);
        assertThat(Money.costOf(tokens, price, tokens, price)).isEqualTo(expected.longValueExact());
        assertThat(Money.costOf(3, 1_000_000, 2, 1_000_000)).isEqualTo(Money.cost(3, 1_000_000, 2, 1_000_000));
    }

    @Test
    void costOfTakesPairs() {
        assertThatThrownBy(() -> Money.costOf(1, 2, 3)).isInstanceOf(IllegalArgumentException.class);
    }
}
