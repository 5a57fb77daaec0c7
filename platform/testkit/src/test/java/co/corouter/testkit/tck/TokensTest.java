package co.corouter.testkit.tck;

import co.corouter.plugin.api.TokenCounter;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TokensTest {

    private final TokenCounter tokens = Tokens.counter();

    @Test
    void countsO200kTokensNotCharacters() {
        assertThat(tokens.count("")).isZero();
        assertThat(tokens.count(" hello")).isEqualTo(1);
        assertThat(tokens.count(" hello".repeat(40))).isEqualTo(40);
        assertThat(tokens.count(new StringBuilder(" hello hello"))).as("any CharSequence").isEqualTo(2);
    }

    @Test
    void countsSpecialTokenTextAsOrdinaryTextInsteadOfFailing() {
        assertThat(tokens.count("<|endoftext|>")).isGreaterThan(1);
    }
}
