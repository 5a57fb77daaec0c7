package co.corouter.server.audit;

/**
 * A {@link SecretBox} value does not open: altered, opened with other additional authenticated data, of an unknown
 * format, or sealed with a key-encryption key that is not configured. The message names the reason and, for an
 * unknown key, its id; never a key or any plaintext.
 */
public final class SealedValueException extends RuntimeException {

    public SealedValueException(String message) {
        super(message, null, false, false);
    }
}
