package co.corouter.audit.file;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Syncing a directory makes a created, renamed or deleted entry in it survive a crash (POSIX). Blocking. */
final class Durability {

    private Durability() {
    }

    static void syncDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException notSupported) {
            // some file systems cannot open or sync a directory; the files' own syncs have happened
        }
    }
}
