package co.corouter.audit.s3;

import co.corouter.plugin.api.PluginApi;
import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditSink;
import co.corouter.testkit.s3.S3MockExtension;
import co.corouter.testkit.s3.S3MockServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The packaged plugin jar ({@code target/corouter-audit-s3-<version>.jar}) loaded with PF4J from a directory as the
 * server's {@code PluginHost} loads plugins. Failsafe runs this on a class path without the AWS SDK and without this
 * module's classes, so everything the sink needs beyond the host's API, Vert.x and SLF4J must come from the jar.
 */
@ExtendWith(VertxExtension.class)
class PackagedPluginIT {

    private static final String BUCKET = "audit";
    /** What the host provides; the plugin must not carry a copy. */
    private static final List<String> HOST_PACKAGES = List.of("co/corouter/plugin/", "org/pf4j/", "io/vertx/",
            "io/netty/", "org/slf4j/", "com/fasterxml/jackson/");

    @RegisterExtension
    static final S3MockExtension S3 = new S3MockExtension(s3 -> s3.bucket(BUCKET));

    @TempDir
    static Path pluginsDirectory;

    private static Path jar;
    private static DefaultPluginManager manager;
    private static PluginWrapper plugin;
    private static AuditSink sink;

    @BeforeAll
    static void loadThePluginAsTheServerDoes() throws Exception {
        Path built = Path.of(System.getProperty("corouter.test.plugin.jar"));
        jar = Files.copy(built, pluginsDirectory.resolve(built.getFileName()));
        manager = new DefaultPluginManager(pluginsDirectory);
        manager.setSystemVersion(PluginApi.VERSION);
        String id = manager.loadPlugin(jar);
        plugin = manager.getPlugin(id);
        assertThat(manager.getVersionManager().checkVersionConstraint(PluginApi.VERSION,
                plugin.getDescriptor().getRequires())).isTrue();
        assertThat(manager.startPlugin(id)).isEqualTo(PluginState.STARTED);
        List<AuditSink> sinks = manager.getExtensions(AuditSink.class, id);
        assertThat(sinks).hasSize(1);
        sink = sinks.get(0);
    }

    @AfterAll
    static void unload() {
        if (manager != null) {
            manager.stopPlugins();
            manager.unloadPlugins();
        }
    }

    @Test
    void theJarDeclaresThePluginAndCarriesTheSdkButNothingTheHostProvides() throws Exception {
        assertThat(plugin.getPluginId()).isEqualTo("audit-s3");
        assertThat(plugin.getDescriptor().getRequires()).isEqualTo(">=1.6.0 & <2.0.0");
        assertThat(sink.type()).isEqualTo("s3");
        try (JarFile file = new JarFile(jar.toFile())) {
            List<String> names = Collections.list(file.entries()).stream().map(ZipEntry::getName).toList();
            assertThat(names).contains("software/amazon/awssdk/services/s3/S3AsyncClient.class",
                    "software/amazon/awssdk/services/sts/StsAsyncClient.class",
                    "org/reactivestreams/Publisher.class", "META-INF/extensions.idx",
                    "META-INF/corouter/audit/s3.schema.json");
            assertThat(names).noneMatch(name -> HOST_PACKAGES.stream().anyMatch(name::startsWith));
            assertThat(names).noneMatch(name -> name.startsWith("software/amazon/awssdk/http/nio/netty/")
                    || name.startsWith("software/amazon/awssdk/http/apache") || name.startsWith("org/apache/"));
        }
    }

    @Test
    void theSinkAndTheSdkLoadFromThePluginWhileTheApiAndVertxComeFromTheHost() throws Exception {
        ClassLoader pluginLoader = plugin.getPluginClassLoader();
        ClassLoader hostLoader = PackagedPluginIT.class.getClassLoader();
        assertThat(sink.getClass().getClassLoader()).isSameAs(pluginLoader);
        assertThat(pluginLoader.loadClass(AuditSink.class.getName())).isSameAs(AuditSink.class);
        assertThat(pluginLoader.loadClass(Vertx.class.getName())).isSameAs(Vertx.class);
        assertThat(pluginLoader.loadClass("software.amazon.awssdk.services.s3.S3AsyncClient").getClassLoader())
                .isSameAs(pluginLoader);
        // the proof that the jar is self-contained: the host's class path has neither the SDK nor the sink
        assertThatThrownBy(() -> hostLoader.loadClass("software.amazon.awssdk.services.s3.S3AsyncClient"))
                .isInstanceOf(ClassNotFoundException.class);
        assertThatThrownBy(() -> hostLoader.loadClass("co.corouter.audit.s3.S3AuditSink"))
                .isInstanceOf(ClassNotFoundException.class);
    }

