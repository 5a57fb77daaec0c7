package co.corouter.server.routing;

import co.corouter.plugin.api.ModelProvider;
import co.corouter.plugin.api.PluginApi;
import co.corouter.plugin.api.audit.AuditSink;
import co.corouter.plugin.api.payment.PaymentProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads plugins (model providers, payment processors and audit sinks) with PF4J from the plugins directory. Every method blocks (jar scanning, class
 * loading, plugin start/stop): call them at boot or from {@code executeBlocking}, never on an event loop.
 *
 * <p>A plugin that fails (bad jar, wrong plugin-api range, exception in start or in its extension constructor)
 * is reported once in {@link #statuses()} and the log, and skipped; the host carries on.
 */
public final class PluginHost {

    private static final Logger log = LoggerFactory.getLogger(PluginHost.class);

    /** What happened to one plugin. {@code error} is null when it runs. */
    public record PluginStatus(String id, String version, String state, String requires, String error) {
    }

    private final Path directory;
    private PluginManager manager;
    private final Map<String, ModelProvider> providersByType = new LinkedHashMap<>();
    private final Map<String, PaymentProcessor> processorsByType = new LinkedHashMap<>();
    private final Map<String, AuditSink> auditSinksByType = new LinkedHashMap<>();
    private final List<PluginStatus> statuses = new ArrayList<>();

    public PluginHost(Path directory) {
        this.directory = directory;
    }

    /** Loads and starts every plugin in the directory; returns the model providers found, by type. */
    public synchronized Map<String, ModelProvider> start() {
        if (!Files.isDirectory(directory)) {
            log.warn("plugins directory {} does not exist: no provider plugins loaded", directory);
            return Map.of();
        }
        DefaultPluginManager pm = new DefaultPluginManager(directory);
        pm.setSystemVersion(PluginApi.VERSION);
        manager = pm;
        for (Path candidate : candidates()) {
            try {
                pm.loadPlugin(candidate);
            } catch (RuntimeException | LinkageError e) {
                String error = "not a loadable plugin: " + e.getMessage();
                log.error("plugin file {} refused: {}", candidate.getFileName(), error);
                statuses.add(new PluginStatus(candidate.getFileName().toString(), null, "FAILED", null, error));
            }
        }
        for (PluginWrapper plugin : pm.getPlugins()) {
            String requires = plugin.getDescriptor().getRequires();
            if (!pm.getVersionManager().checkVersionConstraint(PluginApi.VERSION, requires)) {
                String error = "requires plugin-api " + requires + " but this host implements " + PluginApi.VERSION;
                fail(pm, plugin, error);
                continue;
            }
            String pluginClass = plugin.getDescriptor().getPluginClass();
            if (pluginClass != null && !pluginClass.isBlank() && !pluginClass.equals(org.pf4j.Plugin.class.getName())) {
                try {
                    Class.forName(pluginClass, false, plugin.getPluginClassLoader());
                } catch (ClassNotFoundException | LinkageError e) {
                    fail(pm, plugin, "its Plugin-Class " + pluginClass + " cannot be loaded: " + e);
                    continue;
                }
            }
            try {
                PluginState state = pm.startPlugin(plugin.getPluginId());
                if (state != PluginState.STARTED) {
                    Throwable cause = plugin.getFailedException();
                    fail(pm, plugin, "did not start (state " + state + ")" + (cause == null ? "" : ": " + cause));
                    continue;
                }
                collectProviders(pm, plugin);
            } catch (RuntimeException | LinkageError e) {
                fail(pm, plugin, "failed to start: " + e);
            }
        }
        log.info("plugins loaded from {}: {}", directory, statuses);
        return Map.copyOf(providersByType);
    }

    private void collectProviders(PluginManager pm, PluginWrapper plugin) {
        List<ModelProvider> found;
        List<PaymentProcessor> processors;
        List<AuditSink> auditSinks;
        try {
            found = pm.getExtensions(ModelProvider.class, plugin.getPluginId());
            processors = pm.getExtensions(PaymentProcessor.class, plugin.getPluginId());
            auditSinks = pm.getExtensions(AuditSink.class, plugin.getPluginId());
        } catch (RuntimeException | LinkageError e) {
            fail(pm, plugin, "its extensions could not be created: " + e);
            return;
        }
        List<String> types = new ArrayList<>();
        for (ModelProvider provider : found) {
            String type = provider.type();
            ModelProvider previous = providersByType.putIfAbsent(type, provider);
            if (previous != null) {
                log.error("plugin {} declares provider type '{}' which another plugin already declares; ignored",
                        plugin.getPluginId(), type);
                continue;
            }
            types.add(type);
        }
        for (PaymentProcessor processor : processors) {
            String type = processor.type();
            if (processorsByType.putIfAbsent(type, processor) != null) {
                log.error("plugin {} declares payment processor type '{}' which another plugin already declares; "
                        + "ignored", plugin.getPluginId(), type);
                continue;
            }
            types.add("payment:" + type);
        }
        for (AuditSink sink : auditSinks) {
            String type = sink.type();
            if (auditSinksByType.putIfAbsent(type, sink) != null) {
                log.error("plugin {} declares audit sink type '{}' which another plugin already declares; ignored",
                        plugin.getPluginId(), type);
                continue;
            }
            types.add("audit:" + type);
        }
        statuses.add(new PluginStatus(plugin.getPluginId(), plugin.getDescriptor().getVersion(), "STARTED",
                plugin.getDescriptor().getRequires(), null));
        log.info("plugin {} {} started; extension types {}", plugin.getPluginId(), plugin.getDescriptor().getVersion(),
                types);
    }

    private void fail(PluginManager pm, PluginWrapper plugin, String error) {
        log.error("plugin {} {} refused: {}", plugin.getPluginId(), plugin.getDescriptor().getVersion(), error);
        statuses.add(new PluginStatus(plugin.getPluginId(), plugin.getDescriptor().getVersion(), "FAILED",
                plugin.getDescriptor().getRequires(), error));
        try {
            pm.unloadPlugin(plugin.getPluginId());
        } catch (RuntimeException e) {
            log.warn("plugin {} could not be unloaded cleanly: {}", plugin.getPluginId(), e.toString());
        }
    }

    /** Plugin jars, zips and unpacked plugin directories, in a stable order. */
    private List<Path> candidates() {
        try (var entries = Files.list(directory)) {
            return entries.filter(path -> Files.isDirectory(path) || path.toString().endsWith(".jar")
                            || path.toString().endsWith(".zip"))
                    .filter(path -> !path.getFileName().toString().startsWith("."))
                    .sorted()
                    .toList();
        } catch (java.io.IOException e) {
            log.error("cannot list the plugins directory {}: {}", directory, e.toString());
            return List.of();
        }
    }

    /** The payment processors found by {@link #start}, by type. */
    /** The audit sinks the started plugins offer, by type. */
    public synchronized Map<String, AuditSink> auditSinks() {
        return Map.copyOf(auditSinksByType);
    }

    public synchronized Map<String, PaymentProcessor> paymentProcessors() {
        return Map.copyOf(processorsByType);
    }

    public synchronized List<PluginStatus> statuses() {
        return List.copyOf(statuses);
    }

    /** Stops and unloads every plugin. */
    public synchronized void stop() {
        if (manager == null) {
            return;
        }
        try {
            manager.stopPlugins();
            manager.unloadPlugins();
        } catch (RuntimeException e) {
            log.warn("stopping plugins: {}", e.toString());
        }
        manager = null;
        providersByType.clear();
        processorsByType.clear();
    }
}
