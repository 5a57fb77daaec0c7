package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.plugin.api.ModelProvider;
import co.corouter.plugin.api.PluginApi;
import co.corouter.server.routing.PluginHost;
import co.corouter.server.routing.PluginHost.PluginStatus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Provider plugins come only from jars in the plugins directory, each in its own class loader; a corrupt jar is
 * skipped, a too new or misdeclared plugin is reported FAILED, and the good ones serve traffic.
 */
class PluginLoadingTest {

    private static final Path BUILT_PLUGINS = Path.of(System.getProperty("corouter.test.plugins", "target/test-plugins"));
    /** Every provider plugin the build produces; each must load beside the bad neighbours. */
    private static final String[] GOOD_TYPES = {"mock", "openai", "anthropic", "gemini"};
    private static final String[] GOOD_PLUGINS = {"provider-mock", "provider-openai", "provider-anthropic",
            "provider-gemini", "payment-creem", "audit-s3", "audit-kafka", "audit-file"};
    private static final Path MOCK_JAR = BUILT_PLUGINS.resolve("corouter-provider-mock.jar");

    /** Must exist before the extension's beforeAll starts the node, hence static and not a {@code @TempDir}. */
    private static final Path NODE_PLUGINS = pluginsWithBadNeighbours(createTempDirectory());

    /** Declared before the node so that it runs after the node has stopped and unloaded the jars. */
    @RegisterExtension
    static final AfterAllCallback DELETE_NODE_PLUGINS = context -> deleteTree(NODE_PLUGINS);

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().pluginsDir(NODE_PLUGINS).build();

    @TempDir
    Path pluginsDir;

    private PluginHost host;

    @AfterEach
    void stopHost() {
        if (host != null) {
            host.stop();
        }
    }

    @Test
    void theGoodPluginsLoadAndTheTooNewAndMisdeclaredOnesAreReportedFailed() {
        pluginsWithBadNeighbours(pluginsDir);
        host = new PluginHost(pluginsDir);

        Map<String, ModelProvider> providers = host.start();

        assertThat(providers).containsOnlyKeys(GOOD_TYPES);
        // payment processors load through the same host, as their own extension point
        assertThat(host.paymentProcessors()).containsOnlyKeys("creem");
        // and audit sinks as theirs (each shaded jar with its own third-party libraries inside)
        assertThat(host.auditSinks()).containsOnlyKeys("s3", "kafka", "file");
        assertThat(host.statuses()).extracting(PluginStatus::id)
                .contains("provider-mock", "provider-openai", "provider-future", "provider-ghost");
        assertThat(host.statuses()).filteredOn(s -> s.state().equals("STARTED")).extracting(PluginStatus::id)
                .containsExactlyInAnyOrder(GOOD_PLUGINS);
        assertThat(host.statuses()).filteredOn(s -> s.state().equals("STARTED"))
                .allSatisfy(s -> assertThat(s.error()).isNull());

        PluginStatus ghost = status("provider-ghost");
        assertThat(ghost.state()).isEqualTo("FAILED");
        assertThat(ghost.error()).contains("NoSuchPlugin");
        PluginStatus broken = status("broken.jar");
        assertThat(broken.state()).isEqualTo("FAILED");
        assertThat(broken.error()).startsWith("not a loadable plugin");
    }

    @Test
    void aPluginNeedingANewerPluginApiIsRefusedNamingTheRangeAndTheHostVersion() {
        pluginsWithBadNeighbours(pluginsDir);
        host = new PluginHost(pluginsDir);

        host.start();

        PluginStatus future = status("provider-future");
        assertThat(future.state()).isEqualTo("FAILED");
        assertThat(future.requires()).isEqualTo(">=9.0.0");
        assertThat(future.error()).contains(">=9.0.0").contains(PluginApi.VERSION)
                .isEqualTo("requires plugin-api >=9.0.0 but this host implements " + PluginApi.VERSION);
    }

