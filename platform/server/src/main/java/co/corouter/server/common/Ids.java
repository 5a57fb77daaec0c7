package co.corouter.server.common;

import java.security.SecureRandom;
import java.util.concurrent.ThreadLocalRandom;

/** Identifiers: {@code gen-} + 13 base-36 chars of milliseconds (sortable) + 12 random base-62 chars. */
public final class Ids {

    static final char[] BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

    private Ids() {
    }

    public static String generationId() {
        StringBuilder id = new StringBuilder(30).append("gen-");
        String time = Long.toString(System.currentTimeMillis(), 36);
        for (int i = time.length(); i < 9; i++) {
            id.append('0');
        }
        id.append(time);
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < 16; i++) {
            id.append(BASE62[random.nextInt(62)]);
        }
        return id.toString();
    }

    /** An id for a response that is not a generation ({@code x-request-id}): {@code req-} + 20 random characters. */
    public static String requestId() {
        StringBuilder id = new StringBuilder(24).append("req-");
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < 20; i++) {
            id.append(BASE62[random.nextInt(62)]);
        }
        return id.toString();
    }

    public static String random(SecureRandom random, int length) {
        char[] chars = new char[length];
        for (int i = 0; i < length; i++) {
            chars[i] = BASE62[random.nextInt(62)];
        }
        return new String(chars);
    }
}
