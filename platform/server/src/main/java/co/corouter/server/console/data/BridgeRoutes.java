package co.corouter.server.console.data;

import co.corouter.server.console.ConsoleRoutes;
import co.corouter.server.console.ConsoleUser;
import co.corouter.server.metering.MeteringContract;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.sockjs.BridgeEvent;
import io.vertx.ext.web.handler.sockjs.SockJSBridgeOptions;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;

/**
 * The console's live updates. {@code GET /api/bridge-token} (signed in) mints a bridge token; the SockJS event-bus
 * bridge ({@link #eventBus}) lets a browser only receive, and only from {@code corouter.console.<account_id>} of the
 * token it registers with ({@code headers.token}). Nothing may be sent or published inbound.
 */
final class BridgeRoutes implements ConsoleRoutes {

    private final Vertx vertx;
    private final PrivacyRepository secrets;
    /** Set once by {@link #start}, before the node takes requests. */
    private volatile BridgeTokens tokens;

    BridgeRoutes(Vertx vertx, PrivacyRepository secrets) {
        this.vertx = vertx;
        this.secrets = secrets;
    }

    Future<Void> start(byte[] candidate) {
        return secrets.bridgeSecret(candidate).map(secret -> {
            tokens = new BridgeTokens(vertx, secret);
            return null;
        });
    }

    @Override
    public void mount(Router api) {
        api.get("/bridge-token").handler(Replies.json(ctx -> Future.succeededFuture(token(Replies.user(ctx)))));
    }

    JsonObject token(ConsoleUser user) {
        return new JsonObject().put("token", tokens.mint(user.userId(), user.accountId()))
                .put("address", MeteringContract.consoleFeed(user.accountId()));
    }

    /** A new SockJS bridge router (one per HTTP verticle: SockJS sessions live on their event loop). */
    Router eventBus() {
        SockJSBridgeOptions options = new SockJSBridgeOptions()
                .addOutboundPermitted(new PermittedOptions().setAddressRegex(MeteringContract.CONSOLE_FEED_PATTERN));
        return SockJSHandler.create(vertx).bridge(options, this::guard);
    }

    /** Registration needs a token for the address's account; sends and publishes are refused. */
    void guard(BridgeEvent event) {
        BridgeEventType type = event.type();
        switch (type) {
            case SOCKET_CREATED, SOCKET_CLOSED, SOCKET_IDLE, SOCKET_PING, SOCKET_ERROR, REGISTERED, UNREGISTER,
                    RECEIVE -> event.complete(true);
            case REGISTER -> {
                JsonObject raw = event.getRawMessage();
                String address = raw == null ? null : raw.getString("address");
                JsonObject headers = raw == null ? null : raw.getJsonObject("headers");
                Object token = headers == null ? null : headers.getValue("token");
                if (address == null || !(token instanceof String text)) {
                    event.complete(false);
                    return;
                }
                tokens.account(text).onComplete(account -> event.tryComplete(account.succeeded()
                        && address.equals(MeteringContract.consoleFeed(account.result()))));
            }
            default -> event.complete(false);
        }
    }
}
