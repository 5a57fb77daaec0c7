package co.corouter.audit.s3;

import co.corouter.plugin.api.audit.AuditContext;
import co.corouter.plugin.api.audit.AuditDestination;
import co.corouter.plugin.api.audit.AuditSink;
import io.vertx.core.json.JsonObject;
import org.pf4j.Extension;

/**
 * Audit destinations of type {@code s3}: one gzip JSON Lines object per batch in a customer's bucket on AWS S3 or any
 * S3-compatible server. Configuration: {@link S3Options}; schema: {@code META-INF/corouter/audit/s3.schema.json}.
 */
@Extension
public class S3AuditSink implements AuditSink {

    static final String TYPE = "s3";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public AuditDestination open(AuditContext context, JsonObject config) {
        return new S3Destination(context, S3Options.parse(config));
    }
}
