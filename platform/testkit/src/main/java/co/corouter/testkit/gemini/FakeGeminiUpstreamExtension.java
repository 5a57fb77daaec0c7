package co.corouter.testkit.gemini;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.util.concurrent.TimeUnit;

/**
 * One {@link FakeGeminiUpstream} per test class, on its own Vert.x instance (as the real API runs in another process),
 * reset before every test and injectable as a test-method parameter.
 *
 * <pre>
 * {@literal @}RegisterExtension
 * static final FakeGeminiUpstreamExtension GEMINI = new FakeGeminiUpstreamExtension();
 *
 * {@literal @}Test
 * void streams(Vertx vertx, VertxTestContext testContext, FakeGeminiUpstream upstream) { ... }
 * </pre>
 * Register it in a {@code static} field: it starts in {@code beforeAll} and stops in {@code afterAll}.
 */
public final class FakeGeminiUpstreamExtension
        implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback, ParameterResolver {

    private static final long START_TIMEOUT_SECONDS = 10;

    private Vertx vertx;
    private FakeGeminiUpstream upstream;

    /** The running fake. */
    public FakeGeminiUpstream upstream() {
        if (upstream == null) {
            throw new IllegalStateException(
                    "FakeGeminiUpstreamExtension is not started; register it in a static field");
        }
        return upstream;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        vertx = Vertx.vertx();
        upstream = new FakeGeminiUpstream().start(vertx).await(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        upstream().reset();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (vertx != null) {
            vertx.close().await(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            vertx = null;
            upstream = null;
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == FakeGeminiUpstream.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return upstream();
    }
}
