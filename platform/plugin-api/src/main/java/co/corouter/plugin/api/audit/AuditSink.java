package co.corouter.plugin.api.audit;

import io.vertx.core.json.JsonObject;
import org.pf4j.ExtensionPoint;

/**
 * Extension point for audit destinations: a factory that turns one account's validated configuration into an
 * {@link AuditDestination}. Found by PF4J ({@code @Extension}); one instance serves every account whose audit
 * configuration names {@link #type()}.
 *
 * <p><b>Configuration.</b> The plugin ships a JSON schema of its configuration at
 * {@code META-INF/corouter/audit/<type>.schema.json}; the console renders it as a form. Properties marked
 * {@code "writeOnly": true} are credentials: the host encrypts them at rest, never returns them to anyone and
 * never logs them. The plugin must not log them either, nor put them in exception messages.
 *
 * <p><b>Threading.</b> {@link #open} is called on a worker thread; it may build clients (slow class loading) but must
 * not start network I/O. Invalid configuration fails with an {@link IllegalArgumentException} whose message names
 * the field and never echoes a credential.
 *
 * @since 1.6.0
 */
public interface AuditSink extends ExtensionPoint {

    /** The {@code type} this factory serves, e.g. {@code "s3"}. */
    String type();

    /**
     * Builds one destination. Every host and port it will connect to must go through {@link AuditContext#guard()}
     * when it connects (not here: open does no I/O).
     *
     * @throws IllegalArgumentException when the configuration is invalid (message names the field)
     */
    AuditDestination open(AuditContext context, JsonObject config);
}
