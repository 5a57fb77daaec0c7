package co.corouter.server.console.data;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.util.Base64;
import java.util.List;

/**
 * Short-lived tokens (a JWT, HS256, {@value #TTL_SECONDS} s) that admit a browser to its account's live feed on the
 * SockJS bridge without a database read. The key is the deployment's {@code bridge_token_secret}, so a token minted by
 * one node is accepted by every other. Thread-safe: vertx-auth-jwt's HMAC is not, so signing and checking are
 * serialised (each takes microseconds, and only sign-in to the bridge uses them).
 */
final class BridgeTokens {

    static final int TTL_SECONDS = 300;
    static final String AUDIENCE = "corouter.console.bridge";

    private final JWTAuth jwt;

    BridgeTokens(Vertx vertx, byte[] secret) {
        String key = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        this.jwt = JWTAuth.create(vertx, new JWTAuthOptions()
                .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(key))
                .setJWTOptions(new JWTOptions().setAudience(List.of(AUDIENCE))));
    }

    /** A token for the user's account. */
    synchronized String mint(long userId, long accountId) {
        return jwt.generateToken(new JsonObject().put("sub", Long.toString(userId)).put("account", accountId),
                new JWTOptions().setAlgorithm("HS256").setExpiresInSeconds(TTL_SECONDS).setAudience(List.of(AUDIENCE)));
    }

    /** The account a valid, unexpired token names; fails otherwise. */
    synchronized Future<Long> account(String token) {
        if (token == null || token.isEmpty() || token.length() > 4096) {
            return Future.failedFuture("no token");
        }
        return jwt.authenticate(new TokenCredentials(token)).map(user -> {
            Object account = user.principal().getValue("account");
            if (!(account instanceof Number number)) {
                throw new IllegalArgumentException("the token names no account");
            }
            return number.longValue();
        });
    }
}
