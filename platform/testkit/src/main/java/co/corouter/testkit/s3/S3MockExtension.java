package co.corouter.testkit.s3;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.util.function.Consumer;

/**
 * One {@link S3MockServer} per test class, running again before each test if a test left it stopped for an outage,
 * and injectable as a test-method parameter. Objects stay between tests: give each test its own keys or prefix.
 *
 * <pre>
 * {@literal @}RegisterExtension
 * static final S3MockExtension S3 = new S3MockExtension(s3 -&gt; s3.bucket("audit"));
 * </pre>
 */
public final class S3MockExtension implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback,
        ParameterResolver {

    private final Consumer<S3MockServer.Builder> setUp;
    private S3MockServer server;

    /** {@code setUp} names the buckets (and, rarely, the version or jar) before S3Mock starts. */
    public S3MockExtension(Consumer<S3MockServer.Builder> setUp) {
        this.setUp = setUp;
    }

    /** The running server. */
    public S3MockServer server() {
        if (server == null) {
            throw new IllegalStateException("S3MockExtension is not started; register it in a static field");
        }
        return server;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        S3MockServer.Builder builder = S3MockServer.builder();
        setUp.accept(builder);
        server = builder.start();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (!server().running()) {
            server().restart();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == S3MockServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return server();
    }
}
