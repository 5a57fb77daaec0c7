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
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Provider plugins come only from jars in the plugins directory, each in its own class loader; a broken, too new or
 * misdeclared plugin is reported FAILED and skipped while the good ones serve traffic.
 */
class PluginLoadingTest {

    private static final Path BUILT_PLUGINS = Path.of(System.getProperty("corouter.test.plugins", "target/test-plugins"));
    private static final Path MOCK_JAR = BUILT_PLUGINS.resolve("corouter-provider-mock.jar");

    /** Created before the extension's beforeAll reads it; deleted by the JVM's temp cleanup is not needed. */
    private static final Path NODE_PLUGINS = pluginsWithBadNeighbours(createTempDirectory());

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
    void theGoodPluginsLoadAndEachBadOneIsReportedFailedWithItsReason() {
        pluginsWithBadNeighbours(pluginsDir);
        host = new PluginHost(pluginsDir);

        Map<String, ModelProvider> providers = host.start();

        assertThat(providers).containsOnlyKeys("mock", "openai");
        assertThat(host.statuses()).filteredOn(s -> s.state().equals("STARTED")).extracting(PluginStatus::id)
                .containsExactlyInAnyOrder("provider-mock", "provider-openai");
        assertThat(host.statuses()).filteredOn(s -> s.state().equals("STARTED"))
                .allSatisfy(s -> assertThat(s.error()).isNull());

        PluginStatus future = status("provider-future");
        assertThat(future.state()).isEqualTo("FAILED");
        assertThat(future.requires()).isEqualTo(">=9.0.0");
        assertThat(future.error()).contains(">=9.0.0").contains(PluginApi.VERSION).isEqualTo(
                "requires plugin-api >=9.0.0 but this host implements 1.0.0");

        PluginStatus ghost = status("provider-ghost");
        assertThat(ghost.state()).isEqualTo("FAILED");
        assertThat(ghost.error()).isNotBlank();

        System.out.println("STATUSES " + host.statuses());
    }

    private PluginStatus status(String id) {
        return host.statuses().stream().filter(s -> s.id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no status for " + id + " in " + host.statuses()));
    }

    // ------------------------------------------------------------------------------------------------------------

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
