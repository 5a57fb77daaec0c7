package co.corouter.testkit.plugin;

import co.corouter.plugin.api.PluginApi;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;

/**
 * One packaged plugin (a jar as the build produced it), copied into a plugins directory and loaded with PF4J the way
 * the server's {@code PluginHost} loads it: a {@link DefaultPluginManager} on that directory, system version
 * {@link PluginApi#VERSION}, the {@code Plugin-Requires} range checked, the plugin started, extensions looked up by
 * plugin id. So a test exercises the artifact, its manifest, its {@code extensions.idx} and its class loader, never
 * classes from the test classpath.
 *
 * <pre>
 * try (LoadedPlugin plugin = LoadedPlugin.load(Path.of(System.getProperty("corouter.test.plugin.jar")), tempDir)) {
 *     AuditSink sink = plugin.extension(AuditSink.class);
 * }
 * </pre>
 */
public final class LoadedPlugin implements AutoCloseable {

    private final DefaultPluginManager manager;
    private final PluginWrapper plugin;

    private LoadedPlugin(DefaultPluginManager manager, PluginWrapper plugin) {
        this.manager = manager;
        this.plugin = plugin;
    }

    /**
     * Copies {@code pluginFile} into {@code pluginsDir} and loads and starts it. Blocks (jar scanning, class loading).
     *
     * @throws IllegalStateException when the plugin does not load, does not fit the API version or does not start
     */
    public static LoadedPlugin load(Path pluginFile, Path pluginsDir) {
        if (!Files.isRegularFile(pluginFile)) {
            throw new IllegalStateException("no plugin artifact at " + pluginFile + " (is the module packaged?)");
        }
        Path installed = pluginsDir.resolve(pluginFile.getFileName());
        try {
            Files.createDirectories(pluginsDir);
            Files.copy(pluginFile, installed);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        DefaultPluginManager manager = new DefaultPluginManager(pluginsDir);
        manager.setSystemVersion(PluginApi.VERSION);
        String id = manager.loadPlugin(installed);
        PluginWrapper plugin = manager.getPlugin(id);
        String requires = plugin.getDescriptor().getRequires();
        if (!manager.getVersionManager().checkVersionConstraint(PluginApi.VERSION, requires)) {
            manager.unloadPlugins();
            throw new IllegalStateException(id + " requires plugin-api " + requires + " but the host implements "
                    + PluginApi.VERSION);
        }
        PluginState state = manager.startPlugin(id);
        if (state != PluginState.STARTED) {
            Throwable cause = plugin.getFailedException();
            manager.unloadPlugins();
            throw new IllegalStateException(id + " did not start (state " + state + ")", cause);
        }
        return new LoadedPlugin(manager, plugin);
    }

    /** The plugin's extensions of one extension point, created by PF4J in the plugin's class loader. */
    public <T> List<T> extensions(Class<T> type) {
        return manager.getExtensions(type, plugin.getPluginId());
    }

    /** The plugin's only extension of {@code type}. */
    public <T> T extension(Class<T> type) {
        List<T> found = extensions(type);
        if (found.size() != 1) {
            throw new IllegalStateException(plugin.getPluginId() + " has " + found.size() + " extensions of "
                    + type.getName() + ", expected one");
        }
        return found.get(0);
    }

    public ClassLoader classLoader() {
        return plugin.getPluginClassLoader();
    }

    public String id() {
        return plugin.getPluginId();
    }

    /** The descriptor's {@code Plugin-Requires}. */
    public String requires() {
        return plugin.getDescriptor().getRequires();
    }

    /** Stops and unloads the plugin (closing its class loader). */
    @Override
    public void close() {
        manager.stopPlugins();
        manager.unloadPlugins();
    }
}
