package co.corouter.testkit.upstream;

import io.vertx.core.Promise;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What {@link FakeOpenAiUpstream} did with one response, kept whether or not requests are recorded: written on the
 * fake's event loop, read by {@link RecordedRequest} from any thread.
 */
final class ResponseTrace {

    /** The connection closed before the response ended. */
    final Promise<Void> closed = Promise.promise();
    /** The fake ended the response (a full answer or a scripted error) and the end reached the connection. */
    final Promise<Void> ended = Promise.promise();
    /** Stream events with a non-empty {@code delta.content} written so far. */
    final AtomicInteger contentEvents = new AtomicInteger();
}
