package co.corouter.testkit.creem;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * A stand-in webhook endpoint for tests of {@link FakeCreem} and payment plugins: records each POST's raw body and
 * {@code creem-signature}, answers queued statuses (200 when none is queued), and tells a listener.
 */
public final class WebhookReceiver {

    private final ConcurrentLinkedDeque<Received> received = new ConcurrentLinkedDeque<>();
    private final Queue<Integer> statuses = new ConcurrentLinkedQueue<>();
    private volatile Consumer<Received> listener = r -> { };
    private volatile HttpServer server;

    /** One delivery as it arrived. */
    public record Received(String path, String signature, byte[] body) {

        public String bodyText() {
            return new String(body, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    public Future<WebhookReceiver> start(Vertx vertx) {
        HttpServer created = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0));
        created.requestHandler(request -> request.body().onSuccess(body -> {
            Received delivery = new Received(request.path(), request.getHeader("creem-signature"), body.getBytes());
            received.add(delivery);
            Integer status = statuses.poll();
            request.response().setStatusCode(status == null ? 200 : status).end(status == null ? "ok" : "no");
            listener.accept(delivery);
        }));
        return created.listen().map(listening -> {
            server = listening;
            return this;
        });
    }

    /** The URL to configure as the webhook endpoint. */
    public String url() {
        return "http://127.0.0.1:" + server.actualPort() + "/webhooks/payments/creem";
    }

    /** The next deliveries are answered with these statuses, in order. */
    public WebhookReceiver answer(int... next) {
        for (int status : next) {
            statuses.add(status);
        }
        return this;
    }

    /** Called on the event loop after each delivery was answered. */
    public WebhookReceiver onDelivery(Consumer<Received> onDelivery) {
        listener = onDelivery;
        return this;
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    public Future<Void> close() {
        return server == null ? Future.succeededFuture() : server.close();
    }
}
