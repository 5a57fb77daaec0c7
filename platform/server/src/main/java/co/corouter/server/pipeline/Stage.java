package co.corouter.server.pipeline;

import io.vertx.core.Future;

/**
 * One step of the request pipeline, a class with one job in the context that owns the concern (authenticate in
 * accounts, admit in billing, route in routing, ...). {@link Pipeline} runs the stages in a fixed order on the event
 * loop that accepted the request.
 *
 * <p>Contract: {@link #run} is called on that event loop and must not block; it reads and writes the
 * {@link Exchange} and returns a future that completes when the stage is done. A stage that has nothing to wait for
 * returns {@link #DONE} (no allocation). A failed future ends the forward run: later forward stages are skipped and
 * the pipeline's end stages run. A stage never writes to the HTTP response; ingress renders the outcome.
 * <pre>
 * GOOD: return credits.reserve(accountId, worstCase).map(r -&gt; { exchange.reservation(r); return null; });
 * BAD:  return Future.succeededFuture(repository.blockingLookup(key));   // blocks the event loop
 * </pre>
 */
@FunctionalInterface
public interface Stage {

    /** The completed future a synchronous stage returns. */
    Future<Void> DONE = Future.succeededFuture();

    Future<Void> run(Exchange exchange);
}
