package co.corouter.audit.file;

import co.corouter.plugin.api.audit.AuditException;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * File-system failures as {@link AuditException}s. The message is shown to the customer: it names the file relative
 * to their audit directory and the reason, never the operator's absolute paths.
 */
final class FileErrors {

    private FileErrors() {
    }

    static AuditException toAuditException(String action, Throwable failure) {
        if (failure instanceof AuditException audit) {
            return audit;
        }
        return new AuditException(AuditException.Kind.UNAVAILABLE, action + " failed: " + reason(failure));
    }

    private static String reason(Throwable failure) {
        Throwable cause = failure;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        if (cause instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (cause instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (cause instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (cause instanceof FileAlreadyExistsException) {
            return "the file already exists";
        }
        if (cause instanceof FileSystemException fse) {
            // getMessage() would name the absolute path; the reason alone does not
            return fse.getReason() != null ? fse.getReason() : fse.getClass().getSimpleName();
        }
        // plain IOExceptions from a channel carry the OS reason ("No space left on device") without a path
        String message = cause.getMessage();
        return message == null || message.indexOf('/') >= 0 ? cause.getClass().getSimpleName() : message;
    }
}
