package co.corouter.testkit.fake;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a fake upstream received, shared by the fakes of every protocol: the requests in arrival order (unless
 * recording is off, as in benchmarks), a request count that always counts, the connections accepted, and the API key
 * it requires. Safe to read from the test thread while the fake serves on its event loop.
 *
 * @param <R> the fake's recorded-request type
 */
public final class Recorder<R> {

    private final String fake;
    private final ConcurrentLinkedDeque<R> requests = new ConcurrentLinkedDeque<>();
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicReference<String> apiKey = new AtomicReference<>();
    private volatile boolean recording = true;

    /** @param fake the fake's name, for the error of {@link #last()} */
    public Recorder(String fake) {
        this.fake = fake;
    }

    /** Counts a request and, while recording, keeps it. */
    public void received(R request) {
        if (recording) {
            requests.add(request);
        }
        count.incrementAndGet();
    }

    public void connectionOpened() {
        connections.incrementAndGet();
    }

    public int count() {
        return count.get();
    }

    public List<R> requests() {
        return List.copyOf(requests);
    }

    public R last() {
        R last = requests.peekLast();
        if (last == null) {
            throw new IllegalStateException("the " + fake + " received no request");
        }
        return last;
    }

    public void recording(boolean keep) {
        recording = keep;
    }

    public int connections() {
        return connections.get();
    }

    /** The key requests must carry, or null for any. */
    public String apiKey() {
        return apiKey.get();
    }

    public void requireApiKey(String key) {
        apiKey.set(key);
    }

    /** Forgets requests, counts and the required key. */
    public void reset() {
        requests.clear();
        count.set(0);
        connections.set(0);
        apiKey.set(null);
    }
}
