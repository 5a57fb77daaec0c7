package co.corouter.plugin.api;

/**
 * Version of this contract. A plugin declares the range it supports in {@code Plugin-Requires}
 * (for example {@code >=1.0.0 & <2.0.0}); the host refuses a plugin whose range does not include
 * {@link #VERSION}, with a message naming both.
 */
public final class PluginApi {

    /** Semantic version of the plugin API implemented by this host. */
    public static final String VERSION = "1.6.0";

    private PluginApi() {
    }
}
