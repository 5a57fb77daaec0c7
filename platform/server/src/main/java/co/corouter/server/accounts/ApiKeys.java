package co.corouter.server.accounts;

import co.corouter.server.common.Ids;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.zip.CRC32;

/**
 * API key format, GitHub-token style: {@code sk-cr-v1-} + 32 random base-62 characters (190 bits) + a 6-character
 * base-62 CRC-32 checksum of the random part. The checksum lets us reject typos and scanners' garbage without a
 * database lookup, and lets secret scanners recognise a leaked key. Only the SHA-256 of the key is stored.
 */
public final class ApiKeys {

    public static final String PREFIX = "sk-cr-v1-";
    static final int RANDOM_LENGTH = 32;
    static final int CHECKSUM_LENGTH = 6;
    public static final int LENGTH = PREFIX.length() + RANDOM_LENGTH + CHECKSUM_LENGTH;

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    private ApiKeys() {
    }

    public static String generate() {
        String random = Ids.random(RANDOM, RANDOM_LENGTH);
        return PREFIX + random + checksum(random);
    }

    /** True when the text has the key's shape and a correct checksum (no database involved). */
    public static boolean wellFormed(String key) {
        if (key == null || key.length() != LENGTH || !key.startsWith(PREFIX)) {
            return false;
        }
        for (int i = PREFIX.length(); i < LENGTH; i++) {
            char c = key.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
                return false;
            }
        }
        String random = key.substring(PREFIX.length(), PREFIX.length() + RANDOM_LENGTH);
        return checksum(random).equals(key.substring(PREFIX.length() + RANDOM_LENGTH));
    }

    public static byte[] hash(String key) {
        MessageDigest digest = SHA256.get();
        digest.reset();
        return digest.digest(key.getBytes(StandardCharsets.US_ASCII));
    }

    /** What lists show: the prefix, 3 characters and the checksum — not enough to use the key. */
    public static String display(String key) {
        return key.substring(0, PREFIX.length() + 3) + "..." + key.substring(LENGTH - 3);
    }

    static String checksum(String random) {
        CRC32 crc = new CRC32();
        crc.update(random.getBytes(StandardCharsets.US_ASCII));
        long value = crc.getValue();
        char[] out = new char[CHECKSUM_LENGTH];
        for (int i = CHECKSUM_LENGTH - 1; i >= 0; i--) {
            out[i] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".charAt((int) (value % 62));
            value /= 62;
        }
        return new String(out);
    }
}
