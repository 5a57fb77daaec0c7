package co.corouter.plugin.api.audit;

import io.vertx.core.Vertx;

import java.nio.file.Path;

/**
 * What the host gives an audit destination. Built by the host; plugins never implement it.
 *
 * @param vertx     the host's Vert.x instance
 * @param accountId the account whose records this destination receives (for object keys and logs)
 * @param guard     checks and pins every network endpoint before the plugin connects to it
 * @param fileRoot  the only directory a file-writing destination may write under: the operator's audit directory
 *                  for this account. A plugin resolves customer-given paths against it and refuses any that leave it.
 * @since 1.6.0
 */
public record AuditContext(Vertx vertx, long accountId, EndpointGuard guard, Path fileRoot) {
}
