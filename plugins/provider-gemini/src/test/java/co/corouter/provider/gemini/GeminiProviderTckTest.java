package co.corouter.provider.gemini;

import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.testkit.gemini.FakeGeminiUpstreamExtension;
import co.corouter.testkit.gemini.GeminiBehaviour;
import co.corouter.testkit.tck.ProviderTck;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The gemini provider in front of the fake Gemini API, held to the plugin contract. */
class GeminiProviderTckTest extends ProviderTck {

    @RegisterExtension
    static final FakeGeminiUpstreamExtension GEMINI = new FakeGeminiUpstreamExtension();

    @BeforeEach
    void paceTheStream() {
        // several upstream reads per stream, so cancellation and back-pressure bite
        GEMINI.upstream().requireApiKey("AIza-tck")
                .behave(GeminiBehaviour.normal().chunks(8).intervalMs(5))
                .behaveFor("gemini-fails", GeminiBehaviour.error(500))
                .behaveFor("gemini-hangs", GeminiBehaviour.hang())
                .behaveFor("gemini-rate-limited", GeminiBehaviour.error(429).retryDelay("2s"));
    }

    @Override
    protected String failingUpstreamModel() {
        return "gemini-fails";
    }

    @Override
    protected String hangingUpstreamModel() {
        return "gemini-hangs";
    }

    @Override
    protected String rateLimitedUpstreamModel() {
        return "gemini-rate-limited";
    }

    @Override
    protected ProviderEndpoint endpoint(Vertx vertx) {
        return new GeminiProvider().create(providerContext(vertx, "tck", name -> "GEMINI_KEY".equals(name)
                ? "AIza-tck" : null), new JsonObject().put("base_url", GEMINI.upstream().baseUrl())
                .put("api_key_env", "GEMINI_KEY"));
    }

    @Override
    protected String upstreamModel() {
        return "gemini-test";
    }
}
