package co.corouter.provider.mock;

import co.corouter.plugin.api.ModelProvider;
import co.corouter.plugin.api.ProviderContext;
import co.corouter.plugin.api.ProviderEndpoint;
import io.vertx.core.json.JsonObject;
import org.pf4j.Extension;

/**
 * The {@code mock} provider type: a deterministic simulated model that needs no network, used as the
 * embedded default, in tests and in benchmarks.
 *
 * <pre>
 * providers:
 *   mock:
 *     type: mock
 *     config:
 *       latency_ms: 0          # before the first streamed byte / the whole answer
 *       chunk_count: 8         # content deltas per stream
 *       chunk_interval_ms: 0   # between stream writes; 0 = the whole stream in one write
 *       completion_tokens: 16  # capped by the request's max tokens (finish_reason "length")
 *       # prompt_tokens: 100   # fixed; by default ceil(UTF-8 bytes of the messages / 4) + 4 per message
 * </pre>
 *
 * <p>The same model and messages always get the same answer. Stream events carry the request's generation id and
 * response model. Upstream model names ask for failures ({@link MockBehaviour}): {@code -error} fails with
 * {@code UPSTREAM_ERROR} before any output, {@code -error-midstream} fails a stream after half its deltas,
 * {@code -rate-limited} fails with {@code RATE_LIMITED} (retry after 1000 ms), {@code -overloaded} with
 * {@code OVERLOADED}, and {@code -hang} never answers. A call whose configured pacing breaks the request's
 * budget, first-byte or idle limit fails with {@code TIMEOUT} at that limit; a cancelled call stops its timers
 * and fails with {@code CANCELLED}. The config schema is {@code META-INF/corouter/config.schema.json}.
 */
@Extension
public final class MockProvider implements ModelProvider {

    public static final String TYPE = "mock";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public ProviderEndpoint create(ProviderContext context, JsonObject config) {
        return new MockEndpoint(context.vertx(), MockOptions.from(config));
    }
}
