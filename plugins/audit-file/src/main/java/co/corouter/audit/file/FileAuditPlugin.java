package co.corouter.audit.file;

import org.pf4j.Plugin;

/** PF4J entry point. The plugin has no life-cycle of its own: each destination owns its open file. */
public class FileAuditPlugin extends Plugin {
}
