package co.corouter.audit.file;

import co.corouter.plugin.api.audit.AuditContext;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditSink;
import io.vertx.core.json.JsonObject;
import org.pf4j.Extension;

/**
 * Audit destinations of type {@code file}: JSON Lines files under the account's audit directory
 * ({@link AuditContext#fileRoot()}), never outside it. Configuration: {@link FileOptions}; schema:
 * {@code META-INF/corouter/audit/file.schema.json}.
 */
@Extension
public final class FileAuditSink implements AuditSink {

    public static final String TYPE = "file";

    @Override
    public String type() {
        return TYPE;
    }

    /** Validates the configuration; touches no file (the directory is checked and created on first use). */
    @Override
    public AuditDestination open(AuditContext context, JsonObject config) {
        FileOptions options = FileOptions.parse(config);
        if (context.fileRoot() == null) {
            throw new IllegalArgumentException(FileOptions.PATH + ": this server has no audit directory, so file "
                    + "destinations are not available");
        }
        return new FileDestination(context.vertx(), context.fileRoot().toAbsolutePath().normalize(), options);
    }
}
