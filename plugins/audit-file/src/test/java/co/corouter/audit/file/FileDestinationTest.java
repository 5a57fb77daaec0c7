package co.corouter.audit.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditContext;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditException;
import co.corouter.testkit.audit.AuditBatches;
import co.corouter.testkit.audit.EventLoop;
import co.corouter.testkit.audit.TestEndpointGuard;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Real files in a temporary audit directory; every case checks the bytes on disk, not only the futures. */
@ExtendWith(VertxExtension.class)
class FileDestinationTest {

    private static final long ACCOUNT = 42;
    private static final Instant MARCH_1 = Instant.parse("2025-03-01T10:00:00Z");
    private static final Instant MARCH_2 = Instant.parse("2025-03-02T00:00:00Z");

    @TempDir
    Path temp;

    private Path root;
    private Path outside;
    private EventLoop loop;
    private AuditContext context;

    @BeforeEach
    void setUp(Vertx vertx) throws IOException {
        root = temp.resolve("audit/42");
        outside = Files.createDirectories(temp.resolve("outside"));
        loop = new EventLoop(vertx);
        context = new AuditContext(vertx, ACCOUNT, new TestEndpointGuard(vertx), root);
    }

    private AuditDestination open(JsonObject config) {
        return new FileAuditSink().open(context, config);
    }

    private Future<Void> writeAll(AuditDestination destination, List<AuditBatch> batches) {
        Future<Void> chain = Future.succeededFuture();
        for (AuditBatch batch : batches) {
            chain = chain.compose(previous -> loop.call(() -> destination.write(batch)));
        }
        return chain;
    }

