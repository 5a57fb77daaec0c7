package co.corouter.testkit.anthropic;

import co.corouter.testkit.anthropic.AnthropicBehaviour.Fault;
import co.corouter.testkit.anthropic.ScriptedAnswer.Block;
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

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A hostile stand-in for Anthropic's Messages API on 127.0.0.1 (specs/anthropic-messages.md §2–4, §7.3):
 * {@code POST /v1/messages} (with or without {@code ?beta=true}) answering whole Messages or SSE streams in
 * Anthropic's shape — {@code event:} and {@code data:} lines, {@code message_start} with usage, content blocks with
 * {@code text_delta}, {@code thinking_delta}/{@code signature_delta} and {@code input_json_delta}, a {@code ping},
 * {@code message_delta} with the stop reason and cumulative output tokens, {@code message_stop} — and
 * {@code POST /v1/messages/count_tokens}. It checks requests as the real API does ({@link MessagesValidator}: unknown
 * fields, empty text blocks, unanswered {@code tool_use}, ...; a missing {@code anthropic-version}; the API key in
 * {@code x-api-key} or {@code Authorization: Bearer}), sends a {@code request-id} on every response and errors as
 * {@code {"type":"error","error":{type,message}}}, or misbehaves as an {@link AnthropicBehaviour} scripts it.
 *
 * <pre>
 * FakeAnthropicUpstream upstream = new FakeAnthropicUpstream().requireApiKey("sk-ant-test");
 * upstream.start(vertx).onSuccess(u -&gt; ...u.baseUrl()...);                  // http://127.0.0.1:PORT (no /v1)
 * upstream.behave(AnthropicBehaviour.normal().chunks(8).cacheReadTokens(100)); // default for every request
 * upstream.behaveFor("claude-fails", AnthropicBehaviour.error(500));           // by the body's model
 * upstream.enqueue(AnthropicBehaviour.error(529));                             // only the next request
 * assertThat(upstream.lastRequest().body().getInteger("max_tokens")).isEqualTo(64);
 * assertThat(upstream.lastRequest().contentEventsWritten()).isEqualTo(8);
 * </pre>
 *
 * <p>A behaviour is chosen per request: the next {@link #enqueue queued} one, else the one for the body's model,
 * else the default. Requests are served on the Vert.x event loop; counters and recordings are safe to read from the
 * test thread. Every request is recorded, rejected ones included.
 */
public final class FakeAnthropicUpstream {

    private static final String MESSAGES_PATH = "/v1/messages";
    private static final String COUNT_TOKENS_PATH = "/v1/messages/count_tokens";

    private final Script<AnthropicBehaviour> script = new Script<>(AnthropicBehaviour::normal);
    private final Recorder<RecordedAnthropicRequest> recorder = new Recorder<>("fake Anthropic upstream");
    private final AtomicLong ids = new AtomicLong();
    private volatile Vertx vertx;
    private volatile HttpServer server;

    /** Starts listening on 127.0.0.1 on a free port. */
    public Future<FakeAnthropicUpstream> start(Vertx vertx) {
        return start(vertx, 0);
    }

    /** Starts listening on 127.0.0.1 on {@code port} (0 picks a free one). */
    public Future<FakeAnthropicUpstream> start(Vertx vertx, int port) {
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
            throw new IllegalStateException("the fake Anthropic upstream is not started");
        }
        return current.actualPort();
    }

    /** The API root, as SDKs take it ({@code ANTHROPIC_BASE_URL}): {@code http://127.0.0.1:PORT}, no {@code /v1}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /** Sets the behaviour for requests naming {@code model} that have no queued behaviour (the default elsewhere). */
    public FakeAnthropicUpstream behaveFor(String model, AnthropicBehaviour behaviour) {
        script.behaveFor(model, behaviour);
        return this;
    }

    /** Sets the behaviour for every request that has no {@link #enqueue queued} or per-model one. */
    public FakeAnthropicUpstream behave(AnthropicBehaviour behaviour) {
        script.behave(behaviour);
        return this;
    }

    /** Queues behaviours for the next requests, in order; after them the per-model or default ones apply again. */
    public FakeAnthropicUpstream enqueue(AnthropicBehaviour... behaviours) {
        script.enqueue(List.of(behaviours));
        return this;
    }

    /**
     * Answers 401 {@code authentication_error} unless the request carries the key in {@code x-api-key} (which wins
     * when both are sent) or {@code Authorization: Bearer}; {@code null} (the default) accepts any request.
     */
    public FakeAnthropicUpstream requireApiKey(String key) {
        recorder.requireApiKey(key);
        return this;
    }

    /** Number of requests received, whatever their fate. */
    public int requestCount() {
        return recorder.count();
    }

    /** Requests received so far, in arrival order. */
    public List<RecordedAnthropicRequest> requests() {
        return recorder.requests();
    }

    /** The most recent request. */
    public RecordedAnthropicRequest lastRequest() {
        return recorder.last();
    }

    /** Keeps (default) or stops keeping each request; counting goes on. Benchmarks turn it off. */
    public FakeAnthropicUpstream recordRequests(boolean keep) {
        recorder.recording(keep);
        return this;
    }

    /** TCP connections accepted so far; with a keep-alive client, fewer than {@link #requestCount()}. */
    public int connectionsOpened() {
        return recorder.connections();
    }

    /** Forgets requests and queued and per-model behaviours, restores the normal one and drops the API key. */
    public FakeAnthropicUpstream reset() {
        script.reset();
        recorder.reset();
        return this;
    }

    private void handle(HttpServerRequest request) {
        request.body().onSuccess(raw -> serve(request, raw));
    }

    private void serve(HttpServerRequest request, Buffer raw) {
        JsonObject body = parseObject(raw);
        RecordedAnthropicRequest seen = new RecordedAnthropicRequest(request.method().name(), request.path(),
                request.query(), headersOf(request), raw.toString(), body);
        HttpServerResponse response = request.response();
        response.closeHandler(v -> seen.closed.tryComplete());
        recorder.received(seen);
        response.putHeader("request-id", nextId("req_fake"));

        boolean countTokens = COUNT_TOKENS_PATH.equals(request.path());
        if (request.method() != HttpMethod.POST || !(MESSAGES_PATH.equals(request.path()) || countTokens)) {
            sendError(response, seen, 404, "not_found_error", "Not found");
            return;
        }
        if (!authorized(request)) {
            sendError(response, seen, 401, "authentication_error", "invalid x-api-key");
            return;
        }
        String version = request.getHeader("anthropic-version");
        if (version == null || version.isBlank()) {
            sendError(response, seen, 400, "invalid_request_error", "anthropic-version: header is required");
            return;
        }
        if (body == null) {
            sendError(response, seen, 400, "invalid_request_error",
                    "There was an issue with your request body: it must be a JSON object");
            return;
        }
        String problem = countTokens ? countTokensProblem(body) : MessagesValidator.problem(body, version);
        if (problem != null) {
            sendError(response, seen, 400, "invalid_request_error", problem);
            return;
        }
        AnthropicBehaviour chosen = script.next(body.getValue("model") instanceof String model ? model : null);
        after(chosen.delayMs, () -> act(request, body, chosen, seen, countTokens));
    }

    private boolean authorized(HttpServerRequest request) {
        String key = recorder.apiKey();
        if (key == null) {
            return true;
        }
        String xApiKey = request.getHeader("x-api-key");
        if (xApiKey != null) {
            return key.equals(xApiKey);
        }
        return ("Bearer " + key).equals(request.getHeader("Authorization"));
    }

    private void act(HttpServerRequest request, JsonObject body, AnthropicBehaviour b, RecordedAnthropicRequest seen,
                     boolean countTokens) {
        HttpServerResponse response = request.response();
        if (response.closed()) {
            return;
        }
        b.headers.forEach(response::putHeader);
        switch (b.mode) {
            case HANG -> {
                // accepted and never answered: the client's timeout must fire
            }
            case ERROR -> {
                if (b.status == 429 && b.rateLimitHeaders) {
                    rateLimitHeaders(response);
                }
                sendError(response, seen, b.status, errorType(b), errorMessage(b));
            }
            case ANSWER -> {
                if (countTokens) {
                    response.putHeader("Content-Type", "application/json");
                    end(response, seen, new JsonObject().put("input_tokens",
                            b.inputTokens + b.cacheReadTokens + b.cacheCreationTokens).toBuffer());
                    return;
                }
                ScriptedAnswer answer = ScriptedAnswer.of(nextId("msg_fake"), body, b);
                if (Boolean.TRUE.equals(body.getValue("stream"))) {
                    stream(request, answer, b, seen);
                } else {
                    complete(request, answer, b, seen);
                }
            }
        }
    }

    private void complete(HttpServerRequest request, ScriptedAnswer answer, AnthropicBehaviour b,
                          RecordedAnthropicRequest seen) {
        HttpServerResponse response = request.response().putHeader("Content-Type", "application/json");
        if (b.fault == Fault.RESET) {
            request.connection().close();
            return;
        }
        if (b.fault == Fault.STALL) {
            return;
        }
        if (b.malformedBody) {
            end(response, seen, Buffer.buffer("{\"id\":\"" + answer.id + "\",\"type\":\"message\",\"role\":"
                    + "\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"The qu"));
            return;
        }
        end(response, seen, answer.message().toBuffer());
    }

    private void stream(HttpServerRequest request, ScriptedAnswer answer, AnthropicBehaviour b,
                        RecordedAnthropicRequest seen) {
        String nl = b.crlf ? "\r\n" : "\n";
        List<Frame> events = events(answer, nl);
        List<Frame> frames = new ArrayList<>();
        int sent = 0;
        int faultAt = b.fault == Fault.NONE ? Integer.MAX_VALUE : b.faultAfter;
        int next = 0;
        for (; next < events.size(); next++) {
            Frame event = events.get(next);
            if (!event.ping()) {
                if (sent == faultAt) {
                    break;
                }
                sent++;
            }
            frames.add(event);
            if (b.pings && !event.ping() && next + 1 < events.size() && !events.get(next + 1).ping()) {
                frames.add(ping(nl));
            }
        }
        HttpServerResponse response = request.response();
        Runnable end = () -> end(response, seen, null);
        Runnable ending = switch (b.fault) {
            case RESET -> () -> request.connection().close();
            case STALL -> () -> { };
            case MALFORMED_EVENT -> {
                frames.add(new Frame("event: content_block_delta" + nl + "data: {\"type\":\"content_block_delta\","
                        + "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"tru" + nl + nl, false, false));
                frames.addAll(events.subList(next, events.size()));
                yield end;
            }
            case ERROR_EVENT -> {
                JsonObject error = new JsonObject().put("type", "error")
                        .put("error", new JsonObject().put("type", b.errorType != null ? b.errorType
                                : "overloaded_error").put("message", b.errorMessage != null ? b.errorMessage
                                : "Overloaded"));
                frames.add(event("error", error, nl, false));
                yield end;
            }
            case END, NONE -> end;
        };
        response.setChunked(true)
                .putHeader("Content-Type", "text/event-stream; charset=utf-8")
                .putHeader("Cache-Control", "no-cache");
        response.writeHead();
        play(response, seen, frame(frames, b), 0, b.intervalMs, ending);
    }

    /** Every event of the answer in Anthropic's order, with the ping the real API sends after the first block start. */
    private static List<Frame> events(ScriptedAnswer answer, String nl) {
        List<Frame> events = new ArrayList<>();
        events.add(event("message_start", new JsonObject().put("type", "message_start")
                .put("message", answer.startedMessage()), nl, false));
        for (int index = 0; index < answer.blocks.size(); index++) {
            Block block = answer.blocks.get(index);
            JsonObject shell = switch (block.type()) {
                case "thinking" -> new JsonObject().put("type", "thinking").put("thinking", "").put("signature", "");
                case "text" -> new JsonObject().put("type", "text").put("text", "");
                default -> new JsonObject().put("type", "tool_use").put("id", block.toolId())
                        .put("name", block.toolName()).put("input", new JsonObject());
            };
            events.add(event("content_block_start", new JsonObject().put("type", "content_block_start")
                    .put("index", index).put("content_block", shell), nl, false));
            if (index == 0) {
                events.add(ping(nl));
            }
            for (String piece : block.pieces()) {
                JsonObject delta = switch (block.type()) {
                    case "thinking" -> new JsonObject().put("type", "thinking_delta").put("thinking", piece);
                    case "text" -> new JsonObject().put("type", "text_delta").put("text", piece);
                    default -> new JsonObject().put("type", "input_json_delta").put("partial_json", piece);
                };
                events.add(delta(index, delta, nl, !piece.isEmpty()));
            }
            if (block.type().equals("thinking")) {
                events.add(delta(index, new JsonObject().put("type", "signature_delta")
                        .put("signature", ScriptedAnswer.SIGNATURE), nl, false));
            }
            events.add(event("content_block_stop", new JsonObject().put("type", "content_block_stop")
                    .put("index", index), nl, false));
        }
        JsonObject messageDelta = new JsonObject().put("type", "message_delta")
                .put("delta", new JsonObject().put("stop_reason", answer.stopReason)
                        .put("stop_sequence", answer.stopSequence));
        if (!answer.behaviour.omitUsage) {
            messageDelta.put("usage", answer.deltaUsage());
        }
        events.add(event("message_delta", messageDelta, nl, false));
        events.add(event("message_stop", new JsonObject().put("type", "message_stop"), nl, false));
        return events;
    }

    private static Frame delta(int index, JsonObject delta, String nl, boolean content) {
        return event("content_block_delta", new JsonObject().put("type", "content_block_delta").put("index", index)
                .put("delta", delta), nl, content);
    }

    private static Frame event(String name, JsonObject data, String nl, boolean content) {
        return new Frame("event: " + name + nl + "data: " + data.encode() + nl + nl, content, false);
    }

    private static Frame ping(String nl) {
        return new Frame("event: ping" + nl + "data: {\"type\":\"ping\"}" + nl + nl, false, true);
    }

    private void play(HttpServerResponse response, RecordedAnthropicRequest seen, List<Write> writes, int next,
                      long intervalMs, Runnable ending) {
        int i = next;
        while (i < writes.size()) {
            if (response.closed()) {
                return;
            }
            Write write = writes.get(i++);
            response.write(write.bytes());
            seen.contentEvents.addAndGet(write.contentEvents());
            if (intervalMs > 0 && i < writes.size()) {
                int resumeAt = i;
                vertx.setTimer(intervalMs, id -> play(response, seen, writes, resumeAt, intervalMs, ending));
                return;
            }
        }
        if (!response.closed()) {
            after(intervalMs, ending);
        }
    }

    /** One event of the stream as scripted; {@code content} when it carries a non-empty piece (an output token). */
    private record Frame(String text, boolean content, boolean ping) {
    }

    /** One write to the response, and how many content events it completes. */
    private record Write(Buffer bytes, int contentEvents) {
    }

    private static List<Write> frame(List<Frame> frames, AnthropicBehaviour b) {
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

    private static String countTokensProblem(JsonObject body) {
        if (!(body.getValue("model") instanceof String)) {
            return "model: Field required";
        }
        for (String field : List.of("max_tokens", "stream", "metadata", "stop_sequences")) {
            if (body.containsKey(field)) {
                return field + ": Extra inputs are not permitted";
            }
        }
        return body.getValue("messages") instanceof JsonArray ? null : "messages: Field required";
    }

    private static void rateLimitHeaders(HttpServerResponse response) {
        String reset = Instant.now().plusSeconds(1).truncatedTo(ChronoUnit.SECONDS).toString();
        if (!response.headers().contains("anthropic-ratelimit-requests-limit")) {
            response.putHeader("anthropic-ratelimit-requests-limit", "50");
        }
        if (!response.headers().contains("anthropic-ratelimit-requests-remaining")) {
            response.putHeader("anthropic-ratelimit-requests-remaining", "0");
        }
        if (!response.headers().contains("anthropic-ratelimit-requests-reset")) {
            response.putHeader("anthropic-ratelimit-requests-reset", reset);
        }
    }

    private String nextId(String prefix) {
        return prefix + ids.incrementAndGet();
    }

    private static void sendError(HttpServerResponse response, RecordedAnthropicRequest seen, int status, String type,
                                  String message) {
        response.setStatusCode(status).putHeader("Content-Type", "application/json");
        end(response, seen, new JsonObject().put("type", "error")
                .put("error", new JsonObject().put("type", type).put("message", message))
                .put("request_id", response.headers().get("request-id")).toBuffer());
    }

    /** Ends the response ({@code body} may be null); the recording notes it once the end reached the connection. */
    private static void end(HttpServerResponse response, RecordedAnthropicRequest seen, Buffer body) {
        (body == null ? response.end() : response.end(body)).onSuccess(ended -> seen.ended.tryComplete());
    }

    private static String errorType(AnthropicBehaviour b) {
        if (b.errorType != null) {
            return b.errorType;
        }
        return switch (b.status) {
            case 401 -> "authentication_error";
            case 402 -> "billing_error";
            case 403 -> "permission_error";
            case 404 -> "not_found_error";
            case 409 -> "conflict_error";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_error";
            case 504 -> "timeout_error";
            case 529 -> "overloaded_error";
            default -> b.status >= 500 ? "api_error" : "invalid_request_error";
        };
    }

    private static String errorMessage(AnthropicBehaviour b) {
        if (b.errorMessage != null) {
            return b.errorMessage;
        }
        return switch (b.status) {
            case 401 -> "invalid x-api-key";
            case 403 -> "Your API key does not have permission to use the specified resource.";
            case 404 -> "Not found";
            case 413 -> "Request exceeds the maximum allowed number of bytes.";
            case 429 -> "Number of request tokens has exceeded your per-minute rate limit";
            case 504 -> "Request timed out";
            case 529 -> "Overloaded";
            default -> b.status >= 500 ? "Internal server error" : "Invalid request";
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
     * {@code java ... FakeAnthropicUpstream --port=8090 --chunks=20 --interval-ms=10 --api-key=sk-ant-x
     * --input-tokens=5 --output-tokens=20 --cache-read-tokens=0 --delay-ms=0 --text=...}.
     */
    public static void main(String[] args) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (String arg : args) {
            if (!arg.startsWith("--") || !arg.contains("=")) {
                throw new IllegalArgumentException("expected --name=value, got: " + arg);
            }
            flags.put(arg.substring(2, arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
        }
        int port = Integer.parseInt(flags.getOrDefault("port", "8090"));
        AnthropicBehaviour behaviour = AnthropicBehaviour.normal()
                .chunks(Integer.parseInt(flags.getOrDefault("chunks", "4")))
                .intervalMs(Long.parseLong(flags.getOrDefault("interval-ms", "0")))
                .delayMs(Long.parseLong(flags.getOrDefault("delay-ms", "0")))
                .inputTokens(Integer.parseInt(flags.getOrDefault("input-tokens", "5")))
                .cacheReadTokens(Integer.parseInt(flags.getOrDefault("cache-read-tokens", "0")));
        if (flags.containsKey("output-tokens")) {
            behaviour = behaviour.outputTokens(Integer.parseInt(flags.get("output-tokens")));
        }
        if (flags.containsKey("text")) {
            behaviour = behaviour.text(flags.get("text"));
        }
        FakeAnthropicUpstream upstream = new FakeAnthropicUpstream().behave(behaviour)
                .requireApiKey(flags.get("api-key")).recordRequests(false);
        Vertx vertx = Vertx.vertx();
        upstream.start(vertx, port)
                .onSuccess(u -> System.out.println("fake Anthropic upstream listening on " + u.baseUrl()))
                .onFailure(failure -> {
                    System.err.println("fake Anthropic upstream failed to start: " + failure.getMessage());
                    vertx.close();
                });
    }
}
