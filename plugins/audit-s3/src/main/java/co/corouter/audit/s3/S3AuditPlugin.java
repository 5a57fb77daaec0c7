package co.corouter.audit.s3;

import org.pf4j.Plugin;

/** PF4J entry point. The plugin has no life-cycle of its own: each destination owns its clients. */
public class S3AuditPlugin extends Plugin {
}
