package co.corouter.server.console.data;

import io.vertx.core.Future;

/**
 * Checks a console password against its stored Argon2id PHC string, off the event loop (the console's
 * {@code Passwords} does it; wire it as {@code (hash, password) -> passwords.verify(password, hash)}).
 */
@FunctionalInterface
public interface PasswordCheck {

    /** True when {@code password} matches {@code phcHash}; false for a null hash (an erased user). */
    Future<Boolean> check(String phcHash, String password);
}
