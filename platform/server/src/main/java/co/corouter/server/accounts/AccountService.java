package co.corouter.server.accounts;

import co.corouter.server.accounts.AccountsContract.NewKey;
import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;

/**
 * The accounts context's {@link AccountsContract.Accounts} (the operator's) and {@link AccountsContract.OwnerKeys}
 * (the console's): validated input, keys minted, switched and revoked, and every change that affects authentication
 * broadcast to every node's key cache.
 */
public final class AccountService implements AccountsContract.Accounts, AccountsContract.OwnerKeys {

    static final int MAX_NAME = 200;

    private final AccountRepository repository;
    private final ApiKeys keys;
    private final KeyAuthenticator authenticator;
    private final EventBus bus;

    public AccountService(AccountRepository repository, ApiKeys keys, KeyAuthenticator authenticator, EventBus bus) {
        this.repository = repository;
        this.keys = keys;
        this.authenticator = authenticator;
        this.bus = bus;
    }

    @Override
    public Future<Long> createAccount(String name) {
        return repository.createAccount(text(name, "name", 1));
    }

    @Override
    public Future<Long> findAccountByName(String name) {
        return repository.findAccountByName(name);
    }

    @Override
    public Future<JsonObject> account(long accountId) {
        return repository.account(accountId);
    }

    @Override
    public Future<NewKey> createKey(long accountId, String label) {
        String checked = text(label == null ? "" : label, "label", 0);
        String key = keys.generate();
        return repository.createKey(accountId, key, checked)
                .map(id -> new NewKey(id, key, ApiKeys.display(key), checked))
                .recover(failure -> failure instanceof PgException pg && "23503".equals(pg.getSqlState())
                        ? Future.failedFuture(new ApiException(ErrorCodes.NOT_FOUND, "no such account"))
                        : Future.failedFuture(failure));
    }

    @Override
    public Future<Boolean> revokeKey(long keyId) {
        return repository.revokeKey(keyId).map(hash -> {
            if (hash == null) {
                return false;
            }
            authenticator.invalidate(hash); // this node at once; the others when the broadcast arrives
            bus.publish(AccountsContract.KEY_REVOKED, new AccountsContract.KeyRevoked(hash));
            return true;
        });
    }

    @Override
    public Future<JsonArray> keys(long accountId) {
        return repository.keys(accountId);
    }

    @Override
    public Future<JsonArray> ownerKeys(long accountId) {
        return repository.ownerKeys(accountId);
    }

    @Override
    public Future<JsonObject> updateKey(long keyId, AccountsContract.KeySettings settings) {
        return updated(repository.updateSettings(null, keyId, settings));
    }

    @Override
    public Future<JsonObject> createOwnerKey(long accountId, String name, AccountsContract.KeySettings settings) {
        String checked = text(name, "name", 1);
        return repository.createOwnerKey(accountId, keys.generate(), checked, settings);
    }

    @Override
    public Future<JsonObject> updateOwnerKey(long accountId, long keyId, AccountsContract.KeySettings settings) {
        return updated(repository.updateSettings(accountId, keyId, settings));
    }

    /** A key's limit or expiry changed: every node re-reads the account's keys (their principals carry both). */
    private Future<JsonObject> updated(Future<JsonObject> change) {
        return change.map(key -> {
            if (key == null) {
                return null;
            }
            keysChanged((Long) key.remove("account_id"));
            return key;
        });
    }

    @Override
    public Future<JsonObject> setKeyDisabled(long accountId, long keyId, boolean disabled) {
        return repository.setDisabled(accountId, keyId, disabled).map(key -> {
            if (key != null) {
                keysChanged(accountId);
            }
            return key;
        });
    }

    @Override
    public Future<Boolean> revokeOwnerKey(long accountId, long keyId) {
        return repository.revokeOwnerKey(accountId, keyId).map(hash -> {
            if (hash == null) {
                return false;
            }
            authenticator.invalidate(hash);
            bus.publish(AccountsContract.KEY_REVOKED, new AccountsContract.KeyRevoked(hash));
            return true;
        });
    }

    @Override
    public Future<Void> restrict(long accountId, boolean restricted) {
        return repository.restrict(accountId, restricted).onSuccess(v -> keysChanged(accountId));
    }

    @Override
    public Future<Boolean> restricted(long accountId) {
        return repository.restricted(accountId);
    }

    @Override
    public Future<Void> erase(long accountId) {
        return repository.erase(accountId).onSuccess(v -> keysChanged(accountId));
    }

    /** This node at once; the others when the broadcast arrives. */
    private void keysChanged(long accountId) {
        authenticator.invalidateAccount(accountId);
        bus.publish(AccountsContract.KEYS_CHANGED, new AccountsContract.KeysChanged(accountId));
    }

    /** A name or label: at most {@value #MAX_NAME} characters, no control characters (a NUL would reach SQL). */
    static String text(String value, String field, int minLength) {
        if (value == null || value.strip().length() < minLength) {
            throw new ApiException(ErrorCodes.BAD_REQUEST, "'" + field + "' is required");
        }
        if (value.length() > MAX_NAME) {
            throw new ApiException(ErrorCodes.BAD_REQUEST, "'" + field + "' must be at most " + MAX_NAME
                    + " characters");
        }
        for (int i = 0; i < value.length(); i++) {
            if (Character.isISOControl(value.charAt(i))) {
                throw new ApiException(ErrorCodes.BAD_REQUEST, "'" + field + "' must not contain control characters");
            }
        }
        return value;
    }
}