    @Test
    void eachProviderComesFromItsOwnJarInItsOwnClassLoaderNotFromTheBadCopies() throws Exception {
        pluginsWithBadNeighbours(pluginsDir);
        host = new PluginHost(pluginsDir);

        Map<String, ModelProvider> providers = host.start();

        ModelProvider mock = providers.get("mock");
        ModelProvider openai = providers.get("openai");
        assertThat(mock.type()).isEqualTo("mock");
        assertThat(openai.type()).isEqualTo("openai");
        assertThat(mock.getClass().getName()).isEqualTo("co.corouter.provider.mock.MockProvider");
        assertThat(jarOf(mock)).isEqualTo(pluginsDir.resolve("corouter-provider-mock.jar").toRealPath());
        assertThat(jarOf(openai)).isEqualTo(pluginsDir.resolve("corouter-provider-openai.jar").toRealPath());
        ClassLoader testLoader = getClass().getClassLoader();
        assertThat(mock.getClass().getClassLoader()).isNotSameAs(testLoader)
                .isNotSameAs(openai.getClass().getClassLoader());
        // the contract is shared through the parent, so the host can call what the plugin implements
        assertThat(mock.getClass().getClassLoader().loadClass(ModelProvider.class.getName()))
                .isSameAs(ModelProvider.class);
    }

    @Test
    void theHostCarriesOnAfterACorruptJarAndCanBeStoppedAndStartedAgain() {
        pluginsWithBadNeighbours(pluginsDir);
        assertThat(pluginsDir.resolve("broken.jar")).isRegularFile();
        host = new PluginHost(pluginsDir);
        assertThat(host.start()).containsOnlyKeys(GOOD_TYPES);
        List<PluginStatus> first = host.statuses();
        host.stop();

        host = new PluginHost(pluginsDir);
        Map<String, ModelProvider> again = host.start();

        assertThat(again).containsOnlyKeys(GOOD_TYPES);
        assertThat(host.statuses()).containsExactlyInAnyOrderElementsOf(first);
    }

    @Test
    void aMissingOrEmptyPluginsDirectoryLoadsNothingWithoutFailing() throws IOException {
        host = new PluginHost(pluginsDir.resolve("absent"));
        assertThat(host.start()).isEmpty();
        assertThat(host.statuses()).isEmpty();
        host.stop();

        Path empty = Files.createDirectory(pluginsDir.resolve("empty"));
        host = new PluginHost(empty);
        assertThat(host.start()).isEmpty();
        assertThat(host.statuses()).isEmpty();
    }

    @Test
    void pluginClassesAreNotOnTheTestClasspath() {
        assertThatThrownBy(() -> Class.forName("co.corouter.provider.mock.MockProvider"))
                .isInstanceOf(ClassNotFoundException.class);
        for (String provider : List.of("co.corouter.provider.openai.OpenAiProvider",
                "co.corouter.provider.anthropic.AnthropicProvider", "co.corouter.provider.gemini.GeminiProvider")) {
            assertThatThrownBy(() -> Class.forName(provider, false, getClass().getClassLoader()))
                    .as(provider).isInstanceOf(ClassNotFoundException.class);
        }
    }

