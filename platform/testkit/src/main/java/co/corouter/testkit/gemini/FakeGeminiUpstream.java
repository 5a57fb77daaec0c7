package co.corouter.testkit.gemini;

import co.corouter.testkit.gemini.GeminiBehaviour.Fault;
import co.corouter.testkit.gemini.GeminiBehaviour.FunctionCall;
import co.corouter.testkit.gemini.GeminiBehaviour.UsagePlacement;
import co.corouter.testkit.gemini.GeminiRequestRules.Invalid;
import co.corouter.testkit.upstream.FakeEmbeddings;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A hostile stand-in for the Gemini API ({@code generativelanguage.googleapis.com/v1beta}) on 127.0.0.1:
 * <ul>
 * <li>{@code POST /v1beta/models/{model}:generateContent} — one {@code GenerateContentResponse};</li>
 * <li>{@code POST /v1beta/models/{model}:streamGenerateContent?alt=sse} — SSE, each event one line
 * {@code data: <GenerateContentResponse>} and a blank line, cumulative {@code usageMetadata}, no {@code [DONE]}: the
 * stream ends when the body does (without {@code alt=sse}: the same objects as one JSON array, as Gemini does);</li>
 * <li>{@code POST /v1beta/models/{model}:embedContent} and {@code :batchEmbedContents} — the vectors of
 * {@link FakeEmbeddings} ({@code outputDimensionality} honoured; no usage, as Gemini reports none).</li>
 * </ul>
 * It checks the API key ({@code x-goog-api-key}, or the {@code key} query parameter Gemini also accepts: a missing key
 * is a 403 {@code PERMISSION_DENIED}, a wrong one a 400 {@code INVALID_ARGUMENT} with {@code ErrorInfo
 * API_KEY_INVALID}), checks bodies as the API does ({@link GeminiRequestRules}: unknown fields, empty parts, Schema
 * keywords outside the OpenAPI subset, function-call turn rules, ...) and answers with Google's error bodies; and it
 * misbehaves as a {@link GeminiBehaviour} scripts.
 *
 * <pre>
 * FakeGeminiUpstream upstream = new FakeGeminiUpstream().requireApiKey("AIza-test");
 * upstream.start(vertx).onSuccess(u -&gt; ...u.baseUrl()...);         // http://127.0.0.1:PORT, a base_url
 * upstream.behave(GeminiBehaviour.normal().chunks(8));              // default for every request
 * upstream.behaveFor("gemini-hangs", GeminiBehaviour.hang());       // by the model in the path
 * upstream.enqueue(GeminiBehaviour.error(429).retryDelay("2s"));    // only the next request
 * assertThat(upstream.lastRequest().sse()).isTrue();
 * </pre>
 *
 * <p>Requests are served on the Vert.x event loop; counters and recordings are safe to read from the test thread. Every
 * request is recorded, rejected ones included, with what the fake did with it.
 */
public final class FakeGeminiUpstream {

    private static final Pattern METHOD_PATH = Pattern.compile(
            "/v1beta/models/([A-Za-z0-9._-]+):(generateContent|streamGenerateContent|embedContent|batchEmbedContents)");

    private final Script<GeminiBehaviour> script = new Script<>(GeminiBehaviour::normal);
    private final Recorder<RecordedGeminiRequest> recorder = new Recorder<>("fake Gemini upstream");
    private final AtomicLong ids = new AtomicLong();
    private volatile Vertx vertx;
    private volatile HttpServer server;

    /** Starts listening on 127.0.0.1 on a free port. */
    public Future<FakeGeminiUpstream> start(Vertx vertx) {
        return start(vertx, 0);
    }

