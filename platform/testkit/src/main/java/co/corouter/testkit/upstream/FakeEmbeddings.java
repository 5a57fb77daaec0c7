package co.corouter.testkit.upstream;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * The vectors and token counts the fake upstreams answer embedding requests with: deterministic, so a test can compute
 * what a provider must hand on. The same text always gives the same unit-length vector (on any JVM); two different
 * texts give different ones.
 *
 * <pre>
 * assertThat(embeddings.vectors().get(0)).containsExactly(FakeEmbeddings.vector("hello", 4));
 * assertThat(embeddings.usage().promptTokens()).isEqualTo(FakeEmbeddings.tokens("hello world"));   // 2
 * </pre>
 */
public final class FakeEmbeddings {

    /** The vector size when a request asks for none (real models have hundreds; tests need few). */
    public static final int DEFAULT_DIMENSIONS = 8;

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private FakeEmbeddings() {
    }

    /** A unit vector of {@code dimensions} components derived from {@code text} alone. */
    public static float[] vector(String text, int dimensions) {
        if (dimensions < 1) {
            throw new IllegalArgumentException("dimensions must be positive: " + dimensions);
        }
        SplittableRandom random = new SplittableRandom(hash(text));
        double[] raw = new double[dimensions];
        double norm = 0;
        for (int i = 0; i < dimensions; i++) {
            raw[i] = random.nextDouble() * 2 - 1;
            norm += raw[i] * raw[i];
        }
        norm = Math.sqrt(norm);
        float[] vector = new float[dimensions];
        for (int i = 0; i < dimensions; i++) {
            vector[i] = (float) (raw[i] / norm);
        }
        return vector;
    }

    /** The fakes' token count: whitespace-separated words, and at least 1 for a non-blank text. */
    public static int tokens(String text) {
        String stripped = text.strip();
        return stripped.isEmpty() ? 0 : stripped.split("\\s+").length;
    }

    /** FNV-1a over the UTF-8 bytes: stable across JVMs, unlike {@link String#hashCode()} mixing. */
    private static long hash(String text) {
        long hash = FNV_OFFSET;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= FNV_PRIME;
        }
        return hash;
    }
}
