package co.corouter.testkit.upstream;

import co.corouter.testkit.upstream.Behaviour.Fault;
import co.corouter.testkit.fake.Recorder;
import co.corouter.testkit.fake.Script;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A hostile stand-in for an OpenAI-compatible upstream: {@code POST /v1/chat/completions} on 127.0.0.1,
 * answering whole completions or SSE streams exactly in OpenAI's shape, or misbehaving as scripted by a
 * {@link Behaviour} (error status, hang, reset mid-stream, malformed chunk, missing usage, ...). It also serves
 * {@code POST /v1/embeddings} in OpenAI's shape, with the vectors of {@link FakeEmbeddings} ({@code dimensions} and
 * {@code encoding_format} honoured, {@code usage.prompt_tokens} = {@link FakeEmbeddings#tokens} of the inputs) and
 * the same behaviours: error status, hang, delay, reset, malformed body, missing usage.
 *
 * <pre>
 * FakeOpenAiUpstream upstream = new FakeOpenAiUpstream().requireApiKey("sk-test");
 * upstream.start(vertx).onSuccess(u -&gt; ...u.baseUrl()...);          // http://127.0.0.1:PORT/v1
 * upstream.behave(Behaviour.normal().chunks(8).completionTokens(12));  // default for every request
 * upstream.enqueue(Behaviour.error(429));                              // only the next request (Retry-After: 1)
 * assertThat(upstream.requestCount()).isEqualTo(2);
 * assertThat(upstream.lastRequest().contentEventsWritten()).isEqualTo(8);   // what it produced, per request
 * </pre>
 *
 * <p>Requests are served on the Vert.x event loop; counters and recordings are safe to read from the test
 * thread. Every request is recorded, including rejected ones, with what the fake did with it
 * ({@link RecordedRequest#responseEnded()}, {@link RecordedRequest#connectionClosed()},
 * {@link RecordedRequest#contentEventsWritten()}).
 */
public final class FakeOpenAiUpstream {

    private static final String CHAT_PATH = "/v1/chat/completions";
    private static final String EMBEDDINGS_PATH = "/v1/embeddings";

    private final Script<Behaviour> script = new Script<>(Behaviour::normal);
    private final Recorder<RecordedRequest> recorder = new Recorder<>("fake upstream");
    private final AtomicLong ids = new AtomicLong();
    private volatile Vertx vertx;
    private volatile HttpServer server;

    /** Starts listening on 127.0.0.1 on a free port. */
    public Future<FakeOpenAiUpstream> start(Vertx vertx) {
        return start(vertx, 0);
    }

    /** Starts listening on 127.0.0.1 on {@code port} (0 picks a free one). */
    public Future<FakeOpenAiUpstream> start(Vertx vertx, int port) {
        this.vertx = vertx;
        HttpServer created = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port));
        created.connectionHandler(connection -> recorder.connectionOpened());
        created.requestHandler(this::handle);
        return created.listen().map(listening -> {
            server = listening;
            return this;
        });
    }

    /** Stops listening and closes every open connection (hanging requests included). */
    public Future<Void> close() {
        HttpServer current = server;
        server = null;
        return current == null ? Future.succeededFuture() : current.close();
    }

    public int port() {
        HttpServer current = server;
        if (current == null) {
            throw new IllegalStateException("the fake upstream is not started");
        }
        return current.actualPort();
    }

    /** The OpenAI-style base URL, e.g. {@code http://127.0.0.1:PORT/v1}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + port() + "/v1";
    }

    /** Sets the behaviour for requests naming {@code model} that have no queued behaviour (the default elsewhere). */
    public FakeOpenAiUpstream behaveFor(String model, Behaviour behaviour) {
        script.behaveFor(model, behaviour);
        return this;
    }

    /** Sets the behaviour for every request that has no {@link #enqueue queued} or per-model one. */
    public FakeOpenAiUpstream behave(Behaviour behaviour) {
        script.behave(behaviour);
        return this;
    }

    /** Queues behaviours for the next requests, in order; after them the default applies again. */
    public FakeOpenAiUpstream enqueue(Behaviour... behaviours) {
        script.enqueue(List.of(behaviours));
        return this;
    }

    /** Answers 401 unless the request carries {@code Authorization: Bearer <key>}; {@code null} accepts all. */
    public FakeOpenAiUpstream requireApiKey(String key) {
        recorder.requireApiKey(key);
        return this;
    }

    /** Number of requests received, whatever their fate. */
    public int requestCount() {
        return recorder.count();
    }

    /** Requests received so far, in arrival order. */
    public List<RecordedRequest> requests() {
        return recorder.requests();
    }

    /** The most recent request. */
    public RecordedRequest lastRequest() {
        return recorder.last();
    }

    /** Keeps (default) or stops keeping each request; counting goes on. Benchmarks turn it off. */
    public FakeOpenAiUpstream recordRequests(boolean keep) {
        recorder.recording(keep);
        return this;
    }

    /** TCP connections accepted so far; with a keep-alive client, fewer than {@link #requestCount()}. */
    public int connectionsOpened() {
        return recorder.connections();
    }

    /** Forgets requests and queued behaviours, restores {@link Behaviour#normal()} and drops the API key. */
    public FakeOpenAiUpstream reset() {
        script.reset();
        recorder.reset();
        return this;
    }

    private void handle(HttpServerRequest request) {
        ResponseTrace trace = new ResponseTrace();
        request.response().closeHandler(v -> trace.closed.tryComplete());
        request.body().onSuccess(raw -> serve(request, raw, trace));
    }

    private void serve(HttpServerRequest request, Buffer raw, ResponseTrace trace) {
        JsonObject body = parseObject(raw);
        recorder.received(new RecordedRequest(request.method().name(), request.path(), headersOf(request),
                    raw.toString(), body, trace));

        HttpServerResponse response = request.response();
        boolean embeddings = EMBEDDINGS_PATH.equals(request.path());
        if (request.method() != HttpMethod.POST || !(embeddings || CHAT_PATH.equals(request.path()))) {
            sendError(response, trace, 404, "invalid_request_error", "unknown_url",
                    "Unknown request URL: " + request.method() + " " + request.path());
            return;
        }
        String key = recorder.apiKey();
        if (key != null && !("Bearer " + key).equals(request.getHeader("Authorization"))) {
            sendError(response, trace, 401, "invalid_request_error", "invalid_api_key",
                    "Incorrect API key provided.");
            return;
        }
        if (body == null) {
            sendError(response, trace, 400, "invalid_request_error", null,
                    "We could not parse the JSON body of your request.");
            return;
        }
        Behaviour chosen = script.next(body.getValue("model") instanceof String model ? model : null);
        after(chosen.delayMs, () -> act(request, body, chosen, trace, embeddings));
    }

    private void act(HttpServerRequest request, JsonObject body, Behaviour b, ResponseTrace trace,
                     boolean embeddings) {
        HttpServerResponse response = request.response();
        if (response.closed()) {
            return;
        }
        b.headers.forEach(response::putHeader);
        switch (b.mode) {
            case HANG -> {
                // accepted and never answered: the client's timeout must fire
            }
            case ERROR -> sendError(response, trace, b.status, errorType(b), errorCode(b), errorMessage(b));
            case ANSWER -> {
                if (embeddings) {
                    FakeOpenAiEmbeddings.answer(request, body, b, trace);
                } else if (Boolean.TRUE.equals(body.getValue("stream"))) {
                    stream(request, body, b, trace);
                } else {
                    complete(request, body, b, trace);
                }
            }
        }
    }

    private void complete(HttpServerRequest request, JsonObject body, Behaviour b, ResponseTrace trace) {
        HttpServerResponse response = request.response().putHeader("Content-Type", "application/json");
        switch (b.fault) {
            case RESET -> {
                request.connection().close();
                return;
            }
            case STALL -> {
                return;
            }
            default -> {
            }
        }
        if (b.malformedBody) {
            end(response, trace, Buffer.buffer("{\"id\":\"chatcmpl-broken\",\"object\":\"chat.completion\","
                    + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"The qu"));
            return;
        }
        JsonObject completion = envelope(nextId(), body, "chat.completion");
        if (!b.missingChoices) {
            completion.put("choices", new JsonArray().add(new JsonObject()
                    .put("index", 0)
                    .put("message", message(b))
                    .putNull("logprobs")
                    .put("finish_reason", b.finishReason)));
        }
        if (!b.omitUsage) {
            completion.put("usage", usage(body, b));
        }
        end(response, trace, completion.toBuffer());
    }

    private void stream(HttpServerRequest request, JsonObject body, Behaviour b, ResponseTrace trace) {
        JsonObject streamOptions = body.getValue("stream_options") instanceof JsonObject o ? o : new JsonObject();
        boolean usageChunk = !b.omitUsage && !b.usageOnFinishChunk
                && Boolean.TRUE.equals(streamOptions.getValue("include_usage"));
        boolean usageField = usageChunk || (!b.omitUsage && b.usageOnFinishChunk);
        String nl = b.crlf ? "\r\n" : "\n";
        String id = nextId();

        List<JsonObject> chunks = new ArrayList<>();
        chunks.add(chunk(id, body, usageField, new JsonObject().put("role", "assistant").put("content", "")
                .putNull("refusal"), null));
        for (String piece : split(b.content, b.chunks)) {
            chunks.add(chunk(id, body, usageField, new JsonObject().put("content", piece), null));
        }
        if (b.toolCall != null) {
            String arguments = b.toolCall[2];
            int half = arguments.length() / 2;
            chunks.add(chunk(id, body, usageField, toolCallDelta(new JsonObject().put("index", 0)
                    .put("id", b.toolCall[0]).put("type", "function")
                    .put("function", new JsonObject().put("name", b.toolCall[1]).put("arguments", ""))), null));
            for (String piece : List.of(arguments.substring(0, half), arguments.substring(half))) {
                chunks.add(chunk(id, body, usageField, toolCallDelta(new JsonObject().put("index", 0)
                        .put("function", new JsonObject().put("arguments", piece))), null));
            }
        }
        JsonObject finish = chunk(id, body, usageField, new JsonObject(), b.finishReason);
        if (!b.omitUsage && b.usageOnFinishChunk) {
            finish.put("usage", usage(body, b));
        }
        chunks.add(finish);
        if (usageChunk) {
            chunks.add(envelope(id, body, "chat.completion.chunk").put("choices", new JsonArray())
                    .put("usage", usage(body, b)));
        }
        List<Frame> events = new ArrayList<>();
        for (JsonObject chunk : chunks) {
            events.add(new Frame("data: " + chunk.encode() + nl + nl, carriesContent(chunk)));
        }
        events.add(new Frame("data: [DONE]" + nl + nl, false));

        int faultAt = b.fault == Fault.NONE ? events.size() : Math.min(b.faultAfter, events.size());
        List<Frame> frames = new ArrayList<>();
        for (int i = 0; i < faultAt; i++) {
            if (b.keepAliveComments) {
                frames.add(new Frame(": keep-alive" + nl + nl, false));
            }
            frames.add(events.get(i));
        }
        HttpServerResponse response = request.response();
        Runnable end = () -> end(response, trace, null);
        Runnable ending;
        switch (b.fault) {
            case RESET -> ending = () -> request.connection().close();
            case STALL -> ending = () -> { };
            case MALFORMED_CHUNK -> {
                frames.add(new Frame("data: {\"id\":\"chatcmpl-broken\",\"object\":\"chat.completion.chunk\","
                        + "\"choices\":[{\"delta\":{\"content\":\"tru" + nl + nl, false));
                frames.addAll(events.subList(faultAt, events.size()));
                ending = end;
            }
            case ERROR_EVENT -> {
                JsonObject error = envelope(id, body, "chat.completion.chunk")
                        .put("error", errorObject(502, errorType(b), errorCode(b), errorMessage(b)))
                        .put("choices", new JsonArray().add(new JsonObject().put("index", 0)
                                .put("delta", new JsonObject().put("content", "")).put("finish_reason", "error")));
                frames.add(new Frame("data: " + error.encode() + nl + nl, false));
                ending = end;
            }
            case END, NONE -> ending = end;
            default -> throw new IllegalStateException("unhandled fault " + b.fault);
        }

        response.setChunked(true)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache");
        response.writeHead();
        play(response, trace, frame(frames, b), 0, b.intervalMs, ending);
    }

    private void play(HttpServerResponse response, ResponseTrace trace, List<Write> writes, int next,
                      long intervalMs, Runnable ending) {
        int i = next;
        while (i < writes.size()) {
            if (response.closed()) {
                return;
            }
            Write write = writes.get(i++);
            response.write(write.bytes());
            trace.contentEvents.addAndGet(write.contentEvents());
            if (intervalMs > 0 && i < writes.size()) {
                int resumeAt = i;
                vertx.setTimer(intervalMs, id -> play(response, trace, writes, resumeAt, intervalMs, ending));
                return;
            }
        }
        if (!response.closed()) {
            after(intervalMs, ending);
        }
    }

    /** One piece of the stream as scripted: an event or comment, and whether it is a non-empty content delta. */
    private record Frame(String text, boolean content) {
    }

    /** One write to the response, and how many content events it completes. */
    private record Write(Buffer bytes, int contentEvents) {
    }

    private static List<Write> frame(List<Frame> frames, Behaviour b) {
        List<Write> writes = new ArrayList<>();
        switch (b.framing) {
            case EVENT_PER_WRITE -> frames.forEach(f -> writes.add(new Write(Buffer.buffer(f.text()),
                    f.content() ? 1 : 0)));
            case BURST -> {
                if (!frames.isEmpty()) {
                    Buffer all = Buffer.buffer();
                    frames.forEach(f -> all.appendString(f.text()));
                    writes.add(new Write(all, (int) frames.stream().filter(Frame::content).count()));
                }
            }
            case FRAGMENTS -> {
                // a content event counts as written with the fragment that carries its last byte
                Buffer all = Buffer.buffer();
                List<Integer> contentEnds = new ArrayList<>();
                for (Frame f : frames) {
                    all.appendString(f.text());
                    if (f.content()) {
                        contentEnds.add(all.length());
                    }
                }
                int nextEnd = 0;
                for (int from = 0; from < all.length(); from += b.fragmentBytes) {
                    int to = Math.min(all.length(), from + b.fragmentBytes);
                    int completed = 0;
                    while (nextEnd < contentEnds.size() && contentEnds.get(nextEnd) <= to) {
                        completed++;
                        nextEnd++;
                    }
                    writes.add(new Write(all.getBuffer(from, to), completed));
                }
            }
        }
        return writes;
    }

    private static boolean carriesContent(JsonObject chunk) {
        return chunk.getValue("choices") instanceof JsonArray choices && !choices.isEmpty()
                && choices.getValue(0) instanceof JsonObject choice
                && choice.getValue("delta") instanceof JsonObject delta
                && delta.getValue("content") instanceof String content && !content.isEmpty();
    }

    private static JsonObject message(Behaviour b) {
        JsonObject message = new JsonObject().put("role", "assistant").put("content", b.content).putNull("refusal");
        if (b.toolCall != null) {
            message.put("tool_calls", new JsonArray().add(new JsonObject().put("id", b.toolCall[0])
                    .put("type", "function").put("function", new JsonObject().put("name", b.toolCall[1])
                            .put("arguments", b.toolCall[2]))));
        }
        return message;
    }

    private static JsonObject toolCallDelta(JsonObject call) {
        return new JsonObject().put("tool_calls", new JsonArray().add(call));
    }

    private static JsonObject chunk(String id, JsonObject request, boolean usageField, JsonObject delta,
                                    String finishReason) {
        JsonObject chunk = envelope(id, request, "chat.completion.chunk")
                .put("choices", new JsonArray().add(new JsonObject()
                        .put("index", 0)
                        .put("delta", delta)
                        .putNull("logprobs")
                        .put("finish_reason", finishReason)));
        if (usageField) {
            chunk.putNull("usage");
        }
        return chunk;
    }

    private String nextId() {
        return "chatcmpl-fake" + ids.incrementAndGet();
    }

    private static JsonObject envelope(String id, JsonObject request, String object) {
        return new JsonObject()
                .put("id", id)
                .put("object", object)
                .put("created", System.currentTimeMillis() / 1000)
                .put("model", request.getValue("model") instanceof String m ? m : "fake-model")
                .put("system_fingerprint", "fp_fake");
    }

    private static JsonObject usage(JsonObject request, Behaviour b) {
        int completion = b.completionTokens != null ? b.completionTokens : defaultCompletionTokens(request);
        return new JsonObject()
                .put("prompt_tokens", b.promptTokens)
                .put("completion_tokens", completion)
                .put("total_tokens", b.promptTokens + completion)
                .put("prompt_tokens_details", new JsonObject().put("cached_tokens", 0))
                .put("completion_tokens_details", new JsonObject().put("reasoning_tokens", 0));
    }

    private static int defaultCompletionTokens(JsonObject request) {
        for (String field : List.of("max_completion_tokens", "max_tokens")) {
            if (request.getValue(field) instanceof Number n) {
                return n.intValue();
            }
        }
        return 10;
    }

    private static List<String> split(String text, int pieces) {
        List<String> out = new ArrayList<>(pieces);
        for (int i = 0; i < pieces; i++) {
            out.add(text.substring(i * text.length() / pieces, (i + 1) * text.length() / pieces));
        }
        return out;
    }

    static void sendError(HttpServerResponse response, ResponseTrace trace, int status, String type, String code,
                          String message) {
        response.setStatusCode(status).putHeader("Content-Type", "application/json");
        end(response, trace, new JsonObject().put("error", errorObject(status, type, code, message)).toBuffer());
    }

    /** Ends the response ({@code body} may be null); the trace records it once the end reached the connection. */
    static void end(HttpServerResponse response, ResponseTrace trace, Buffer body) {
        (body == null ? response.end() : response.end(body)).onSuccess(ended -> trace.ended.tryComplete());
    }

    private static JsonObject errorObject(int status, String type, String code, String message) {
        return new JsonObject().put("message", message).put("type", type).putNull("param").put("code", code);
    }

    private static String errorType(Behaviour b) {
        if (b.errorType != null) {
            return b.errorType;
        }
        return switch (b.status) {
            case 429 -> "requests";
            case 403 -> "permission_error";
            case 529 -> "overloaded_error";
            default -> b.status >= 500 || b.status == 200 ? "server_error" : "invalid_request_error";
        };
    }

    private static String errorCode(Behaviour b) {
        if (b.errorCode != null) {
            return b.errorCode;
        }
        return switch (b.status) {
            case 401 -> "invalid_api_key";
            case 404 -> "model_not_found";
            case 429 -> "rate_limit_exceeded";
            default -> null;
        };
    }

    private static String errorMessage(Behaviour b) {
        if (b.errorMessage != null) {
            return b.errorMessage;
        }
        return switch (b.status) {
            case 400 -> "Invalid request.";
            case 401 -> "Incorrect API key provided.";
            case 404 -> "The model does not exist or you do not have access to it.";
            case 429 -> "Rate limit reached for requests. Please try again in 1s.";
            case 503 -> "The engine is currently overloaded, please try again later.";
            case 529 -> "Overloaded";
            default -> "The server had an error while processing your request. Sorry about that!";
        };
    }

    private void after(long millis, Runnable action) {
        if (millis > 0) {
            vertx.setTimer(millis, id -> action.run());
        } else {
            action.run();
        }
    }

    private static JsonObject parseObject(Buffer raw) {
        try {
            return raw.length() == 0 ? null : new JsonObject(raw);
        } catch (RuntimeException notAnObject) {
            return null;
        }
    }

    private static Map<String, List<String>> headersOf(HttpServerRequest request) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        request.headers().forEach(e -> headers
                .computeIfAbsent(e.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(e.getValue()));
        headers.replaceAll((k, v) -> List.copyOf(v));
        return Map.copyOf(headers);
    }

    /**
     * Runs the fake stand-alone, for benchmarks and manual tests:
     * {@code java ... FakeOpenAiUpstream --port=8089 --chunks=20 --interval-ms=10 --api-key=sk-x
     * --prompt-tokens=5 --completion-tokens=20 --delay-ms=0}.
     */
    public static void main(String[] args) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (String arg : args) {
            if (!arg.startsWith("--") || !arg.contains("=")) {
                throw new IllegalArgumentException("expected --name=value, got: " + arg);
            }
            flags.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        int port = Integer.parseInt(flags.getOrDefault("port", "8089"));
        Behaviour behaviour = Behaviour.normal()
                .chunks(Integer.parseInt(flags.getOrDefault("chunks", "4")))
                .intervalMs(Long.parseLong(flags.getOrDefault("interval-ms", "0")))
                .delayMs(Long.parseLong(flags.getOrDefault("delay-ms", "0")))
                .promptTokens(Integer.parseInt(flags.getOrDefault("prompt-tokens", "5")));
        if (flags.containsKey("completion-tokens")) {
            behaviour = behaviour.completionTokens(Integer.parseInt(flags.get("completion-tokens")));
        }
        if (flags.containsKey("content")) {
            behaviour = behaviour.content(flags.get("content"));
        }
        FakeOpenAiUpstream upstream = new FakeOpenAiUpstream().behave(behaviour).requireApiKey(flags.get("api-key"))
                .recordRequests(false);
        Vertx vertx = Vertx.vertx();
        upstream.start(vertx, port)
                .onSuccess(u -> System.out.println("fake OpenAI upstream listening on " + u.baseUrl()))
                .onFailure(failure -> {
                    System.err.println("fake OpenAI upstream failed to start: " + failure.getMessage());
                    vertx.close();
                });
    }
}