    @Test
    void theConfigurationSchemaMarksTheSecretsWriteOnly() throws Exception {
        JsonObject schema;
        ClassLoader pluginLoader = plugin.getPluginClassLoader();
        try (InputStream in = pluginLoader.getResourceAsStream("META-INF/corouter/audit/s3.schema.json")) {
            assertThat(in).isNotNull();
            schema = new JsonObject(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
        JsonObject properties = schema.getJsonObject("properties");
        assertThat(properties.getJsonObject("secret_access_key").getBoolean("writeOnly")).isTrue();
        assertThat(properties.getJsonObject("session_token").getBoolean("writeOnly")).isTrue();
        assertThat(properties.getJsonObject("access_key_id").containsKey("writeOnly")).isFalse();
        assertThat(properties.getJsonObject("role_arn").containsKey("writeOnly")).isFalse();
        assertThat(schema.getJsonArray("required").getList()).contains("bucket", "region");
    }

    @Test
    void aDestinationOpenedThroughTheLoadedPluginProbesAndWritesABatchReadBackByteForByte(Vertx vertx,
                                                                                         S3MockServer s3)
            throws Exception {
        Destinations destinations = new Destinations(vertx, sink);
        try {
            AuditDestination destination = destinations.open(TestGuard.loopbackOnly(),
                    Destinations.config(s3.endpoint(), BUCKET, "packaged/"));
            AuditBatch batch = Batches.batch(Destinations.ACCOUNT, Instant.parse("2026-03-07T05:10:00Z"), 4);

            destinations.onEventLoop(destination, AuditDestination::test);
            destinations.onEventLoop(destination, d -> d.write(batch));

            String key = "packaged/account-42/2026/03/07/05/" + batch.windowStart().toEpochMilli() + "-"
                    + batch.batchId() + ".jsonl.gz";
            assertThat(s3.keys(BUCKET)).filteredOn(k -> k.startsWith("packaged/")).containsExactly(key);
            S3MockServer.StoredObject stored = s3.object(BUCKET, key).orElseThrow();
            assertThat(stored.contentType()).isEqualTo("application/gzip");
            assertThat(Batches.gunzip(stored.body())).isEqualTo(Batches.jsonLines(batch));
        } finally {
            destinations.closeAll();
        }
    }

    @Test
    void aDestinationOpenedThroughTheLoadedPluginAssumesTheRoleAndWritesWithItsCredentials(Vertx vertx,
                                                                                         S3MockServer s3)
            throws Exception {
        String role = "arn:aws:iam::111122223333:role/corouter-audit";
        FakeSts sts = FakeSts.builder().caller(Destinations.ACCESS_KEY, Destinations.SECRET, null).role(role)
                .start(vertx).await();
        Destinations destinations = new Destinations(vertx, sink);
        try {
            AuditDestination destination = destinations.open(TestGuard.loopbackOnly(),
                    Destinations.config(s3.endpoint(), BUCKET, "packaged-role/").put("role_arn", role)
                            .put("external_id", "acme-7f3c").put("sts_endpoint", sts.endpoint()));
            AuditBatch batch = Batches.batch(Destinations.ACCOUNT, Instant.parse("2026-03-07T05:10:00Z"), 2);

            destinations.onEventLoop(destination, d -> d.write(batch));

            assertThat(sts.requests()).singleElement().satisfies(request -> assertThat(request.form())
                    .containsEntry("RoleArn", role).containsEntry("ExternalId", "acme-7f3c"));
            assertThat(sts.issued()).hasSize(1);
            assertThat(s3.keys(BUCKET)).filteredOn(key -> key.startsWith("packaged-role/")).singleElement()
                    .satisfies(key -> assertThat(Batches.gunzip(s3.object(BUCKET, key).orElseThrow().body()))
                            .isEqualTo(Batches.jsonLines(batch)));
        } finally {
            destinations.closeAll();
        }
    }
}
