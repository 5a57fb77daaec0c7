package co.corouter.provider.openai;

import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.testkit.tck.ProviderTck;
import co.corouter.testkit.upstream.Behaviour;
import co.corouter.testkit.upstream.FakeOpenAiUpstreamExtension;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The openai provider in front of the fake upstream, held to the plugin contract. */
class OpenAiProviderTckTest extends ProviderTck {

    @RegisterExtension
    static final FakeOpenAiUpstreamExtension UPSTREAM = new FakeOpenAiUpstreamExtension();

    @BeforeEach
    void paceTheStream() {
        // several upstream reads per stream, so cancellation and back-pressure bite
        UPSTREAM.upstream().behave(Behaviour.normal().chunks(8).intervalMs(5))
                .behaveFor("gpt-fails", Behaviour.error(500))
                .behaveFor("gpt-hangs", Behaviour.hang())
                .behaveFor("gpt-rate-limited", Behaviour.error(429).header("Retry-After", "2"));
    }

    @Override
    protected String failingUpstreamModel() {
        return "gpt-fails";
    }

    @Override
    protected String hangingUpstreamModel() {
        return "gpt-hangs";
    }

    @Override
    protected String rateLimitedUpstreamModel() {
        return "gpt-rate-limited";
    }

    @Override
    protected ProviderEndpoint endpoint(Vertx vertx) {
        return new OpenAiProvider().create(providerContext(vertx, "tck", name -> null),
                new JsonObject().put("base_url", UPSTREAM.upstream().baseUrl()));
    }

    @Override
    protected String upstreamModel() {
        return "gpt-test";
    }
}
