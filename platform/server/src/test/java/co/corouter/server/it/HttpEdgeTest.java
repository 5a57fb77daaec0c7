package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * The HTTP edge against hostile clients: slow heads, unfinished bodies, ambiguous framing, oversized heads and too
 * many connections are cut off within the configured limits, in the error shape, while normal requests are served;
 * and none of it logs more than a debug line.
 */
class HttpEdgeTest {

    static final int HEADER_MS = 600;
    static final int IDLE_MS = 1_000;
    static final int BODY_MS = 600;
    static final int BODY_MAX_MS = 1_500;

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder()
            .set("http", "header_timeout_ms", HEADER_MS)
            .set("http", "idle_timeout_ms", IDLE_MS)
            .set("http", "body_timeout_ms", BODY_MS)
            .set("http", "body_max_ms", BODY_MAX_MS)
            .set("http", "body_min_rate_bytes_per_second", 64 * 1024)
            .build();

    static final ListAppender<ILoggingEvent> LOG = new ListAppender<>();

    @BeforeAll
    static void captureLogs() {
        LOG.start();
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(LOG);
    }

    @AfterAll
    static void hostileClientsLoggedNothingAboveDebugAndNoStackTrace() {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .detachAppender(LOG);
        List<String> loud = new ArrayList<>();
        for (ILoggingEvent event : LOG.list) {
            if (event.getLevel().isGreaterOrEqual(Level.WARN) || event.getThrowableProxy() != null) {
                loud.add(event.getLevel() + " " + event.getLoggerName() + ": " + event.getFormattedMessage());
            }
        }
        assertThat(loud).isEmpty();
    }

    static String chatBody() {
        return new JsonObject().put("model", CorouterNode.MOCK_MODEL)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hello")))
                .encode();
    }

    static void assertErrorShape(RawHttp.Response response, int status) {
        assertThat(response.status()).isEqualTo(status);
        assertThat(response.header("content-type")).startsWith("application/json");
        JsonObject error = new JsonObject(response.body()).getJsonObject("error");
        assertThat(error.getInteger("code")).isEqualTo(status);
        assertThat(error.getString("message")).isNotBlank();
    }

    long refusedAtEdge(String reason) {
        var counter = NODE.node().metrics().registry().find("corouter_edge_refused_total").tag("reason", reason)
                .counter();
        return counter == null ? 0 : (long) counter.count();
    }

    @Test
    void twoHundredSlowHeadsAreClosedWithinTheHeaderTimeoutWhileNormalRequestsAreServed() throws Exception {
        CorouterNode.Account account = NODE.newAccount("1.00");
        List<RawHttp> slow = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            slow.add(new RawHttp(NODE.port()).send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"));
        }
        long started = System.nanoTime();
        HttpResponse<String> served = NODE.chat(account.key(), chatBody());
        assertThat(served.statusCode()).as("a normal request during the attack").isEqualTo(200);
        int closed = 0;
        for (int round = 0; round < 10 && closed < slow.size(); round++) {
            closed = 0;
            for (RawHttp connection : slow) {
                // keep dribbling a header byte: a slowloris never finishes its head
                try {
                    connection.send("X");
                } catch (java.io.IOException reset) {
                    // already closed by the server
                }
            }
            for (RawHttp connection : slow) {
                closed += connection.closedByServer(20) ? 1 : 0;
            }
            if (closed < slow.size()) {
                CorouterNode.await(NODE.vertx().timer(200));
            }
        }
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertThat(closed).isEqualTo(200);
        assertThat(elapsedMs).as("closed within the header timeout plus one sweep and some slack")
                .isLessThan(HEADER_MS + 4_000);
        assertThat(refusedAtEdge("header_timeout")).isGreaterThanOrEqualTo(200);
        for (RawHttp connection : slow) {
            connection.close();
        }
        assertThat(NODE.chat(account.key(), chatBody()).statusCode()).isEqualTo(200);
    }

    @Test
    void unfinishedBodiesAreRefusedWith408AndTheirMemoryIsReturned() throws Exception {
        CorouterNode.Account account = NODE.newAccount("1.00");
        List<RawHttp> stalled = new ArrayList<>();
        byte[] part = new byte[256 * 1024];
        java.util.Arrays.fill(part, (byte) ' ');
        for (int i = 0; i < 20; i++) {
            stalled.add(new RawHttp(NODE.port())
                    .send(RawHttp.postHead("/v1/chat/completions", account.key(), 4 * 1024 * 1024 - 1)).send(part));
        }
        long started = System.nanoTime();
        for (RawHttp connection : stalled) {
            RawHttp.Response response = connection.read();
            assertErrorShape(response, 408);
            assertThat(connection.closedByServer(2_000)).isTrue();
            connection.close();
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
                .as("cut off by the body rule (%d ms, at most %d ms; slack for a loaded 2-core CI box)", BODY_MS,
                        BODY_MAX_MS).isLessThan(BODY_MAX_MS + 4_000);
        NODE.awaitCondition("the stalled bodies' memory is released",
                () -> NODE.node().edge().bufferedBodyBytes() == 0);
        assertThat(NODE.usageRows(account.id())).isZero();
    }

    @Test
    void aRequestWithBothContentLengthAndTransferEncodingIsAnsweredOnceAndItsConnectionClosed() throws Exception {
        // RFC 9112 §6.1: Transfer-Encoding overrides Content-Length (the HTTP decoder already drops the latter), and
        // the server must close the connection after responding: what was smuggled behind it is never served
        try (RawHttp client = new RawHttp(NODE.port())) {
            client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response response = client.read();
            assertErrorShape(response, 401);
            assertThat(client.closedByServer(2_000)).as("the connection is closed, the smuggled GET not served")
                    .isTrue();
        }
        try (RawHttp client = new RawHttp(NODE.port())) {
            client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                    + "0\r\n\r\n");
            assertErrorShape(client.read(), 400);
            assertThat(client.closedByServer(2_000)).isTrue();
        }
    }