    @Test
    void aNodeWithBadPluginsBesideTheGoodOnesServesAChatCompletionAndChargesIt() {
        CorouterNode.Account account = NODE.newAccount("1.00");
        JsonObject request = new JsonObject().put("model", CorouterNode.MOCK_MODEL)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "Hello")));

        HttpResponse<String> response = NODE.chat(account.key(), request);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonObject body = new JsonObject(response.body());
        assertThat(body.getJsonArray("choices").getJsonObject(0).getJsonObject("message").getString("content"))
                .isNotBlank();
        NODE.flushUsage();
        long charged = NODE.chargeFor(response.headers().firstValue("X-Generation-Id").orElseThrow());
        assertThat(charged).isPositive();
        assertThat(NODE.balance(account.id())).isEqualTo(1_000_000_000L - charged);
    }

    @Test
    void readyAnswers200AndReportsEveryPluginAndProviderInstance() {
        HttpResponse<String> response = NODE.get("/ready", null);

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonObject ready = new JsonObject(response.body());
        assertThat(ready.getBoolean("ready")).isTrue();
        assertThat(ready.getBoolean("database")).isTrue();
        Map<String, JsonObject> plugins = byKey(ready.getJsonArray("plugins"), "id");
        assertThat(plugins).containsKeys("provider-mock", "provider-openai", "provider-future", "provider-ghost",
                "broken.jar");
        assertThat(plugins.values()).filteredOn(p -> p.getString("state").equals("STARTED"))
                .extracting(p -> p.getString("id")).containsExactlyInAnyOrder(GOOD_PLUGINS);
        assertThat(plugins.get("provider-mock").getString("state")).isEqualTo("STARTED");
        assertThat(plugins.get("provider-mock").getString("version")).isNotBlank();
        assertThat(plugins.get("provider-openai").getString("state")).isEqualTo("STARTED");
        assertThat(plugins.get("provider-future").getString("state")).isEqualTo("FAILED");
        assertThat(plugins.get("provider-future").getString("error")).contains(">=9.0.0").contains(PluginApi.VERSION);
        assertThat(plugins.get("provider-ghost").getString("state")).isEqualTo("FAILED");
        assertThat(plugins.get("provider-ghost").getString("error")).contains("NoSuchPlugin");
        assertThat(plugins.get("broken.jar").getString("state")).isEqualTo("FAILED");
        Map<String, JsonObject> instances = byKey(ready.getJsonArray("providers"), "name");
        assertThat(instances).containsKey("mock");
        assertThat(instances.get("mock").getString("type")).isEqualTo("mock");
        assertThat(instances.get("mock").getBoolean("up")).isTrue();
    }

    private static Map<String, JsonObject> byKey(JsonArray array, String key) {
        assertThat(array).as("array with '%s'", key).isNotNull();
        Map<String, JsonObject> map = new LinkedHashMap<>();
        array.forEach(item -> map.put(((JsonObject) item).getString(key), (JsonObject) item));
        assertThat(map).as("unique '%s' values", key).hasSameSizeAs(array.getList());
        return map;
    }

    private static Path jarOf(Object instance) throws Exception {
        return Path.of(instance.getClass().getProtectionDomain().getCodeSource().getLocation().toURI()).toRealPath();
    }

    private PluginStatus status(String id) {
        return host.statuses().stream().filter(s -> s.id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no status for " + id + " in " + host.statuses()));
    }

    // ------------------------------------------------------------------------------------------------------------

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    private static Path createTempDirectory() {
        try {
            return Files.createTempDirectory("corouter-plugins");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The real built plugin jars plus a corrupt jar, a plugin needing plugin-api 9 and one with a missing class. */
    static Path pluginsWithBadNeighbours(Path dir) {
        try (Stream<Path> jars = Files.list(BUILT_PLUGINS)) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).toList()) {
                Files.copy(jar, dir.resolve(jar.getFileName()));
            }
            byte[] garbage = new byte[4096];
            new Random(42).nextBytes(garbage);
            Files.write(dir.resolve("broken.jar"), garbage);
            rewriteManifest(MOCK_JAR, dir.resolve("provider-future.jar"), Map.of(
                    "Plugin-Id", "provider-future", "Plugin-Requires", ">=9.0.0"));
            rewriteManifest(MOCK_JAR, dir.resolve("provider-ghost.jar"), Map.of(
                    "Plugin-Id", "provider-ghost", "Plugin-Class", "co.corouter.provider.ghost.NoSuchPlugin"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Copies every entry of {@code source} into {@code target}, with the manifest's main attributes changed. */
    static void rewriteManifest(Path source, Path target, Map<String, String> attributes) throws IOException {
        try (JarInputStream in = new JarInputStream(Files.newInputStream(source))) {
            Manifest manifest = new Manifest(in.getManifest());
            attributes.forEach((name, value) -> manifest.getMainAttributes().put(new Attributes.Name(name), value));
            try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(target), manifest)) {
                for (JarEntry entry = in.getNextJarEntry(); entry != null; entry = in.getNextJarEntry()) {
                    if (entry.getName().equals(JarFile.MANIFEST_NAME)) {
                        continue;
                    }
                    out.putNextEntry(new JarEntry(entry.getName()));
                    in.transferTo(out);
                    out.closeEntry();
                }
            }
        }
    }
}