    @Test
    void eachRecordIsWrittenByteForByteAsOneLine(VertxTestContext testContext) {
        AuditDestination destination = open(new JsonObject());
        List<AuditBatch> batches = List.of(AuditBatches.batch(ACCOUNT, MARCH_1, 3),
                AuditBatches.batch(ACCOUNT, MARCH_1.plusSeconds(60), 2));

        writeAll(destination, batches)
                .compose(written -> loop.call(destination::close))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(fileNames(root)).containsExactly("audit-2025-03-01-000001.jsonl");
                    assertThat(Files.readAllBytes(root.resolve("audit-2025-03-01-000001.jsonl")))
                            .isEqualTo(AuditBatches.jsonLines(batches).getBytes());
                    testContext.completeNow();
                })));
    }

    @Test
    void aBatchWrittenAgainWithTheSameIdIsNotAppendedTwice(VertxTestContext testContext) {
        AuditDestination destination = open(new JsonObject());
        AuditBatch batch = AuditBatches.batch(ACCOUNT, MARCH_1, 2);

        writeAll(destination, List.of(batch, batch))
                .compose(written -> loop.call(destination::close))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(Files.readAllBytes(root.resolve("audit-2025-03-01-000001.jsonl")))
                            .isEqualTo(AuditBatches.jsonLines(List.of(batch)).getBytes());
                    testContext.completeNow();
                })));
    }

    @Test
    void aFileIsRotatedBeforeItWouldGrowPastRotateBytes(VertxTestContext testContext) {
        AuditDestination destination = open(new JsonObject().put("rotate_bytes", 1024));
        List<AuditBatch> batches = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            batches.add(AuditBatches.batch(ACCOUNT, MARCH_1.plusSeconds(i), 1));
        }
        int lineLength = AuditBatches.jsonLines(batches.subList(0, 1)).length();

        writeAll(destination, batches)
                .compose(written -> loop.call(destination::close))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    List<String> files = fileNames(root);
                    assertThat(files).hasSizeGreaterThan(1).allMatch(name -> name.matches(
                            "audit-2025-03-01-00000[1-9]\\.jsonl"));
                    Buffer concatenated = Buffer.buffer();
                    for (String file : files) {
                        byte[] bytes = Files.readAllBytes(root.resolve(file));
                        assertThat(bytes.length).isLessThanOrEqualTo(1024);
                        concatenated.appendBytes(bytes);
                    }
                    assertThat(concatenated.getBytes()).isEqualTo(AuditBatches.jsonLines(batches).getBytes());
                    assertThat(files).hasSize((int) Math.ceil(6.0 / (1024 / lineLength)));
                    testContext.completeNow();
                })));
    }

    @Test
    void aBatchLargerThanRotateBytesGetsAFileOfItsOwn(VertxTestContext testContext) {
        AuditDestination destination = open(new JsonObject().put("rotate_bytes", 1024));
        AuditBatch small = AuditBatches.batch(ACCOUNT, MARCH_1, 1);
        AuditBatch large = AuditBatches.batch(ACCOUNT, MARCH_1, 8);

        writeAll(destination, List.of(small, large, small))
                .compose(written -> loop.call(destination::close))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(fileNames(root)).containsExactly("audit-2025-03-01-000001.jsonl",
                            "audit-2025-03-01-000002.jsonl", "audit-2025-03-01-000003.jsonl");
                    assertThat(Files.readAllBytes(root.resolve("audit-2025-03-01-000002.jsonl")))
                            .isEqualTo(AuditBatches.jsonLines(List.of(large)).getBytes());
                    testContext.completeNow();
                })));
    }

    @Test
    void aNewUtcDayOfTheWindowStartsANewFile(VertxTestContext testContext) {
        AuditDestination destination = open(new JsonObject());
        AuditBatch lateMarch1 = AuditBatches.batch(ACCOUNT, Instant.parse("2025-03-01T23:59:59Z"), 1);
        AuditBatch march2 = AuditBatches.batch(ACCOUNT, MARCH_2, 1);

        writeAll(destination, List.of(lateMarch1, march2))
                .compose(written -> loop.call(destination::close))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(fileNames(root)).containsExactly("audit-2025-03-01-000001.jsonl",
                            "audit-2025-03-02-000001.jsonl");
                    assertThat(Files.readAllBytes(root.resolve("audit-2025-03-02-000001.jsonl")))
                            .isEqualTo(AuditBatches.jsonLines(List.of(march2)).getBytes());
                    testContext.completeNow();
                })));
    }

    @Test
    void withoutDailyRotationOneFileSpansDaysAndIsNamedForItsFirst(VertxTestContext testContext) {
        AuditDestination destination = open(new JsonObject().put("rotate_daily", false));
        List<AuditBatch> batches = List.of(AuditBatches.batch(ACCOUNT, MARCH_1, 1),
                AuditBatches.batch(ACCOUNT, MARCH_2, 1));

        writeAll(destination, batches)
                .compose(written -> loop.call(destination::close))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(fileNames(root)).containsExactly("audit-2025-03-01-000001.jsonl");
                    assertThat(Files.readAllBytes(root.resolve("audit-2025-03-01-000001.jsonl")))
                            .isEqualTo(AuditBatches.jsonLines(batches).getBytes());
                    testContext.completeNow();
                })));
    }

    @Test
    void rotatedFilesAreCompressedAndTheCurrentOneIsNot(VertxTestContext testContext) {
        AuditDestination destination = open(new JsonObject().put("rotate_daily", true).put("gzip_rotated", true));
        AuditBatch march1 = AuditBatches.batch(ACCOUNT, MARCH_1, 3);
        AuditBatch march2 = AuditBatches.batch(ACCOUNT, MARCH_2, 1);

        writeAll(destination, List.of(march1, march2))
                .compose(written -> loop.call(destination::close))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(fileNames(root)).containsExactly("audit-2025-03-01-000001.jsonl.gz",
                            "audit-2025-03-02-000001.jsonl");
                    try (InputStream in = new GZIPInputStream(
                            Files.newInputStream(root.resolve("audit-2025-03-01-000001.jsonl.gz")))) {
                        assertThat(in.readAllBytes()).isEqualTo(AuditBatches.jsonLines(List.of(march1)).getBytes());
                    }
                    testContext.completeNow();
                })));
    }

    @Test
    void aNewDestinationContinuesTheSequenceAndNeverAppendsToAnExistingFile(VertxTestContext testContext)
            throws IOException {
        Files.createDirectories(root);
        Files.writeString(root.resolve("audit-2025-03-01-000003.jsonl.gz"), "earlier, compressed");
        Files.writeString(root.resolve("audit-2025-03-01-000004.jsonl"), "earlier\n");
        AuditDestination destination = open(new JsonObject());
        AuditBatch batch = AuditBatches.batch(ACCOUNT, MARCH_1, 1);

        writeAll(destination, List.of(batch))
                .compose(written -> loop.call(destination::close))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(Files.readString(root.resolve("audit-2025-03-01-000004.jsonl"))).isEqualTo("earlier\n");
                    assertThat(Files.readAllBytes(root.resolve("audit-2025-03-01-000005.jsonl")))
                            .isEqualTo(AuditBatches.jsonLines(List.of(batch)).getBytes());
                    testContext.completeNow();
                })));
    }

    @Test
    void aLinkPlantedUnderTheNextFileNameIsNotFollowed(VertxTestContext testContext) throws IOException {
        Files.createDirectories(root);
        Path victim = Files.writeString(outside.resolve("victim.txt"), "untouched");
        Files.createSymbolicLink(root.resolve("audit-2025-03-01-000001.jsonl"), victim);
        AuditDestination destination = open(new JsonObject());
        AuditBatch batch = AuditBatches.batch(ACCOUNT, MARCH_1, 1);

        writeAll(destination, List.of(batch))
                .compose(written -> loop.call(destination::close))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(Files.readString(victim)).isEqualTo("untouched");
                    assertThat(Files.readAllBytes(root.resolve("audit-2025-03-01-000002.jsonl")))
                            .isEqualTo(AuditBatches.jsonLines(List.of(batch)).getBytes());
                    testContext.completeNow();
                })));
    }

    @Test
    void aSubdirectoryIsCreatedUnderTheAuditDirectory(VertxTestContext testContext) {
        AuditDestination destination = open(new JsonObject().put("path", "team-a/requests"));

        writeAll(destination, List.of(AuditBatches.batch(ACCOUNT, MARCH_1, 1)))
                .compose(written -> loop.call(destination::close))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(fileNames(root.resolve("team-a/requests")))
                            .containsExactly("audit-2025-03-01-000001.jsonl");
                    testContext.completeNow();
                })));
    }

    @Test
    void pathsOutsideTheAuditDirectoryAreRefusedWhenOpened() {
        for (String path : new String[] {"../41", "../../outside", "/tmp", temp.resolve("outside").toString()}) {
            assertThatThrownBy(() -> open(new JsonObject().put("path", path)))
                    .as(path)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("path: ");
        }
    }

    @Test
    void aSymbolicLinkLeadingOutsideIsRefusedAndNothingIsCreatedThroughIt(VertxTestContext testContext)
            throws IOException {
        Files.createDirectories(root);
        Files.createSymbolicLink(root.resolve("escape"), outside);
        AuditDestination destination = open(new JsonObject().put("path", "escape/deeper"));

        loop.call(() -> destination.write(AuditBatches.batch(ACCOUNT, MARCH_1, 1)))
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertThat(failure).isInstanceOfSatisfying(AuditException.class, e -> {
                        assertThat(e.kind()).isEqualTo(AuditException.Kind.CONFIG);
                        assertThat(e.getMessage()).isEqualTo(
                                "path: 'escape/deeper' leaves the audit directory through a symbolic link");
                        assertThat(e.getMessage()).doesNotContain(temp.toString());
                    });
                    assertThat(fileNames(outside)).isEmpty();
                    testContext.completeNow();
                })));
    }

    @Test
    void aSymbolicLinkThatStaysInsideIsFollowed(VertxTestContext testContext) throws IOException {
        Files.createDirectories(root.resolve("real"));
        Files.createSymbolicLink(root.resolve("alias"), root.resolve("real"));
        AuditDestination destination = open(new JsonObject().put("path", "alias"));

        writeAll(destination, List.of(AuditBatches.batch(ACCOUNT, MARCH_1, 1)))
                .compose(written -> loop.call(destination::close))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(fileNames(root.resolve("real"))).containsExactly("audit-2025-03-01-000001.jsonl");
                    testContext.completeNow();
                })));
    }

    @Test
    void theTestWritesAProbeAndLeavesNoFile(VertxTestContext testContext) {
        AuditDestination destination = open(new JsonObject().put("path", "probe-here"));

        loop.call(destination::test)
                .compose(tested -> loop.call(destination::close))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(root.resolve("probe-here")).isDirectory();
                    assertThat(fileNames(root.resolve("probe-here"))).isEmpty();
                    testContext.completeNow();
                })));
    }

    @Test
    void theTestFailsForAPathThatLeavesTheAuditDirectory(VertxTestContext testContext) throws IOException {
        Files.createDirectories(root);
        Files.createSymbolicLink(root.resolve("escape"), outside);
        AuditDestination destination = open(new JsonObject().put("path", "escape"));

        loop.call(destination::test).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertThat(failure).isInstanceOfSatisfying(AuditException.class,
                    e -> assertThat(e.kind()).isEqualTo(AuditException.Kind.CONFIG));
            assertThat(fileNames(outside)).isEmpty();
            testContext.completeNow();
        })));
    }

    @Test
    void aServerWithoutAnAuditDirectoryCannotOpenFileDestinations(Vertx vertx) {
        AuditContext noRoot = new AuditContext(vertx, ACCOUNT, new TestEndpointGuard(vertx), null);

        assertThatThrownBy(() -> new FileAuditSink().open(noRoot, new JsonObject()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("path: ");
    }

    @Test
    void writesAfterCloseFail(VertxTestContext testContext) {
        AuditDestination destination = open(new JsonObject());

        loop.call(destination::close)
                .compose(closed -> loop.call(() -> destination.write(AuditBatches.batch(ACCOUNT, MARCH_1, 1))))
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertThat(failure).isInstanceOf(AuditException.class);
                    assertThat(Files.exists(root)).isFalse();
                    testContext.completeNow();
                })));
    }

    private static List<String> fileNames(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(file -> file.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
