package co.corouter.server.accounts;

/**
 * The accounts context's event-bus contract. Today accounts are used in-process by ingress (key lookups are a
 * per-node cache read); the one message is the revocation broadcast, so every node drops a revoked key at once.
 */
public final class AccountsContract {

    /** Published when a key is revoked; body: {@link KeyRevoked}. Every node's key cache listens. */
    public static final String KEY_REVOKED = "accounts.key-revoked";

    /** The revoked key's hash, hex-encoded (never the key). */
    public record KeyRevoked(String keyHashHex) {
    }

    /** Who is calling: an active key of an account. */
    public record Principal(long keyId, long accountId, String label) {
    }

    private AccountsContract() {
    }
}
