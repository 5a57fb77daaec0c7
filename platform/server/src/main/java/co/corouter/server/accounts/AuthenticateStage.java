package co.corouter.server.accounts;

import co.corouter.server.accounts.AccountsContract.Principal;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Stage;
import io.vertx.core.Future;

/** Stage "authenticate": the bearer key names an active key of an account (401 otherwise, before anything else). */
public final class AuthenticateStage implements Stage {

    private final AccountsContract.Authenticator authenticator;

    public AuthenticateStage(AccountsContract.Authenticator authenticator) {
        this.authenticator = authenticator;
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        Future<Principal> principal = authenticator.authenticate(exchange.authorization());
        if (principal.succeeded()) {
            exchange.principal(principal.result());
            return DONE;
        }
        return principal.map(found -> {
            exchange.principal(found);
            return null;
        });
    }
}
