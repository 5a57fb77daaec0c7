package co.corouter.provider.anthropic;

import org.pf4j.Plugin;

/** PF4J entry point. The plugin has no life-cycle of its own: each endpoint owns its HTTP client. */
public class AnthropicProviderPlugin extends Plugin {
}
