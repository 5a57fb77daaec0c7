package co.corouter.audit.file;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.GZIPOutputStream;

/**
 * Compresses a finished file to {@code <name>.gz} durably: written as {@code .gz.partial}, synced, renamed, the
 * directory synced, and only then the original deleted, so a crash leaves the original or the complete copy (or
 * both), never a torn one alone. Blocking: run it from {@code executeBlocking}.
 */
final class Gzip {

    private static final int BUFFER = 64 * 1024;

    private Gzip() {
    }

    /** @return the compressed file */
    static Path compress(Path source) throws IOException {
        Path target = source.resolveSibling(source.getFileName() + ".gz");
        Path partial = source.resolveSibling(source.getFileName() + ".gz.partial");
        try (InputStream in = Files.newInputStream(source);
             FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             GZIPOutputStream gzip = new GZIPOutputStream(Channels.newOutputStream(channel), BUFFER)) {
            in.transferTo(gzip);
            gzip.finish();
            channel.force(true);
        } catch (IOException e) {
            Files.deleteIfExists(partial);
            throw e;
        }
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
        Durability.syncDirectory(source.getParent());
        Files.delete(source);
        return target;
    }
}
