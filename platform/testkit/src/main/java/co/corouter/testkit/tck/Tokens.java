package co.corouter.testkit.tck;

import co.corouter.plugin.api.TokenCounter;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;

/**
 * A real {@link TokenCounter} for tests, as a host would build one: jtokkit's {@code o200k_base} encoding (GPT-4o's).
 *
 * <pre>
 * new ProviderContext(vertx, "test", name -&gt; null, Tokens.counter());
 * assertThat(Tokens.counter().count(" hello")).isEqualTo(1);
 * </pre>
 */
public final class Tokens {

    private Tokens() {
    }

    /** Counts with {@code o200k_base}; special-token text such as {@code <|endoftext|>} counts as ordinary text. */
    public static TokenCounter counter() {
        return text -> O200k.ENCODING.countTokensOrdinary(text.toString());
    }

    /** Loads the vocabulary on first use, once per JVM: it takes a noticeable part of a second. */
    private static final class O200k {
        static final Encoding ENCODING = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.O200K_BASE);
    }
}
