package co.corouter.server.accounts;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;

/**
 * The accounts context's listener: a key revoked anywhere in the cluster leaves this node's key cache at once, and so
 * do all keys of an account whose keys or restriction changed.
 */
public final class AccountsVerticle extends VerticleBase {

    private final KeyAuthenticator keys;
    private MessageConsumer<AccountsContract.KeyRevoked> revocations;
    private MessageConsumer<AccountsContract.KeysChanged> changes;

    public AccountsVerticle(KeyAuthenticator keys) {
        this.keys = keys;
    }

    @Override
    public Future<?> start() {
        revocations = vertx.eventBus().consumer(AccountsContract.KEY_REVOKED,
                message -> keys.invalidate(message.body().keyHashHex()));
        changes = vertx.eventBus().consumer(AccountsContract.KEYS_CHANGED,
                message -> keys.invalidateAccount(message.body().accountId()));
        return Future.all(revocations.completion(), changes.completion());
    }

    @Override
    public Future<?> stop() {
        return Future.all(revocations.unregister(), changes.unregister());
    }
}
