package co.corouter.server.accounts;

import co.corouter.server.common.Ids;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * API key format: {@code sk-cr-v2-} + 32 random base-62 characters (190 bits) + an 8-character base-62 checksum,
 * the HMAC-SHA256 of the random part under the deployment's key-signing secret (about 47 bits of it).
 *
 * <p>Why a keyed checksum: a key that fails it is refused without a database lookup, and nobody can mint keys that
 * pass without the secret. With a public checksum (CRC32, as in v1) anyone could send an endless stream of
 * well-formed unknown keys, each costing a query. Forging one that passes takes ~2^47 tries on average, each a
 * request. The price: secret scanners can match the prefix but not verify the checksum offline. Only the SHA-256 of
 * a key is stored. Instances are thread-safe.
 */
public final class ApiKeys {

    public static final String PREFIX = "sk-cr-v2-";
    static final int RANDOM_LENGTH = 32;
    static final int CHECKSUM_LENGTH = 8;
    public static final int LENGTH = PREFIX.length() + RANDOM_LENGTH + CHECKSUM_LENGTH;
    /** Shortest secret accepted. */
    public static final int MIN_SECRET_BYTES = 32;

    private static final char[] BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    private final ThreadLocal<Mac> hmac;

    public ApiKeys(byte[] secret) {
        if (secret == null || secret.length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("the key-signing secret must be at least " + MIN_SECRET_BYTES + " bytes");
        }
        SecretKeySpec spec = new SecretKeySpec(secret.clone(), "HmacSHA256");
        this.hmac = ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(spec);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** A fresh key, shown once to its owner. */
    public String generate() {
        String random = Ids.random(RANDOM, RANDOM_LENGTH);
        return PREFIX + random + checksum(random);
    }

    /** True when the text has the key's shape (prefix, length, alphabet): no secret, no database involved. */
    public static boolean shaped(String key) {
        if (key == null || key.length() != LENGTH || !key.startsWith(PREFIX)) {
            return false;
        }
        for (int i = PREFIX.length(); i < LENGTH; i++) {
            char c = key.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
                return false;
            }
        }
        return true;
    }

    /** True when a {@link #shaped} key carries this deployment's checksum (compared in constant time). */
    public boolean signed(String key) {
        String random = key.substring(PREFIX.length(), PREFIX.length() + RANDOM_LENGTH);
        byte[] expected = checksum(random).getBytes(StandardCharsets.US_ASCII);
        byte[] given = key.substring(PREFIX.length() + RANDOM_LENGTH).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, given);
    }

    public static byte[] hash(String key) {
        MessageDigest digest = SHA256.get();
        digest.reset();
        return digest.digest(key.getBytes(StandardCharsets.US_ASCII));
    }

    /** What lists show: the prefix, 3 characters and the last 3 — not enough to use the key. */
    public static String display(String key) {
        return key.substring(0, PREFIX.length() + 3) + "..." + key.substring(LENGTH - 3);
    }

    String checksum(String random) {
        Mac mac = hmac.get();
        byte[] digest = mac.doFinal(random.getBytes(StandardCharsets.US_ASCII));
        long value = 0;
        for (int i = 0; i < 8; i++) {
            value = (value << 8) | (digest[i] & 0xFF);
        }
        value &= Long.MAX_VALUE;
        char[] out = new char[CHECKSUM_LENGTH];
        for (int i = CHECKSUM_LENGTH - 1; i >= 0; i--) {
            out[i] = BASE62[(int) (value % 62)];
            value /= 62;
        }
        return new String(out);
    }
}
