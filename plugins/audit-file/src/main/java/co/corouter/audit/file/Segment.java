package co.corouter.audit.file;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.FileSystem;

import java.nio.file.Path;
import java.time.LocalDate;

/**
 * One open JSON Lines file, {@code audit-<yyyy-MM-dd>-<seq>.jsonl}, created new (never an existing file, so never
 * through a planted link) and written at positions this object tracks. Used by one write at a time.
 */
final class Segment {

    private final FileSystem fs;
    private final AsyncFile file;
    private final Path path;
    private final LocalDate day;
    private long size;

    Segment(FileSystem fs, AsyncFile file, Path path, LocalDate day) {
        this.fs = fs;
        this.file = file;
        this.path = path;
        this.day = day;
    }

    static String fileName(LocalDate day, int seq) {
        return "audit-" + day + "-" + String.format("%06d", seq) + ".jsonl";
    }

    Path path() {
        return path;
    }

    LocalDate day() {
        return day;
    }

    long size() {
        return size;
    }

    /**
     * Appends the bytes and syncs them to storage. On failure the file is cut back to where the bytes began, so a
     * torn batch does not stay in it.
     */
    Future<Void> append(Buffer bytes) {
        long position = size;
        return file.write(bytes, position)
                .compose(written -> file.flush())
                .onSuccess(synced -> size = position + bytes.length())
                .recover(failure -> fs.truncate(path.toString(), position)
                        .transform(truncated -> Future.failedFuture(failure)));
    }

    Future<Void> close() {
        return file.close();
    }
}
