package co.corouter.testkit.fake;

import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * What a fake upstream does next, shared by the fakes of every protocol: queued behaviours first (in order), then the
 * one set for the request's model, then the default. Safe to change from the test thread while the fake serves on its
 * event loop.
 *
 * @param <B> the fake's behaviour type
 */
public final class Script<B> {

    private final Supplier<B> normal;
    private final AtomicReference<B> fallback;
    private final Queue<B> queued = new ConcurrentLinkedQueue<>();
    private final Map<String, B> byModel = new ConcurrentHashMap<>();

    /** @param normal the behaviour of a fresh or {@link #reset} script */
    public Script(Supplier<B> normal) {
        this.normal = normal;
        this.fallback = new AtomicReference<>(normal.get());
    }

    public void behave(B behaviour) {
        fallback.set(behaviour);
    }

    public void behaveFor(String model, B behaviour) {
        byModel.put(model, behaviour);
    }

    public void enqueue(List<B> behaviours) {
        queued.addAll(behaviours);
    }

    /** The behaviour for the next request, which names {@code model} (or null); takes a queued one. */
    public B next(String model) {
        B next = queued.poll();
        if (next != null) {
            return next;
        }
        B forModel = model == null ? null : byModel.get(model);
        return forModel != null ? forModel : fallback.get();
    }

    public void reset() {
        queued.clear();
        byModel.clear();
        fallback.set(normal.get());
    }
}
