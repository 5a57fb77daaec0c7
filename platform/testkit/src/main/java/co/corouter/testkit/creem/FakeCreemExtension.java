package co.corouter.testkit.creem;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One {@link FakeCreem} per test class, on its own Vert.x instance (as Creem runs elsewhere), {@link FakeCreem#reset
 * reset} before every test (products and keys stay) and injectable as a test-method parameter.
 *
 * <pre>
 * {@literal @}RegisterExtension
 * static final FakeCreemExtension CREEM = new FakeCreemExtension(creem -&gt; creem.apiKey("creem_test_K")
 *         .webhookSecret("whsec_S").product("prod_10", "$10 credit", 1000, "USD"));
 * </pre>
 */
public final class FakeCreemExtension
        implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback, ParameterResolver {

    private static final long START_TIMEOUT_SECONDS = 10;

    private final Consumer<FakeCreem> setUp;
    private Vertx vertx;
    private FakeCreem creem;

    /** {@code setUp} configures keys and products once, before the fake starts. */
    public FakeCreemExtension(Consumer<FakeCreem> setUp) {
        this.setUp = setUp;
    }

    /** The running fake. */
    public FakeCreem creem() {
        if (creem == null) {
            throw new IllegalStateException("FakeCreemExtension is not started; register it in a static field");
        }
        return creem;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        vertx = Vertx.vertx();
        FakeCreem created = new FakeCreem();
        setUp.accept(created);
        creem = created.start(vertx).await(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        creem().reset();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (vertx != null) {
            vertx.close().await(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            vertx = null;
            creem = null;
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == FakeCreem.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return creem();
    }
}
