package co.corouter.server.accounts;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;

/** The accounts context's listener: a key revoked anywhere in the cluster leaves this node's key cache at once. */
public final class AccountsVerticle extends VerticleBase {

    private final KeyAuthenticator keys;
    private MessageConsumer<AccountsContract.KeyRevoked> revocations;

    public AccountsVerticle(KeyAuthenticator keys) {
        this.keys = keys;
    }

    @Override
    public Future<?> start() {
        revocations = vertx.eventBus().consumer(AccountsContract.KEY_REVOKED,
                message -> keys.invalidate(message.body().keyHashHex()));
        return revocations.completion();
    }

    @Override
    public Future<?> stop() {
        return revocations.unregister();
    }
}
