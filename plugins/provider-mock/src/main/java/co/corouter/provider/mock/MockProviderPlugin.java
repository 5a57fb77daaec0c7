package co.corouter.provider.mock;

import org.pf4j.Plugin;

/** PF4J entry point of the mock provider plugin; the work is done by the {@link MockProvider} extension. */
public final class MockProviderPlugin extends Plugin {
}
