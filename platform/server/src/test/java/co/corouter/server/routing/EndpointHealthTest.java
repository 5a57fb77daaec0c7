package co.corouter.server.routing;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.config.ServerOptions.RoutingOptions;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** An endpoint's breaker opens on its error rate over the window, not only on failures in a row; its bulkhead caps. */
class EndpointHealthTest {

    static final Vertx VERTX = Vertx.vertx();

    @AfterAll
    static void close() {
        VERTX.close();
    }

    static EndpointHealth health(int maxFailures, int errorRatePercent, int minRequests, int maxInFlight) {
        return new EndpointHealth(VERTX, "m", "p", maxInFlight, new RoutingOptions(maxFailures, 60_000,
                errorRatePercent / 100.0, minRequests, 60_000, maxInFlight, 1_000, 1_000, 0, 10));
    }

    @Test
    void anErrorRateOverTheWindowOpensTheBreakerThoughNoFailuresCameInARow() {
        EndpointHealth health = health(1_000, 50, 10, 10);
        for (int i = 0; i < 9; i++) {
            health.record(i % 2 == 0, 5, "upstream_error");
            assertThat(health.open()).as("fewer than the minimum of calls").isFalse();
        }
        health.record(true, 5, "upstream_error");
        assertThat(health.open()).as("6 of 10 failed: over the 50%% rate").isTrue();
        assertThat(health.uptime()).isEqualTo(0.4);
        assertThat(health.status().getString("breaker")).isEqualTo("open");
        health.reset();
        assertThat(health.open()).isFalse();
        assertThat(health.uptime()).isEqualTo(1.0);
    }

    @Test
    void aLowErrorRateKeepsTheBreakerClosed() {
        EndpointHealth health = health(1_000, 50, 10, 10);
        for (int i = 0; i < 40; i++) {
            health.record(i % 4 == 0, 5, "upstream_error");
        }
        assertThat(health.open()).isFalse();
        assertThat(health.uptime()).isEqualTo(0.75);
    }

    @Test
    void theBulkheadAdmitsAtMostItsLimitAtOnce() {
        EndpointHealth health = health(5, 50, 10, 2);
        assertThat(health.enter()).isTrue();
        assertThat(health.enter()).isTrue();
        assertThat(health.enter()).isFalse();
        health.leave();
        assertThat(health.enter()).isTrue();
        assertThat(health.status().getInteger("in_flight")).isEqualTo(2);
    }

    @Test
    void latencyAndThroughputAreSmoothedForSorting() {
        EndpointHealth health = health(5, 50, 10, 2);
        assertThat(health.latencyMillis()).isEqualTo(-1);
        health.record(false, 100, null);
        health.record(false, 200, null);
        assertThat(health.latencyMillis()).isEqualTo(120.0);
        health.throughput(100, 1_000);
        assertThat(health.tokensPerSecond()).isEqualTo(100.0);
    }
}
