package co.corouter.provider.mock;

import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.testkit.tck.ProviderTck;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** The mock as configured in conf/corouter.yaml: paced deltas, so cancellation and back-pressure bite. */
class MockProviderTckTest extends ProviderTck {

    @Override
    protected ProviderEndpoint endpoint(Vertx vertx) {
        return new MockProvider().create(providerContext(vertx, "mock", name -> null), new JsonObject()
                .put("latency_ms", 5)
                .put("chunk_count", 8)
                .put("chunk_interval_ms", 5)
                .put("completion_tokens", 16));
    }

    @Override
    protected String upstreamModel() {
        return "mock-small";
    }

    @Override
    protected String failingUpstreamModel() {
        return "mock-error";
    }

    @Override
    protected String hangingUpstreamModel() {
        return "mock-hang";
    }

    @Override
    protected String rateLimitedUpstreamModel() {
        return "mock-rate-limited";
    }
}
