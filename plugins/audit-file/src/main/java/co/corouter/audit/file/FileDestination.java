package co.corouter.audit.file;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditRecord;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.FileSystem;
import io.vertx.core.file.OpenOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Appends batches to JSON Lines files: each record's bytes as they are, then {@code \n}; one write and one sync per
 * batch, and the write completes only after the sync. Files are {@code audit-<yyyy-MM-dd>-<seq>.jsonl} (the UTC day
 * of the batch's window), rotated before they would exceed {@code rotate_bytes} and, with {@code rotate_daily}, when
 * the day changes; each destination starts a new file rather than reopening one.
 *
 * <p><b>Retries.</b> A batch whose write failed is cut back out of the file, and a batch id that was already written
 * by this destination is not written again, so a retry after a lost acknowledgement does not duplicate lines. After a
 * restart of the server that memory is gone: a batch retried then can appear twice, and readers de-duplicate on the
 * records' generation ids.
 *
 * <p>Everything runs in order through one queue: a call waits for the previous one. Files go through Vert.x's
 * asynchronous file system; the directory checks, directory syncs and compression run on worker threads.
 */
final class FileDestination implements AuditDestination {

    private static final Logger log = LoggerFactory.getLogger(FileDestination.class);
    private static final int CREATE_ATTEMPTS = 100;

    private final Vertx vertx;
    private final FileSystem fs;
    private final Path root;
    private final FileOptions options;

    private Future<Void> queue = Future.succeededFuture();
    private boolean closed;
    // touched only by the task at the head of the queue
    private Path directory;
    private Segment segment;
    private String lastWrittenBatchId;
    private final Map<LocalDate, Integer> lastSeq = new HashMap<>();

    FileDestination(Vertx vertx, Path root, FileOptions options) {
        this.vertx = vertx;
        this.fs = vertx.fileSystem();
        this.root = root;
        this.options = options;
    }

    @Override
    public Future<Void> write(AuditBatch batch) {
        return enqueue(() -> append(batch));
    }

    /** Creates, writes, syncs and deletes a probe file in the destination's directory. */
    @Override
    public Future<Void> test() {
        return enqueue(this::probe);
    }

    @Override
    public Future<Void> close() {
        Future<Void> closing = enqueue(this::closeSegment);
        synchronized (this) {
            closed = true;
        }
        return closing;
    }

    private synchronized Future<Void> enqueue(Supplier<Future<Void>> task) {
        if (closed) {
            return Future.failedFuture(new AuditException(AuditException.Kind.UNAVAILABLE,
                    "the destination is closed"));
        }
        Future<Void> result = queue.transform(previous -> task.get());
        queue = result.otherwiseEmpty();
        return result;
    }

    private Future<Void> append(AuditBatch batch) {
        if (batch.batchId().equals(lastWrittenBatchId)) {
            return Future.succeededFuture();
        }
        Buffer lines = lines(batch.records());
        LocalDate day = LocalDate.ofInstant(batch.windowStart(), ZoneOffset.UTC);
        return directory()
                .compose(dir -> segmentFor(dir, day, lines.length()))
                .compose(open -> open.append(lines).recover(failure -> abandon(open, failure)))
                .onSuccess(written -> lastWrittenBatchId = batch.batchId())
                .recover(failure -> {
                    directory = null;
                    return Future.failedFuture(FileErrors.toAuditException("writing the audit file", failure));
                });
    }

    private static Buffer lines(List<AuditRecord> records) {
        int size = 0;
        for (AuditRecord record : records) {
            size += record.json().length() + 1;
        }
        Buffer lines = Buffer.buffer(size);
        for (AuditRecord record : records) {
            lines.appendBuffer(record.json()).appendByte((byte) '\n');
        }
        return lines;
    }

    /** The file the next {@code length} bytes of day {@code day} go to, rotating the current one if they don't fit. */
    private Future<Segment> segmentFor(Path dir, LocalDate day, int length) {
        Segment current = segment;
        if (current == null) {
            return openSegment(dir, day);
        }
        boolean newDay = options.rotateDaily() && !current.day().equals(day);
        boolean full = current.size() > 0 && current.size() + length > options.rotateBytes();
        if (!newDay && !full) {
            return Future.succeededFuture(current);
        }
        segment = null;
        return rotate(current).compose(rotated -> openSegment(dir, day));
    }

    private Future<Void> rotate(Segment finished) {
        Future<Void> closed = finished.close();
        if (!options.gzipRotated()) {
            return closed;
        }
        return closed.compose(ignored -> vertx.executeBlocking(() -> Gzip.compress(finished.path())))
                .<Void>mapEmpty()
                .recover(failure -> {
                    // the records are safe in the uncompressed file; compression is not worth failing a write for
                    log.warn("audit file {} could not be compressed: {}", finished.path().getFileName(),
                            failure.toString());
                    return Future.succeededFuture();
                });
    }

    /** A write failed mid-file: the file is cut back and closed, and the next write starts a new one. */
    private <T> Future<T> abandon(Segment failed, Throwable failure) {
        segment = null;
        return failed.close().transform(ignored -> Future.failedFuture(failure));
    }

    private Future<Segment> openSegment(Path dir, LocalDate day) {
        return nextSeq(dir, day).compose(seq -> create(dir, day, seq, CREATE_ATTEMPTS));
    }

    private Future<Segment> create(Path dir, LocalDate day, int seq, int attemptsLeft) {
        Path path = dir.resolve(Segment.fileName(day, seq));
        // createNew: O_EXCL, which never follows a link and never appends to someone else's file
        return fs.open(path.toString(), new OpenOptions().setRead(false).setWrite(true).setCreateNew(true))
                .compose(file -> vertx.executeBlocking(() -> {
                    Durability.syncDirectory(dir);
                    return file;
                }))
                .map(file -> {
                    lastSeq.put(day, seq);
                    segment = new Segment(fs, file, path, day);
                    return segment;
                })
                .recover(failure -> {
                    if (attemptsLeft > 1 && causedBy(failure, FileAlreadyExistsException.class)) {
                        return create(dir, day, seq + 1, attemptsLeft - 1);
                    }
                    return Future.failedFuture(failure);
                });
    }

    /** One more than the highest sequence number of the day's files already in the directory. */
    private Future<Integer> nextSeq(Path dir, LocalDate day) {
        Integer last = lastSeq.get(day);
        if (last != null) {
            return Future.succeededFuture(last + 1);
        }
        Pattern name = Pattern.compile("audit-" + day + "-(\\d+)\\.jsonl(\\.gz)?");
        return fs.readDir(dir.toString(), name.pattern()).map(paths -> {
            int max = 0;
            for (String path : paths) {
                Matcher matcher = name.matcher(Path.of(path).getFileName().toString());
                if (matcher.matches()) {
                    max = Math.max(max, Integer.parseInt(matcher.group(1)));
                }
            }
            return max + 1;
        });
    }

    private Future<Path> directory() {
        if (directory != null) {
            return Future.succeededFuture(directory);
        }
        return vertx.executeBlocking(() -> AuditDirectory.resolve(root, options.path()))
                .onSuccess(resolved -> directory = resolved);
    }

    private Future<Void> probe() {
        return directory().compose(dir -> {
            String probe = dir.resolve(".corouter-probe-" + UUID.randomUUID() + ".tmp").toString();
            return fs.open(probe, new OpenOptions().setRead(false).setWrite(true).setCreateNew(true))
                    .compose(file -> file.write(Buffer.buffer("corouter audit probe\n"), 0)
                            .compose(written -> file.flush())
                            .eventually(file::close))
                    .compose(written -> fs.delete(probe))
                    .recover(failure -> fs.delete(probe).transform(deleted -> Future.failedFuture(failure)));
        }).recover(failure -> {
            directory = null;
            return Future.failedFuture(FileErrors.toAuditException("writing a probe file", failure));
        });
    }

    private Future<Void> closeSegment() {
        Segment current = segment;
        segment = null;
        return current == null ? Future.succeededFuture() : current.close();
    }

    private static boolean causedBy(Throwable failure, Class<? extends Throwable> type) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (type.isInstance(cause)) {
                return true;
            }
        }
        return false;
    }
}
