package co.corouter.server.console;

import co.corouter.server.common.ApiException;
import co.corouter.server.common.ErrorCodes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * The tokens of mailed links: JWTs (HS256, the deployment's link-signing secret) naming their purpose, the user and
 * what the link applies to, with a short expiry and a unique {@code jti}. A token is single-use because the
 * repository records its {@code jti} when the link is used; this class only mints and checks signatures and expiry.
 */
public final class MailLinks {

    /** What a link does, and how long it is valid. */
    public enum Purpose {
        VERIFY("verify", Duration.ofHours(24)),
        RESET("reset", Duration.ofMinutes(30)),
        EMAIL_CHANGE("email_change", Duration.ofHours(24));

        final String claim;
        final Duration validity;

        Purpose(String claim, Duration validity) {
            this.claim = claim;
            this.validity = validity;
        }

        public Duration validity() {
            return validity;
        }
    }

    /** A checked token: {@code email} is the address verified or moved to; {@code passwordChangedAt} for resets. */
    public record Link(Purpose purpose, String jti, long userId, String email, long passwordChangedAt,
            OffsetDateTime expiresAt) {
    }

    private static final String ISSUER = "corouter-console";
    private final JWTAuth jwt;

    public MailLinks(Vertx vertx, byte[] secret) {
        this.jwt = JWTAuth.create(vertx, new JWTAuthOptions()
                .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(Buffer.buffer(secret)))
                .setJWTOptions(new JWTOptions().setAlgorithm("HS256").setIssuer(ISSUER)));
    }

    /** A token valid for the purpose's usual time. */
    public String mint(Purpose purpose, long userId, String email, long passwordChangedAt) {
        return mint(purpose, userId, email, passwordChangedAt, purpose.validity);
    }

    /** A token valid for {@code validity} from now (negative: already expired). */
    public String mint(Purpose purpose, long userId, String email, long passwordChangedAt, Duration validity) {
        JsonObject claims = new JsonObject()
                .put("purpose", purpose.claim)
                .put("jti", UUID.randomUUID().toString())
                .put("uid", userId)
                .put("exp", Instant.now().plus(validity).getEpochSecond());
        if (email != null) {
            claims.put("email", email);
        }
        if (purpose == Purpose.RESET) {
            claims.put("pwc", passwordChangedAt);
        }
        return jwt.generateToken(claims, new JWTOptions().setAlgorithm("HS256").setIssuer(ISSUER));
    }

    /**
     * The link of a token that is well signed, unexpired and of one of the {@code accepted} purposes; otherwise fails
     * with a 400 that says no more than that the link is invalid, expired or used.
     */
    public Future<Link> check(String token, Purpose... accepted) {
        ApiException invalid = new ApiException(ErrorCodes.BAD_REQUEST, "the link is invalid, expired or already used");
        if (token == null || token.isBlank() || token.length() > 4096) {
            return Future.failedFuture(invalid);
        }
        return jwt.authenticate(new TokenCredentials(token)).recover(e -> Future.failedFuture(invalid)).compose(user -> {
            JsonObject claims = user.attributes().getJsonObject("accessToken");
            Object exp = claims == null ? null : claims.getValue("exp");
            Object uid = claims == null ? null : claims.getValue("uid");
            String jti = claims == null ? null : claims.getString("jti");
            if (!(exp instanceof Number expiry) || !(uid instanceof Number userId) || jti == null) {
                return Future.failedFuture(invalid);
            }
            for (Purpose purpose : accepted) {
                if (purpose.claim.equals(claims.getString("purpose"))) {
                    return Future.succeededFuture(new Link(purpose, jti, userId.longValue(),
                            claims.getString("email"), claims.getLong("pwc", -1L),
                            OffsetDateTime.ofInstant(Instant.ofEpochSecond(expiry.longValue()), ZoneOffset.UTC)));
                }
            }
            return Future.failedFuture(invalid);
        });
    }
}
