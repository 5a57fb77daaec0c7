package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.testkit.anthropic.AnthropicBehaviour;
import co.corouter.testkit.anthropic.FakeAnthropicUpstreamExtension;
import co.corouter.testkit.tck.ProviderTck;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The anthropic provider in front of the fake Messages API, held to the plugin contract. */
class AnthropicProviderTckTest extends ProviderTck {

    @RegisterExtension
    static final FakeAnthropicUpstreamExtension ANTHROPIC = new FakeAnthropicUpstreamExtension();

    @BeforeEach
    void paceTheStream() {
        // several upstream reads per stream, so cancellation and back-pressure bite
        ANTHROPIC.upstream().requireApiKey("sk-ant-tck")
                .behave(AnthropicBehaviour.normal().chunks(8).intervalMs(5).cacheReadTokens(3))
                .behaveFor("claude-fails", AnthropicBehaviour.error(500))
                .behaveFor("claude-hangs", AnthropicBehaviour.hang())
                .behaveFor("claude-rate-limited", AnthropicBehaviour.error(429).header("retry-after", "2"));
    }

    @Override
    protected String failingUpstreamModel() {
        return "claude-fails";
    }

    @Override
    protected String hangingUpstreamModel() {
        return "claude-hangs";
    }

    @Override
    protected String rateLimitedUpstreamModel() {
        return "claude-rate-limited";
    }

    @Override
    protected ProviderEndpoint endpoint(Vertx vertx) {
        return new AnthropicProvider().create(
                providerContext(vertx, "tck", name -> "ANTHROPIC_KEY".equals(name) ? "sk-ant-tck" : null),
                new JsonObject().put("base_url", ANTHROPIC.upstream().baseUrl()).put("api_key_env", "ANTHROPIC_KEY"));
    }

    @Override
    protected String upstreamModel() {
        return "claude-test";
    }
}
