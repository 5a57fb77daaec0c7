package co.corouter.server.accounts;

import com.password4j.Argon2Function;
import com.password4j.Password;
import com.password4j.types.Argon2;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * Console passwords: Argon2id with OWASP's parameters (m = 19456 KiB, t = 2, p = 1), stored as a PHC string. Hashing
 * and checking take tens of milliseconds of CPU, so both run on a worker thread, never on the event loop.
 */
public final class Passwords {

    public static final int MEMORY_KIB = 19_456;
    public static final int ITERATIONS = 2;
    public static final int PARALLELISM = 1;
    public static final int MIN_LENGTH = 12;
    /** Argon2 takes any length; a bound keeps a megabyte "password" from costing more than it should. */
    public static final int MAX_LENGTH = 1024;

    private static final Argon2Function ARGON2ID = Argon2Function.getInstance(MEMORY_KIB, ITERATIONS, PARALLELISM, 32,
            Argon2.ID);
    /**
     * Checked when the email matched no user (or an erased one), so that a failed sign-in costs the same time
     * whether or not the account exists. Same parameters as real hashes; its password is unknown.
     */
    private static final String DUMMY_HASH =
            "$argon2id$v=19$m=19456,t=2,p=1$kYPd40q+9HIREovZiBlCAw$KzKMwfKwERCesv21N22mD2aMXGQpgqcWZzmCdKSKrQ0";

    private final Vertx vertx;

    public Passwords(Vertx vertx) {
        this.vertx = vertx;
    }

    /** The Argon2id PHC string of {@code password}, with a fresh 16-byte salt. */
    public Future<String> hash(String password) {
        return vertx.executeBlocking(() -> Password.hash(password).addRandomSalt(16).with(ARGON2ID).getResult(),
                false);
    }

    /** True when {@code password} matches {@code hash}; a null hash is checked against a dummy and is always false. */
    public Future<Boolean> verify(String password, String hash) {
        return vertx.executeBlocking(() -> {
            boolean matches = Password.check(password, hash == null ? DUMMY_HASH : hash)
                    .with(hash == null ? ARGON2ID : Argon2Function.getInstanceFromHash(hash));
            return hash != null && matches;
        }, false);
    }
}
