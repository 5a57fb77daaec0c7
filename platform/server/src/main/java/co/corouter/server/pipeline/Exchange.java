package co.corouter.server.pipeline;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChunkSink;
import co.corouter.plugin.api.Embeddings;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.plugin.api.Usage;
import co.corouter.server.accounts.AccountsContract.Principal;
import co.corouter.server.routing.Router;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One request's state as it moves through the {@link Pipeline}: what the client sent, what each stage found, how the
 * provider call ended and what was charged. Confined to the event loop that accepted the request; never shared.
 *
 * <p>Facts every stage may read (the caller, the validated request, the outcome) are typed fields. State that one
 * context keeps for itself between its stages (billing's reservation, routing's chosen endpoint) lives in a
 * {@link Key} slot declared by that context, so a new stage adds its own state without editing this class.
 *
 * <p>Two signals stop work early: {@link #clientGone()} (the connection closed, watched by ingress from the first byte
 * of the request) and {@link #deadlinePassed()} (the request outlived its time budget). Stages that hold something
 * cancellable register for them with {@link #onAbort}.
 */
public final class Exchange {

    /** A typed slot for one context's private state. Declare one {@code static final} key per kind of state. */
    public static final class Key<T> {
        private static final AtomicInteger NEXT = new AtomicInteger();
        private final int index = NEXT.getAndIncrement();
        private final String name;

        public Key(String name) {
            this.name = name;
        }

        @Override
        public String toString() {
            return "Key[" + name + "]";
        }
    }

    /** Why work was stopped early. */
    public enum Abort { CLIENT_GONE, DEADLINE }

    private final String id;
    private final long startNanos = System.nanoTime();
    private final long createdMillis = System.currentTimeMillis();
    private final String authorization;
    private final ChunkSink sink;
    private String api = "chat";
    private Buffer body;
    private Buffer delivered;
    private Object[] slots = new Object[8];

    private Principal principal;
    private ParsedChat chat;
    private List<Router.Route> routes;
    private Router.Route served;
    private List<Attempt> attempts;
    private boolean providerCalled;
    private String provider;
    private ChatCompletion completion;
    private StreamOutcome streamOutcome;
    private Embeddings embeddings;
    private Throwable failure;
    private Failure failureView;
    private Usage usage;
    private long charged;

    private boolean clientGone;
    private boolean deadlinePassed;
    private List<java.util.function.Consumer<Abort>> abortListeners;

    /**
     * @param authorization the {@code Authorization} header as received (may be null)
     * @param sink          the client's response as a stream of server-sent events (used only by streaming calls)
     */
    public Exchange(String id, String authorization, ChunkSink sink) {
        this.id = id;
        this.authorization = authorization;
        this.sink = sink;
    }

    /** The API the request came through ({@code chat}, {@code messages}, {@code completions}, {@code embeddings}). */
    public String api() {
        return api;
    }

    public void api(String api) {
        this.api = api;
    }

    /** The generation id: {@code X-Generation-Id}, the usage row's key and the charge's idempotency key. */
    public String id() {
        return id;
    }

    public long startNanos() {
        return startNanos;
    }

    public long createdMillis() {
        return createdMillis;
    }

    public String authorization() {
        return authorization;
    }

    /** The request body as received (null until ingress has read it). */
    public Buffer body() {
        return body;
    }

    public void body(Buffer body) {
        this.body = body;
    }

    /**
     * From now on, keep a copy of every byte of the response delivered to the client (the audit of an opted-in
     * account). Never called for other accounts: their responses are not copied.
     */
    public void captureDelivered() {
        if (delivered == null) {
            delivered = Buffer.buffer();
        }
    }

    /** What was delivered to the client so far, when {@link #captureDelivered()} was called; else null. */
    public Buffer delivered() {
        return delivered;
    }

    public ChunkSink sink() {
        return sink;
    }

    @SuppressWarnings("unchecked")
    public <T> T get(Key<T> key) {
        return key.index < slots.length ? (T) slots[key.index] : null;
    }

    public <T> void put(Key<T> key, T value) {
        if (key.index >= slots.length) {
            slots = java.util.Arrays.copyOf(slots, Math.max(key.index + 1, slots.length * 2));
        }
        slots[key.index] = value;
    }

    // --- what the stages found ---

    /** Set by authenticate. */
    public Principal principal() {
        return principal;
    }

    public void principal(Principal principal) {
        this.principal = principal;
    }

    /** Set by validate. */
    public ParsedChat chat() {
        return chat;
    }

    public void chat(ParsedChat chat) {
        this.chat = chat;
    }

    /** Set by route: the endpoints that may serve the request, in the order to try them. */
    public List<Router.Route> routes() {
        return routes;
    }

    public void routes(List<Router.Route> routes) {
        this.routes = routes;
    }

    /** The endpoint that served (or last tried to serve) the request: its price is what is charged. */
    public Router.Route served() {
        return served;
    }

    /** One call to an endpoint and how it ended ({@code status} as the client would have seen it). */
    public record Attempt(String model, String provider, int status, int latencyMillis) {
    }

    /** The calls made for this request, in order (empty before the call stage). */
    public List<Attempt> attempts() {
        return attempts == null ? List.of() : attempts;
    }

    public void attempted(Attempt attempt) {
        if (attempts == null) {
            attempts = new ArrayList<>(2);
        }
        attempts.add(attempt);
    }

    /** True once a provider was asked to serve the request: from then on it may have produced billable work. */
    public boolean providerCalled() {
        return providerCalled;
    }

    /** The call stage is about to ask {@code route}'s provider to serve the request. */
    public void providerCalled(Router.Route route) {
        this.providerCalled = true;
        this.served = route;
        this.provider = route.endpoint().provider();
    }

    /** The provider instance that was called, or null. */
    public String provider() {
        return provider;
    }

    /** A whole completion the provider returned, or null. */
    public ChatCompletion completion() {
        return completion;
    }

    public void completion(ChatCompletion completion) {
        this.completion = completion;
        this.usage = completion.usage();
    }

    /** How a stream ended, or null. */
    public StreamOutcome streamOutcome() {
        return streamOutcome;
    }

    public void streamOutcome(StreamOutcome outcome) {
        this.streamOutcome = outcome;
        this.usage = outcome.usage();
    }

    /** The vectors an embeddings request got, or null. */
    public Embeddings embeddings() {
        return embeddings;
    }

    public void embeddings(Embeddings embeddings) {
        this.embeddings = embeddings;
        this.usage = embeddings.usage();
    }

    /** Why the request failed (the first failure wins), or null when it succeeded. */
    public Throwable failure() {
        return failure;
    }

    /** The failure as the client sees it (classified once), or null when the request succeeded. */
    public Failure failureView() {
        if (failure == null) {
            return null;
        }
        if (failureView == null) {
            failureView = Failure.of(failure, id);
            if (failure instanceof co.corouter.plugin.api.ProviderException) {
                failureView = failureView.naming(provider);
            }
        }
        return failureView;
    }

    public void fail(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
    }

    /** The tokens the request is metered for (reported, counted, or of what was delivered before a failure). */
    public Usage usage() {
        return usage;
    }

    public void usage(Usage usage) {
        this.usage = usage;
    }

    /** What billing charged, in nano-dollars (set by settle). */
    public long charged() {
        return charged;
    }

    public void charged(long charged) {
        this.charged = charged;
    }

    /** True when output reached the client before the end (after that, errors travel inside the stream). */
    public boolean streamStarted() {
        return sink != null && sink.started();
    }

    // --- early stops ---

    public boolean clientGone() {
        return clientGone;
    }

    public boolean deadlinePassed() {
        return deadlinePassed;
    }

    /** True when the client left after a provider was called: the generation is recorded as cancelled. */
    public boolean cancelled() {
        return clientGone && providerCalled;
    }

    /** Ingress: the client's connection closed before the response ended. */
    public void clientClosed() {
        if (!clientGone) {
            clientGone = true;
            notifyAbort(Abort.CLIENT_GONE);
        }
    }

    /** Ingress: the request outlived its time budget. */
    public void deadline() {
        if (!deadlinePassed) {
            deadlinePassed = true;
            notifyAbort(Abort.DEADLINE);
        }
    }

    /** Runs {@code listener} on each early stop that happens from now on. */
    public void onAbort(java.util.function.Consumer<Abort> listener) {
        if (abortListeners == null) {
            abortListeners = new ArrayList<>(2);
        }
        abortListeners.add(listener);
    }

    private void notifyAbort(Abort why) {
        if (abortListeners != null) {
            for (java.util.function.Consumer<Abort> listener : List.copyOf(abortListeners)) {
                listener.accept(why);
            }
        }
    }

    public int latencyMillis() {
        return (int) Math.min(Integer.MAX_VALUE, (System.nanoTime() - startNanos) / 1_000_000);
    }

    @Override
    public String toString() {
        return "Exchange[" + id + "]";
    }
}