    /** Starts listening on 127.0.0.1 on {@code port} (0 picks a free one). */
    public Future<FakeGeminiUpstream> start(Vertx vertx, int port) {
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
            throw new IllegalStateException("the fake Gemini upstream is not started");
        }
        return current.actualPort();
    }

    /** The API root a provider is configured with, e.g. {@code http://127.0.0.1:PORT} (paths start /v1beta). */
    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    /** Sets the behaviour for requests naming {@code model} in their path that have no queued behaviour. */
    public FakeGeminiUpstream behaveFor(String model, GeminiBehaviour behaviour) {
        script.behaveFor(model, behaviour);
        return this;
    }

    /** Sets the behaviour for every request that has no {@link #enqueue queued} or per-model one. */
    public FakeGeminiUpstream behave(GeminiBehaviour behaviour) {
        script.behave(behaviour);
        return this;
    }

    /** Queues behaviours for the next valid requests, in order; after them the others apply again. */
    public FakeGeminiUpstream enqueue(GeminiBehaviour... behaviours) {
        script.enqueue(List.of(behaviours));
        return this;
    }

    /** Refuses requests that do not carry this key (header or {@code ?key=}); {@code null} accepts all. */
    public FakeGeminiUpstream requireApiKey(String key) {
        recorder.requireApiKey(key);
        return this;
    }

    /** Number of requests received, whatever their fate. */
    public int requestCount() {
        return recorder.count();
    }

    /** Requests received so far, in arrival order. */
    public List<RecordedGeminiRequest> requests() {
        return recorder.requests();
    }

    /** The most recent request. */
    public RecordedGeminiRequest lastRequest() {
        return recorder.last();
    }

    /** Keeps (default) or stops keeping each request; counting goes on. Benchmarks turn it off. */
    public FakeGeminiUpstream recordRequests(boolean keep) {
        recorder.recording(keep);
        return this;
    }

    /** TCP connections accepted so far; with a keep-alive client, fewer than {@link #requestCount()}. */
    public int connectionsOpened() {
        return recorder.connections();
    }

    /** Forgets requests and behaviours, restores {@link GeminiBehaviour#normal()} and drops the API key. */
    public FakeGeminiUpstream reset() {
        script.reset();
        recorder.reset();
        return this;
    }

    private void handle(HttpServerRequest request) {
        request.body().onSuccess(raw -> serve(request, raw));
    }

    private void serve(HttpServerRequest request, Buffer raw) {
        JsonObject body = parseObject(raw);
        Matcher path = METHOD_PATH.matcher(request.path());
        boolean routed = request.method() == HttpMethod.POST && path.matches();
        String model = routed ? path.group(1) : null;
        String action = routed ? path.group(2) : null;
        RecordedGeminiRequest recorded = new RecordedGeminiRequest(request.method().name(), request.path(),
                multiMap(request.params()), multiMap(request.headers()), raw.toString(), body, model, action);
        request.response().closeHandler(v -> recorded.closed.tryComplete());
        recorder.received(recorded);

        HttpServerResponse response = request.response();
        if (!routed) {
            sendError(response, recorded, 404, "NOT_FOUND", "Method not found.", new JsonArray());
            return;
        }
        String key = recorder.apiKey();
        String given = request.getHeader("x-goog-api-key") != null ? request.getHeader("x-goog-api-key")
                : request.getParam("key");
        if (key != null && given == null) {
            sendError(response, recorded, 403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers "
                    + "(callers without established identity). Please use API Key or other form of API consumer "
                    + "identity to call this API.", new JsonArray());
            return;
        }
        if (key != null && !key.equals(given)) {
            sendError(response, recorded, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                    new JsonArray().add(errorInfo("API_KEY_INVALID")).add(new JsonObject()
                            .put("@type", "type.googleapis.com/google.rpc.LocalizedMessage").put("locale", "en-US")
                            .put("message", "API key not valid. Please pass a valid API key.")));
            return;
        }
        if (body == null) {
            sendError(response, recorded, 400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unexpected token.",
                    new JsonArray());
            return;
        }
        try {
            switch (action) {
                case "embedContent" -> GeminiRequestRules.embedContent(body, model);
                case "batchEmbedContents" -> GeminiRequestRules.batchEmbedContents(body, model);
                default -> GeminiRequestRules.generateContent(body);
            }
        } catch (Invalid invalid) {
            sendError(response, recorded, 400, "INVALID_ARGUMENT", invalid.getMessage(), new JsonArray().add(
                    new JsonObject().put("@type", "type.googleapis.com/google.rpc.BadRequest")
                            .put("fieldViolations", new JsonArray().add(new JsonObject()
                                    .put("field", invalid.field).put("description", invalid.getMessage())))));
            return;
        }
        GeminiBehaviour chosen = script.next(model);
        after(chosen.delayMs, () -> act(request, recorded, body, chosen));
    }

    private void act(HttpServerRequest request, RecordedGeminiRequest recorded, JsonObject body, GeminiBehaviour b) {
        HttpServerResponse response = request.response();
        if (response.closed()) {
            return;
        }
        b.headers.forEach(response::putHeader);
        switch (b.mode) {
            case HANG -> {
                // accepted and never answered: the client's timeout must fire
            }
            case ERROR -> sendError(response, recorded, b);
            case ANSWER -> {
                switch (recorded.action()) {
                    case "embedContent", "batchEmbedContents" -> embed(request, recorded, body, b);
                    case "streamGenerateContent" -> stream(request, recorded, body, b);
                    default -> generate(request, recorded, body, b);
                }
            }
        }
    }

    // ---- generateContent ----

    private void generate(HttpServerRequest request, RecordedGeminiRequest recorded, JsonObject body,
                          GeminiBehaviour b) {
        HttpServerResponse response = request.response().putHeader("Content-Type", "application/json; charset=UTF-8");
        if (b.fault == Fault.RESET) {
            request.connection().close();
            return;
        }
        if (b.fault == Fault.STALL) {
            return;
        }
        if (b.malformedBody) {
            end(response, recorded, Buffer.buffer("{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The qu"));
            return;
        }
        Answer answer = new Answer(recorded.model(), body, b, nextId());
        JsonObject whole = new JsonObject();
        if (b.blockReason != null) {
            whole.put("promptFeedback", promptFeedback(b.blockReason));
            if (b.usage != UsagePlacement.NONE) {
                whole.put("usageMetadata", answer.usage(0));
            }
        } else {
            JsonArray parts = new JsonArray();
            if (b.thoughts != null) {
                parts.add(new JsonObject().put("text", b.thoughts).put("thought", true));
            }
            if (!b.content.isEmpty()) {
                parts.add(new JsonObject().put("text", b.content));
            }
            functionCallParts(b).forEach(parts::add);
            whole.put("candidates", new JsonArray().add(answer.candidate(parts, true)));
            if (b.usage != UsagePlacement.NONE) {
                whole.put("usageMetadata", answer.usage(1));
            }
        }
        end(response, recorded, Buffer.buffer(answer.stamped(whole).encodePrettily()));
    }

    // ---- streamGenerateContent ----

    private void stream(HttpServerRequest request, RecordedGeminiRequest recorded, JsonObject body,
                        GeminiBehaviour b) {
        boolean sse = recorded.sse();
        String nl = b.crlf ? "\r\n" : "\n";
        Answer answer = new Answer(recorded.model(), body, b, nextId());
        List<JsonObject> chunks = answer.events();
        List<Frame> events = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            JsonObject chunk = chunks.get(i);
            String text = sse ? "data: " + chunk.encode() + nl + nl
                    : (i == 0 ? "[" : ",\r\n") + chunk.encodePrettily();
            events.add(new Frame(text, carriesOutput(chunk)));
        }
        int faultAt = b.fault == Fault.NONE ? events.size() : Math.min(b.faultAfter, events.size());
        List<Frame> frames = new ArrayList<>(events.subList(0, faultAt));
        HttpServerResponse response = request.response();
        String closing = sse ? "" : (faultAt == 0 ? "[" : "") + "\r\n]";
        Runnable end = () -> end(response, recorded, closing.isEmpty() ? null : Buffer.buffer(closing));
        Runnable ending;
        switch (b.fault) {
            case RESET -> ending = () -> request.connection().close();
            case STALL -> ending = () -> { };
            case MALFORMED_EVENT -> {
                frames.add(new Frame("data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"tru" + nl + nl,
                        false));
                frames.addAll(events.subList(faultAt, events.size()));
                ending = end;
            }
            case ERROR_EVENT -> {
                frames.add(new Frame("data: " + new JsonObject().put("error", streamError(b)).encode() + nl + nl,
                        false));
                ending = () -> end(response, recorded, null);
            }
            case RAW_ERROR -> {
                frames.add(new Frame(new JsonObject().put("error", streamError(b)).encodePrettily() + nl, false));
                ending = () -> end(response, recorded, null);
            }
            case END, NONE -> ending = end;
            default -> throw new IllegalStateException("unhandled fault " + b.fault);
        }
        response.setChunked(true)
                .putHeader("Content-Type", sse ? "text/event-stream" : "application/json; charset=UTF-8")
                .putHeader("Content-Disposition", "attachment")
                .putHeader("Vary", "Origin, X-Origin, Referer");
        response.writeHead();
        play(response, recorded, frame(frames, b), 0, b.intervalMs, ending);
    }

    private void play(HttpServerResponse response, RecordedGeminiRequest recorded, List<Write> writes, int next,
                      long intervalMs, Runnable ending) {
        int i = next;
        while (i < writes.size()) {
            if (response.closed()) {
                return;
            }
            Write write = writes.get(i++);
            response.write(write.bytes());
            recorded.contentEvents.addAndGet(write.contentEvents());
            if (intervalMs > 0 && i < writes.size()) {
                int resumeAt = i;
                vertx.setTimer(intervalMs, id -> play(response, recorded, writes, resumeAt, intervalMs, ending));
                return;
            }
        }
        if (!response.closed()) {
            after(intervalMs, ending);
        }
    }

    /** One piece of the stream as scripted, and whether it carries output. */
    private record Frame(String text, boolean output) {
    }

    /** One write to the response, and how many output events it completes. */
    private record Write(Buffer bytes, int contentEvents) {
    }

    private static List<Write> frame(List<Frame> frames, GeminiBehaviour b) {
        List<Write> writes = new ArrayList<>();
        switch (b.framing) {
            case EVENT_PER_WRITE -> frames.forEach(f -> writes.add(new Write(Buffer.buffer(f.text()),
                    f.output() ? 1 : 0)));
            case BURST -> {
                if (!frames.isEmpty()) {
                    Buffer all = Buffer.buffer();
                    frames.forEach(f -> all.appendString(f.text()));
                    writes.add(new Write(all, (int) frames.stream().filter(Frame::output).count()));
                }
            }
            case FRAGMENTS -> {
                Buffer all = Buffer.buffer();
                List<Integer> outputEnds = new ArrayList<>();
                for (Frame f : frames) {
                    all.appendString(f.text());
                    if (f.output()) {
                        outputEnds.add(all.length());
                    }
                }
                int nextEnd = 0;
                for (int from = 0; from < all.length(); from += b.fragmentBytes) {
                    int to = Math.min(all.length(), from + b.fragmentBytes);
                    int completed = 0;
                    while (nextEnd < outputEnds.size() && outputEnds.get(nextEnd) <= to) {
                        completed++;
                        nextEnd++;
                    }
                    writes.add(new Write(all.getBuffer(from, to), completed));
                }
            }
        }
        return writes;
    }

    private static boolean carriesOutput(JsonObject chunk) {
        if (!(chunk.getValue("candidates") instanceof JsonArray candidates) || candidates.isEmpty()
                || !(candidates.getValue(0) instanceof JsonObject candidate)
                || !(candidate.getValue("content") instanceof JsonObject content)
                || !(content.getValue("parts") instanceof JsonArray parts)) {
            return false;
        }
        for (Object part : parts) {
            JsonObject p = (JsonObject) part;
            if (p.containsKey("functionCall")
                    || (p.getValue("text") instanceof String text && !text.isEmpty() && !p.containsKey("thought"))) {
                return true;
            }
        }
        return false;
    }

    /** The token counts and envelope of one answer, after the request's {@code maxOutputTokens} cut them. */
    private static final class Answer {
        private final String model;
        private final String responseId;
        private final GeminiBehaviour b;
        private final int thoughts;
        private final int candidates;
        private final String finishReason;

        Answer(String model, JsonObject request, GeminiBehaviour b, String responseId) {
            this.model = model;
            this.responseId = responseId;
            this.b = b;
            Integer cap = maxOutputTokens(request);
            int t = b.thoughtsTokens;
            int c = b.candidatesTokens;
            String reason = b.finishReason;
            if (cap != null && t + c > cap) {
                t = Math.min(t, cap);
                c = cap - t;
                reason = "STOP".equals(reason) ? "MAX_TOKENS" : reason;
            }
            this.thoughts = t;
            this.candidates = c;
            this.finishReason = reason;
        }

        /** Adds {@code modelVersion} and {@code responseId} last, where Gemini writes them. */
        JsonObject stamped(JsonObject response) {
            return response.put("modelVersion", model).put("responseId", responseId);
        }

        /** A candidate with these parts ({@code content: {"role":"model"}} without any), finishing when asked. */
        JsonObject candidate(JsonArray parts, boolean finishing) {
            JsonObject content = new JsonObject();
            if (!parts.isEmpty()) {
                content.put("parts", parts);
            }
            content.put("role", "model");
            JsonObject candidate = new JsonObject().put("content", content);
            if (finishing) {
                candidate.put("finishReason", finishReason);
                if (!"STOP".equals(finishReason) && !"MAX_TOKENS".equals(finishReason)) {
                    candidate.put("safetyRatings", new JsonArray().add(new JsonObject()
                            .put("category", "HARM_CATEGORY_DANGEROUS_CONTENT").put("probability", "HIGH")
                            .put("blocked", true)));
                }
            }
            return candidate.put("index", 0);
        }

        /** Cumulative usage at {@code fraction} of the answer; fields that would be 0 are left out, as Gemini does. */
        JsonObject usage(double fraction) {
            int c = (int) Math.round(candidates * fraction);
            int t = fraction > 0 ? thoughts : 0;
            JsonObject usage = new JsonObject().put("promptTokenCount", b.promptTokens);
            if (c > 0) {
                usage.put("candidatesTokenCount", c);
            }
            usage.put("totalTokenCount", b.promptTokens + c + t);
            if (b.cachedTokens > 0) {
                usage.put("cachedContentTokenCount", b.cachedTokens);
            }
            if (t > 0) {
                usage.put("thoughtsTokenCount", t);
            }
            return usage.put("promptTokensDetails", new JsonArray().add(new JsonObject().put("modality", "TEXT")
                    .put("tokenCount", b.promptTokens)));
        }

        /** The stream's events: thoughts, text pieces, function calls, and the finish on the last one. */
        List<JsonObject> events() {
            List<JsonObject> events = new ArrayList<>();
            if (b.blockReason != null) {
                JsonObject blocked = new JsonObject().put("promptFeedback", promptFeedback(b.blockReason));
                if (b.usage != UsagePlacement.NONE) {
                    blocked.put("usageMetadata", usage(0));
                }
                events.add(stamped(blocked));
                return events;
            }
            List<JsonArray> parts = new ArrayList<>();
            if (b.thoughts != null) {
                parts.add(new JsonArray().add(new JsonObject().put("text", b.thoughts).put("thought", true)));
            }
            if (!b.content.isEmpty()) {
                for (String piece : split(b.content, b.chunks)) {
                    parts.add(new JsonArray().add(new JsonObject().put("text", piece)));
                }
            }
            List<JsonObject> calls = functionCallParts(b);
            if (!calls.isEmpty()) {
                JsonArray callParts = new JsonArray();
                calls.forEach(callParts::add);
                parts.add(callParts);
                // Gemini sends STOP in a later event after function calls, often with an empty text
                parts.add(new JsonArray().add(new JsonObject().put("text", "")));
            }
            if (parts.isEmpty()) {
                parts.add(new JsonArray());
            }
            for (int i = 0; i < parts.size(); i++) {
                boolean last = i == parts.size() - 1;
                JsonObject event = new JsonObject()
                        .put("candidates", new JsonArray().add(candidate(parts.get(i), last)));
                boolean withUsage = switch (b.usage) {
                    case EVERY_EVENT -> true;
                    case LAST_EVENT_ONLY -> last;
                    case NOT_ON_LAST_EVENT -> !last;
                    case NONE -> false;
                };
                if (withUsage) {
                    event.put("usageMetadata", usage((i + 1) / (double) parts.size()));
                }
                events.add(stamped(event));
            }
            return events;
        }

        private static Integer maxOutputTokens(JsonObject request) {
            if (GeminiRequestRules.field(request, "generationConfig") instanceof JsonObject config
                    && GeminiRequestRules.field(config, "maxOutputTokens") instanceof Number max) {
                return max.intValue();
            }
            return null;
        }
    }

    private static List<JsonObject> functionCallParts(GeminiBehaviour b) {
        List<JsonObject> parts = new ArrayList<>();
        for (FunctionCall call : b.functionCalls) {
            JsonObject functionCall = new JsonObject().put("name", call.name()).put("args", call.args().copy());
            if (call.id() != null) {
                functionCall.put("id", call.id());
            }
            JsonObject part = new JsonObject().put("functionCall", functionCall);
            if (parts.isEmpty() && b.thoughtSignature != null) {
                part.put("thoughtSignature", b.thoughtSignature);
            }
            parts.add(part);
        }
        return parts;
    }

    private static JsonObject promptFeedback(String reason) {
        return new JsonObject().put("blockReason", reason).put("safetyRatings", new JsonArray().add(new JsonObject()
                .put("category", "HARM_CATEGORY_HARASSMENT").put("probability", "HIGH").put("blocked", true)));
    }

    private static List<String> split(String text, int pieces) {
        List<String> out = new ArrayList<>(pieces);
        for (int i = 0; i < pieces; i++) {
            out.add(text.substring(i * text.length() / pieces, (i + 1) * text.length() / pieces));
        }
        return out;
    }

    // ---- embeddings ----

    private void embed(HttpServerRequest request, RecordedGeminiRequest recorded, JsonObject body,
                       GeminiBehaviour b) {
        HttpServerResponse response = request.response().putHeader("Content-Type", "application/json; charset=UTF-8");
        if (b.fault == Fault.RESET) {
            request.connection().close();
            return;
        }
        if (b.fault == Fault.STALL) {
            return;
        }
        if (b.malformedBody) {
            end(response, recorded, Buffer.buffer("{\"embeddings\": [{\"values\": [0.12"));
            return;
        }
        JsonObject answer;
        if ("embedContent".equals(recorded.action())) {
            answer = new JsonObject().put("embedding", embedding(body));
        } else {
            JsonArray embeddings = new JsonArray();
            for (Object one : body.getJsonArray("requests")) {
                embeddings.add(embedding((JsonObject) one));
            }
            answer = new JsonObject().put("embeddings", embeddings);
        }
        end(response, recorded, Buffer.buffer(answer.encodePrettily()));
    }

    private static JsonObject embedding(JsonObject request) {
        StringBuilder text = new StringBuilder();
        for (Object part : request.getJsonObject("content").getJsonArray("parts")) {
            text.append(((JsonObject) part).getString("text"));
        }
        int dimensions = GeminiRequestRules.field(request, "outputDimensionality") instanceof Number n
                ? n.intValue() : FakeEmbeddings.DEFAULT_DIMENSIONS;
        JsonArray values = new JsonArray();
        for (float v : FakeEmbeddings.vector(text.toString(), dimensions)) {
            values.add(v);
        }
        return new JsonObject().put("values", values);
    }

    // ---- errors ----

    private static void sendError(HttpServerResponse response, RecordedGeminiRequest recorded, GeminiBehaviour b) {
        if (b.htmlBody) {
            response.setStatusCode(b.status).putHeader("Content-Type", "text/html; charset=UTF-8");
            end(response, recorded, Buffer.buffer("<html><head><title>" + b.status + " Bad Gateway</title></head>"
                    + "<body><h1>Bad Gateway</h1></body></html>"));
            return;
        }
        JsonArray details = new JsonArray();
        if (b.status == 429) {
            details.add(new JsonObject().put("@type", "type.googleapis.com/google.rpc.QuotaFailure")
                    .put("violations", new JsonArray().add(new JsonObject()
                            .put("quotaMetric", "generativelanguage.googleapis.com/generate_content_free_tier_requests")
                            .put("quotaId", "GenerateRequestsPerMinutePerProjectPerModel-FreeTier")
                            .put("quotaDimensions", new JsonObject().put("location", "global").put("model", "fake"))
                            .put("quotaValue", "15"))));
            details.add(new JsonObject().put("@type", "type.googleapis.com/google.rpc.Help")
                    .put("links", new JsonArray().add(new JsonObject()
                            .put("description", "Learn more about Gemini API quotas")
                            .put("url", "https://ai.google.dev/gemini-api/docs/rate-limits"))));
        }
        if (b.errorReason != null) {
            details.add(errorInfo(b.errorReason));
        }
        if (b.retryDelay != null) {
            details.add(retryInfo(b.retryDelay));
        }
        sendError(response, recorded, b.status, b.errorStatus != null ? b.errorStatus : statusName(b.status),
                b.errorMessage != null ? b.errorMessage : defaultMessage(b.status), details);
    }

    private static void sendError(HttpServerResponse response, RecordedGeminiRequest recorded, int status,
                                  String statusName, String message, JsonArray details) {
        JsonObject error = new JsonObject().put("code", status).put("message", message).put("status", statusName);
        if (!details.isEmpty()) {
            error.put("details", details);
        }
        response.setStatusCode(status).putHeader("Content-Type", "application/json; charset=UTF-8");
        end(response, recorded, Buffer.buffer(new JsonObject().put("error", error).encodePrettily()));
    }

    /** The error object of a mid-stream error: code, message, status (and RetryInfo when a delay is scripted). */
    private static JsonObject streamError(GeminiBehaviour b) {
        JsonObject error = new JsonObject().put("code", b.faultCode)
                .put("message", b.errorMessage != null ? b.errorMessage : defaultMessage(b.faultCode))
                .put("status", b.errorStatus != null ? b.errorStatus : statusName(b.faultCode));
        if (b.retryDelay != null) {
            error.put("details", new JsonArray().add(retryInfo(b.retryDelay)));
        }
        return error;
    }

    private static JsonObject errorInfo(String reason) {
        return new JsonObject().put("@type", "type.googleapis.com/google.rpc.ErrorInfo").put("reason", reason)
                .put("domain", "googleapis.com")
                .put("metadata", new JsonObject().put("service", "generativelanguage.googleapis.com"));
    }

    private static JsonObject retryInfo(String delay) {
        return new JsonObject().put("@type", "type.googleapis.com/google.rpc.RetryInfo").put("retryDelay", delay);
    }

    /** The {@code google.rpc.Code} name Google pairs with an HTTP status. */
    static String statusName(int status) {
        return switch (status) {
            case 400 -> "INVALID_ARGUMENT";
            case 401 -> "UNAUTHENTICATED";
            case 403 -> "PERMISSION_DENIED";
            case 404 -> "NOT_FOUND";
            case 409 -> "ABORTED";
            case 429 -> "RESOURCE_EXHAUSTED";
            case 499 -> "CANCELLED";
            case 500 -> "INTERNAL";
            case 501 -> "UNIMPLEMENTED";
            case 503 -> "UNAVAILABLE";
            case 504 -> "DEADLINE_EXCEEDED";
            default -> status >= 500 ? "UNKNOWN" : "FAILED_PRECONDITION";
        };
    }

    private static String defaultMessage(int status) {
        return switch (status) {
            case 400 -> "Request contains an invalid argument.";
            case 401 -> "Request had invalid authentication credentials.";
            case 403 -> "The caller does not have permission";
            case 404 -> "models/fake is not found for API version v1beta, or is not supported for generateContent.";
            case 429 -> "You exceeded your current quota, please check your plan and billing details.";
            case 500 -> "An internal error has occurred. Please retry or report in https://developers.generativeai"
                    + ".google/guide/troubleshooting";
            case 503 -> "The model is overloaded. Please try again later.";
            case 504 -> "Deadline expired before operation could complete.";
            default -> "The service encountered an error.";
        };
    }

    /** Ends the response ({@code body} may be null); the recording notes it once the end reached the connection. */
    private static void end(HttpServerResponse response, RecordedGeminiRequest recorded, Buffer body) {
        (body == null ? response.end() : response.end(body)).onSuccess(ended -> recorded.ended.tryComplete());
    }

    private String nextId() {
        return "fake-response-" + ids.incrementAndGet();
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

    private static Map<String, List<String>> multiMap(io.vertx.core.MultiMap entries) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        entries.forEach(e -> out.computeIfAbsent(e.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                .add(e.getValue()));
        out.replaceAll((k, v) -> List.copyOf(v));
        return Map.copyOf(out);
    }

    /**
     * Runs the fake stand-alone, for benchmarks and manual tests (loads neither JUnit nor a tokenizer):
     * {@code java ... FakeGeminiUpstream --port=8090 --chunks=20 --interval-ms=10 --api-key=AIza-x
     * --prompt-tokens=5 --candidates-tokens=20 --delay-ms=0 --content=...}.
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
        GeminiBehaviour behaviour = GeminiBehaviour.normal()
                .chunks(Integer.parseInt(flags.getOrDefault("chunks", "4")))
                .intervalMs(Long.parseLong(flags.getOrDefault("interval-ms", "0")))
                .delayMs(Long.parseLong(flags.getOrDefault("delay-ms", "0")))
                .promptTokens(Integer.parseInt(flags.getOrDefault("prompt-tokens", "5")))
                .candidatesTokens(Integer.parseInt(flags.getOrDefault("candidates-tokens", "10")));
        if (flags.containsKey("content")) {
            behaviour = behaviour.content(flags.get("content"));
        }
        FakeGeminiUpstream upstream = new FakeGeminiUpstream().behave(behaviour).requireApiKey(flags.get("api-key"))
                .recordRequests(false);
        Vertx vertx = Vertx.vertx();
        upstream.start(vertx, port)
                .onSuccess(u -> System.out.println("fake Gemini upstream listening on " + u.baseUrl()))
                .onFailure(failure -> {
                    System.err.println("fake Gemini upstream failed to start: " + failure.getMessage());
                    vertx.close();
                });
    }
}
