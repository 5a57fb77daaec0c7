package co.corouter.audit.file;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditContext;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditSink;
import co.corouter.testkit.audit.AuditBatches;
import co.corouter.testkit.audit.EventLoop;
import co.corouter.testkit.audit.TestEndpointGuard;
import co.corouter.testkit.plugin.LoadedPlugin;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar, loaded by PF4J from a plugins directory as the server loads it, writes through the host's API. */
@ExtendWith(VertxExtension.class)
class FilePluginIT {

    private static final Path PLUGIN_JAR = Path.of(System.getProperty("corouter.test.plugin.jar"));

    @TempDir
    Path temp;

    private LoadedPlugin plugin;

    @AfterEach
    void unload() {
        if (plugin != null) {
            plugin.close();
        }
    }

    @Test
    void thePackagedPluginLoadsInItsOwnClassLoaderAndWritesJsonLines(Vertx vertx, VertxTestContext testContext)
            throws Exception {
        plugin = LoadedPlugin.load(PLUGIN_JAR, temp.resolve("plugins"));
        AuditSink sink = plugin.extension(AuditSink.class);
        Path root = temp.resolve("audit/7");
        AuditDestination destination = sink.open(new AuditContext(vertx, 7, new TestEndpointGuard(vertx), root),
                new JsonObject().put("path", "requests"));
        AuditBatch batch = AuditBatches.batch(7, Instant.parse("2025-05-05T05:05:05Z"), 3);
        EventLoop loop = new EventLoop(vertx);

        assertThat(plugin.id()).isEqualTo("audit-file");
        assertThat(plugin.requires()).isEqualTo(">=1.6.0 & <2.0.0");
        assertThat(sink.type()).isEqualTo("file");
        assertThat(sink.getClass().getClassLoader()).isSameAs(plugin.classLoader());
        assertThat(getClass().getClassLoader().getResource("co/corouter/audit/file/FileAuditSink.class"))
                .as("the plugin's classes are not on the host's classpath").isNull();
        try (InputStream schema = plugin.classLoader()
                .getResourceAsStream("META-INF/corouter/audit/file.schema.json")) {
            assertThat(schema).isNotNull();
        }

        loop.call(destination::test)
                .compose(tested -> loop.call(() -> destination.write(batch)))
                .compose(written -> loop.call(destination::close))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(Files.readAllBytes(root.resolve("requests/audit-2025-05-05-000001.jsonl")))
                            .isEqualTo(AuditBatches.jsonLines(List.of(batch)).getBytes());
                    try (var files = Files.list(root.resolve("requests"))) {
                        assertThat(files).hasSize(1);
                    }
                    testContext.completeNow();
                })));
    }
}
