package co.corouter.audit.file;

import co.corouter.plugin.api.audit.AuditException;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Finds or creates a destination's directory under the account's audit root and refuses one that resolves outside
 * it. Walks the configured path one name at a time and resolves every existing name (symbolic links included) before
 * descending, so a link pointing outside is refused before anything is created through it. Blocking: run it from
 * {@code executeBlocking}.
 *
 * <p>The answer is the directory's real path; the destination writes there and never walks the configured path again,
 * so a link swapped in afterwards does not redirect it. Someone who can write inside the audit root can still move
 * that real directory itself: the root belongs to the operator.
 */
final class AuditDirectory {

    private AuditDirectory() {
    }

    /**
     * @param root     the account's audit directory (created when missing)
     * @param relative {@link FileOptions#path()}: relative, normalised, no {@code ..}
     * @return the real path of the directory to write in
     * @throws AuditException CONFIG when the path leaves the root or names something that is not a directory
     */
    static Path resolve(Path root, Path relative) throws IOException {
        Files.createDirectories(root);
        Path realRoot = root.toRealPath();
        Path current = realRoot;
        if (relative.toString().isEmpty()) {
            return current;
        }
        for (Path name : relative) {
            Path next = current.resolve(name.toString());
            if (!Files.exists(next, LinkOption.NOFOLLOW_LINKS)) {
                try {
                    Files.createDirectory(next);
                } catch (FileAlreadyExistsException raced) {
                    // created meanwhile (perhaps as a link): resolved and checked below like any existing name
                }
            }
            Path real;
            try {
                real = next.toRealPath();
            } catch (IOException dangling) {
                throw new AuditException(AuditException.Kind.CONFIG, FileOptions.PATH + ": '" + relative
                        + "' contains a symbolic link that points nowhere");
            }
            if (!real.startsWith(realRoot)) {
                throw new AuditException(AuditException.Kind.CONFIG, FileOptions.PATH + ": '" + relative
                        + "' leaves the audit directory through a symbolic link");
            }
            if (!Files.isDirectory(real)) {
                throw new AuditException(AuditException.Kind.CONFIG, FileOptions.PATH + ": '" + relative
                        + "' is not a directory");
            }
            current = real;
        }
        return current;
    }
}