    @Test
    void aChunkedRequestIsServedAndItsConnectionClosedSoNothingPipelinedBehindItIsServed() throws Exception {
        CorouterNode.Account account = NODE.newAccount("1.00");
        byte[] body = chatBody().getBytes(StandardCharsets.UTF_8);
        try (RawHttp client = new RawHttp(NODE.port())) {
            client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + account.key()
                    + "\r\nTransfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(body.length) + "\r\n")
                    .send(body).send("\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n");
            RawHttp.Response response = client.read();
            assertThat(response.status()).isEqualTo(200);
            assertThat(client.closedByServer(2_000)).isTrue();
        }
    }

    @Test
    void anOversizedHeadIsRefusedWith431InTheErrorShapeAndTheConnectionClosed() throws Exception {
        try (RawHttp client = new RawHttp(NODE.port())) {
            client.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(10 * 1024) + "\r\n\r\n");
            assertErrorShape(client.read(), 431);
            assertThat(client.closedByServer(2_000)).isTrue();
        }
    }

    @Test
    void anOverlongRequestLineIsRefusedWith414AndGarbageWith400() throws Exception {
        try (RawHttp client = new RawHttp(NODE.port())) {
            client.send("GET /health?" + "a".repeat(8 * 1024) + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertErrorShape(client.read(), 414);
            assertThat(client.closedByServer(2_000)).isTrue();
        }
        try (RawHttp client = new RawHttp(NODE.port())) {
            client.send("GET /health HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n");
            assertErrorShape(client.read(), 400);
            assertThat(client.closedByServer(2_000)).isTrue();
        }
    }

    @Test
    void aDeclaredBodyOverTheLimitIsRefusedWith413BeforeItIsRead() throws Exception {
        CorouterNode.Account account = NODE.newAccount("1.00");
        try (RawHttp client = new RawHttp(NODE.port())) {
            client.send(RawHttp.postHead("/v1/chat/completions", account.key(), 64L * 1024 * 1024));
            assertErrorShape(client.read(), 413);
            assertThat(client.closedByServer(2_000)).isTrue();
        }
    }

    @Test
    void anExpectContinueClientIsToldToSendItsBody() throws Exception {
        CorouterNode.Account account = NODE.newAccount("1.00");
        byte[] body = chatBody().getBytes(StandardCharsets.UTF_8);
        try (RawHttp client = new RawHttp(NODE.port())) {
            client.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + account.key()
                    + "\r\nExpect: 100-continue\r\nContent-Length: " + body.length + "\r\n\r\n");
            assertThat(client.read().status()).isEqualTo(100);
            client.send(body);
            assertThat(client.read().status()).isEqualTo(200);
        }
    }

    @Test
    void anIdleKeptAliveConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        try (RawHttp client = new RawHttp(NODE.port())) {
            client.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(client.read().status()).isEqualTo(200);
            long answered = System.nanoTime();
            assertThat(client.closedByServer(IDLE_MS + 2_000)).isTrue();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - answered)).isBetween(IDLE_MS - 100L,
                    IDLE_MS + 1_500L);
        }
    }

    @Test
    void http2OverCleartextIsOffUnlessConfigured() throws Exception {
        try (RawHttp client = new RawHttp(NODE.port())) {
            client.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                    + "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
            assertThat(client.read().status()).as("answered over HTTP/1.1, no 101 Switching Protocols")
                    .isEqualTo(200);
        }
    }

    @Test
    void aClientThatAbortsItsUploadCostsNoErrorLine() throws Exception {
        CorouterNode.Account account = NODE.newAccount("1.00");
        for (int i = 0; i < 10; i++) {
            RawHttp client = new RawHttp(NODE.port());
            client.send(RawHttp.postHead("/v1/chat/completions", account.key(), 100_000)).send(new byte[10_000]);
            client.reset();
        }
        NODE.awaitCondition("the aborted uploads are over", () -> NODE.node().edge().inFlight() == 0
                && NODE.node().edge().bufferedBodyBytes() == 0);
        // the class-level check asserts nothing above debug was logged
    }
}
