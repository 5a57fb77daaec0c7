package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A node holds at most {@code http.max_connections} connections: more are closed on accept, the rest still serve. */
class ConnectionCapTest {

    static final int MAX_CONNECTIONS = 40;

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().set("http", "max_connections", MAX_CONNECTIONS).build();

    @Test
    void connectionsBeyondTheCapAreClosedOnAcceptAndTheRestServe() throws Exception {
        List<RawHttp> held = new ArrayList<>();
        try {
            while (NODE.node().edge().connections() < MAX_CONNECTIONS) {
                held.add(new RawHttp(NODE.port()));
                int opened = held.size();
                NODE.awaitCondition("the node counts the new connection",
                        () -> NODE.node().edge().accepted() >= opened);
            }
            long refusedBefore = refused();
            try (RawHttp extra = new RawHttp(NODE.port())) {
                assertThat(extra.closedByServer(5_000)).as("one connection over the cap").isTrue();
            }
            assertThat(refused()).isEqualTo(refusedBefore + 1);
            RawHttp first = held.get(0);
            first.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(first.read().status()).as("a connection within the cap is served").isEqualTo(200);
        } finally {
            for (RawHttp connection : held) {
                connection.close();
            }
        }
        NODE.awaitCondition("closed connections leave the count", () -> NODE.node().edge().connections() == 0);
        try (RawHttp again = new RawHttp(NODE.port())) {
            again.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(again.read().status()).isEqualTo(200);
        }
    }

    long refused() {
        var counter = NODE.node().metrics().registry().find("corouter_edge_refused_total")
                .tag("reason", "too_many_connections").counter();
        return counter == null ? 0 : (long) counter.count();
    }
}
