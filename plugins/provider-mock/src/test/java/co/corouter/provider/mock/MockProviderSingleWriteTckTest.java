package co.corouter.provider.mock;

import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.testkit.tck.ProviderTck;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** The benchmark configuration: no latency, no interval, every stream in one write. */
class MockProviderSingleWriteTckTest extends ProviderTck {

    @Override
    protected ProviderEndpoint endpoint(Vertx vertx) {
        return new MockProvider().create(providerContext(vertx, "mock", name -> null), new JsonObject());
    }

    @Override
    protected String upstreamModel() {
        return "mock-large";
    }

    @Override
    protected String failingUpstreamModel() {
        return "mock-large-error";
    }

    @Override
    protected String hangingUpstreamModel() {
        return "mock-large-hang";
    }

    @Override
    protected String rateLimitedUpstreamModel() {
        return "mock-large-rate-limited";
    }
}
