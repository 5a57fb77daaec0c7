package co.corouter.testkit.kafka;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * One {@link KafkaBroker} per test class: started before the first test, stopped and deleted after the last, and
 * injectable as a test-method parameter.
 *
 * <pre>
 * {@literal @}RegisterExtension
 * static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension(KafkaBroker.builder().autoCreateTopics(false));
 * </pre>
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {

    private final KafkaBroker.Builder builder;
    private KafkaBroker broker;

    public KafkaBrokerExtension(KafkaBroker.Builder builder) {
        this.builder = builder;
    }

    /** The running broker. */
    public KafkaBroker broker() {
        if (broker == null) {
            throw new IllegalStateException("KafkaBrokerExtension is not started; register it in a static field");
        }
        return broker;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        broker = builder.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (broker != null) {
            broker.close();
            broker = null;
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == KafkaBroker.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return broker();
    }
}
