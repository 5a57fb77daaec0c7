/**
 * The audit extension point (since 1.6.0): {@link co.corouter.plugin.api.audit.AuditSink} opens an
 * {@link co.corouter.plugin.api.audit.AuditDestination} (a customer's S3 bucket, Kafka topic, a file) from one
 * account's configuration; the host hands it batches of records, each one request's content and metadata as a
 * JSON line. Every network address a plugin connects to is first passed through the host's
 * {@link co.corouter.plugin.api.audit.EndpointGuard}.
 */
package co.corouter.plugin.api.audit;
