package co.corouter.bench;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * Load tools for scripts/bench, printing one JSON object on stdout. Latencies are microseconds.
 *
 * <pre>
 * open: open-loop POSTs at a fixed rate; latency is measured from each request's INTENDED send time, so a
 *       stalled server is charged for every request it delayed (coordinated-omission correct, like wrk2).
 *   LoadGen open --url=http://127.0.0.1:8080/v1/chat/completions --body-file=b.json --rate=2000
 *                --duration-s=10 --warmup-s=2 [--connections=512] [--header=Name: value]...
 * sse:  C concurrent clients, each streaming requests back to back; every SSE event is timestamped on
 *       arrival: time to first event, time to first content token (TTFT), gaps between consecutive events,
 *       stalls (a gap longer than --stall-ms), errors (status, error event, no [DONE]).
 *   LoadGen sse --url=... --body-file=stream.json --concurrency=1 --duration-s=10 --warmup-s=2 --stall-ms=200
 * </pre>
 */
public final class LoadGen {

    /** One Vert.x (one event loop) for every run of this process, so a long-lived {@code serve} stays JIT-warm. */
    static final Vertx VERTX = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
            .setBlockedThreadCheckInterval(60_000));

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: LoadGen open|sse --url=... --body-file=... [flags] | LoadGen serve");
            System.exit(2);
        }
        if (args[0].equals("serve")) {
            serve();
        } else {
            Map<String, String> flags = new LinkedHashMap<>();
            List<String[]> headers = new ArrayList<>();
            for (int i = 1; i < args.length; i++) {
                String a = args[i];
                if (!a.startsWith("--") || !a.contains("=")) {
                    throw new IllegalArgumentException("expected --name=value, got " + a);
                }
                String name = a.substring(2, a.indexOf('='));
                String value = a.substring(a.indexOf('=') + 1);
                if (name.equals("header")) {
                    int colon = value.indexOf(':');
                    headers.add(new String[] {value.substring(0, colon).trim(), value.substring(colon + 1).trim()});
                } else {
                    flags.put(name, value);
                }
            }
            System.out.println(run(args[0], flags, headers).encode());
        }
        System.out.flush();
        VERTX.close().await();
        System.exit(0);
    }

    /**
     * Long-lived mode for the harness: one JSON command per stdin line ({"mode":"open"|"sse", "url":..., "body-file":...,
     * "headers":[["Name","value"]], other flags as in the CLI}), one JSON result per stdout line. Staying up keeps the
     * generator's own code compiled, so its overhead is the same for every gateway measured.
     */
    static void serve() throws IOException {
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            JsonObject out;
            try {
                JsonObject cmd = new JsonObject(line);
                Map<String, String> flags = new LinkedHashMap<>();
                List<String[]> headers = new ArrayList<>();
                for (Map.Entry<String, Object> e : cmd) {
                    if (e.getKey().equals("headers")) {
                        for (Object h : (io.vertx.core.json.JsonArray) e.getValue()) {
                            io.vertx.core.json.JsonArray pair = (io.vertx.core.json.JsonArray) h;
                            headers.add(new String[] {pair.getString(0), pair.getString(1)});
                        }
                    } else if (!e.getKey().equals("mode")) {
                        flags.put(e.getKey(), String.valueOf(e.getValue()));
                    }
                }
                out = run(cmd.getString("mode"), flags, headers);
            } catch (Exception e) {
                out = new JsonObject().put("error", String.valueOf(e));
            }
            System.out.println(out.encode());
            System.out.flush();
        }
    }

    static JsonObject run(String mode, Map<String, String> flags, List<String[]> headers) throws Exception {
        Common common = new Common(flags, headers);
        try {
            return switch (mode) {
                case "open" -> new OpenLoop(common, flags).run();
                case "sse" -> new SseTiming(common, flags).run();
                default -> throw new IllegalArgumentException("unknown mode " + mode);
            };
        } finally {
            common.close();
        }
    }

    /** What both modes share: target, body, headers, the event loop, one client per run. */
    static final class Common {
        final Vertx vertx = VERTX;
        final RequestOptions request;
        final Buffer body;
        final double durationS;
        final double warmupS;
        final long timeoutMs;
        private HttpClient client;

        Common(Map<String, String> flags, List<String[]> headers) throws IOException {
            URI url = URI.create(require(flags, "url"));
            request = new RequestOptions().setMethod(HttpMethod.POST).setHost(url.getHost())
                    .setPort(url.getPort() < 0 ? 80 : url.getPort())
                    .setURI(url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery()))
                    .putHeader("Content-Type", "application/json");
            timeoutMs = Long.parseLong(flags.getOrDefault("timeout-ms", "30000"));
            request.setIdleTimeout(timeoutMs);
            for (String[] h : headers) {
                request.putHeader(h[0], h[1]);
            }
            body = Buffer.buffer(Files.readAllBytes(Path.of(require(flags, "body-file"))));
            durationS = Double.parseDouble(flags.getOrDefault("duration-s", "10"));
            warmupS = Double.parseDouble(flags.getOrDefault("warmup-s", "1"));
        }

        HttpClient client(int connections) {
            client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setPipelining(false)
                            .setConnectTimeout(10_000).setTcpNoDelay(true),
                    new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(-1));
            return client;
        }

        void close() {
            if (client != null) {
                client.close().await();
            }
        }
    }

    static String require(Map<String, String> flags, String name) {
        String v = flags.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + "= is required");
        }
        return v;
    }

    static JsonObject percentiles(Histogram h) {
        JsonObject o = new JsonObject().put("count", h.getTotalCount());
        if (h.getTotalCount() == 0) {
            return o;
        }
        return o.put("p50", h.getValueAtPercentile(50)).put("p90", h.getValueAtPercentile(90))
                .put("p99", h.getValueAtPercentile(99)).put("p999", h.getValueAtPercentile(99.9))
                .put("max", h.getMaxValue()).put("min", h.getMinValue())
                .put("mean", Math.round(h.getMean() * 10) / 10.0);
    }

    /** Open-loop generator: a scheduler thread releases requests at their intended times onto the event loop. */
    static final class OpenLoop {
        private final Common c;
        private final double rate;
        private final int connections;
        private final Histogram latency = new Histogram(3);
        private final Histogram service = new Histogram(3);
        private final Map<String, Integer> outcomes = new TreeMap<>();
        private final CountDownLatch finished = new CountDownLatch(1);
        private HttpClient client;
        private long measureFrom;
        private long measureTo;
        private long sent;
        private long allOk;
        private long ok;
        private long errors;
        private int outstanding;
        private int maxOutstanding;
        private boolean scheduleDone;
        private String firstError;

        OpenLoop(Common c, Map<String, String> flags) {
            this.c = c;
            this.rate = Double.parseDouble(require(flags, "rate"));
            this.connections = Integer.parseInt(flags.getOrDefault("connections", "512"));
        }

        JsonObject run() throws InterruptedException {
            client = c.client(connections);
            Context ctx = c.vertx.getOrCreateContext();
            long period = Math.max(1, Math.round(1e9 / rate));
            long start = System.nanoTime() + 50_000_000L;
            measureFrom = start + (long) (c.warmupS * 1e9);
            measureTo = measureFrom + (long) (c.durationS * 1e9);
            long total = (measureTo - start) / period;
            Thread scheduler = new Thread(() -> {
                long i = 0;
                while (i < total) {
                    long now = System.nanoTime();
                    long intended = start + i * period;
                    if (intended > now) {
                        LockSupport.parkNanos(intended - now);
                        continue;
                    }
                    long from = i;
                    while (i < total && start + i * period <= now) {
                        i++;
                    }
                    long to = i;
                    ctx.runOnContext(v -> {
                        for (long k = from; k < to; k++) {
                            fire(start + k * period);
                        }
                    });
                }
                ctx.runOnContext(v -> {
                    scheduleDone = true;
                    maybeFinish();
                });
            }, "open-loop-scheduler");
            scheduler.setDaemon(true);
            scheduler.start();
            long deadline = (long) ((c.warmupS + c.durationS) * 1000) + c.timeoutMs + 10_000;
            finished.await(deadline, java.util.concurrent.TimeUnit.MILLISECONDS);
            Map<String, Object> outcomeMap = new LinkedHashMap<>(outcomes);
            JsonObject o = new JsonObject().put("mode", "open").put("rate", rate).put("duration_s", c.durationS)
                    .put("connections", connections).put("sent", sent).put("ok", ok).put("all_ok", allOk).put("errors", errors)
                    .put("achieved_rps", Math.round(ok / c.durationS * 10) / 10.0)
                    .put("max_outstanding", maxOutstanding).put("unfinished", outstanding)
                    .put("latency_us", percentiles(latency)).put("service_us", percentiles(service))
                    .put("outcomes", new JsonObject(outcomeMap));
            if (firstError != null) {
                o.put("first_error", firstError);
            }
            return o;
        }

        private void fire(long intended) {
            boolean record = intended >= measureFrom && intended < measureTo;
            if (record) {
                sent++;
            }
            outstanding++;
            maxOutstanding = Math.max(maxOutstanding, outstanding);
            long actual = System.nanoTime();
            client.request(c.request)
                    .compose(req -> req.send(c.body))
                    .compose(resp -> resp.body().map(b -> resp.statusCode()))
                    .onComplete(ar -> {
                        long end = System.nanoTime();
                        outstanding--;
                        if (ar.succeeded() && ar.result() == 200) {
                            allOk++;
                        }
                        if (record) {
                            String outcome = ar.succeeded() ? String.valueOf(ar.result())
                                    : ar.cause().getClass().getSimpleName();
                            outcomes.merge(outcome, 1, Integer::sum);
                            if (ar.succeeded() && ar.result() == 200) {
                                ok++;
                                latency.recordValue(Math.max(0, (end - intended) / 1000));
                                service.recordValue(Math.max(0, (end - actual) / 1000));
                            } else {
                                errors++;
                                if (firstError == null) {
                                    firstError = ar.succeeded() ? "status " + ar.result() : String.valueOf(ar.cause());
                                }
                            }
                        }
                        maybeFinish();
                    });
        }

        private void maybeFinish() {
            if (scheduleDone && outstanding == 0) {
                finished.countDown();
            }
        }
    }

    /** SSE frame timing with C back-to-back streaming clients. */
    static final class SseTiming {
        private final Common c;
        private final int concurrency;
        private final long stallUs;
        private final Histogram ttft = new Histogram(3);
        private final Histogram ttfe = new Histogram(3);
        private final Histogram gaps = new Histogram(3);
        private final Histogram streamTime = new Histogram(3);
        private final Map<String, Integer> outcomes = new TreeMap<>();
        private final CountDownLatch finished = new CountDownLatch(1);
        private HttpClient client;
        private long measureFrom;
        private long measureTo;
        private long streams;
        private long okStreams;
        private long errorStreams;
        private long stalledStreams;
        private long events;
        private long allEvents;
        private long maxGapUs;
        private int active;
        private String firstError;

        SseTiming(Common c, Map<String, String> flags) {
            this.c = c;
            this.concurrency = Integer.parseInt(flags.getOrDefault("concurrency", "1"));
            this.stallUs = Long.parseLong(flags.getOrDefault("stall-ms", "1000")) * 1000;
        }

        JsonObject run() throws InterruptedException {
            client = c.client(concurrency);
            Context ctx = c.vertx.getOrCreateContext();
            long start = System.nanoTime();
            measureFrom = start + (long) (c.warmupS * 1e9);
            measureTo = measureFrom + (long) (c.durationS * 1e9);
            ctx.runOnContext(v -> {
                for (int i = 0; i < concurrency; i++) {
                    active++;
                    next();
                }
            });
            long deadline = (long) ((c.warmupS + c.durationS) * 1000) + c.timeoutMs + 10_000;
            finished.await(deadline, java.util.concurrent.TimeUnit.MILLISECONDS);
            Map<String, Object> outcomeMap = new LinkedHashMap<>(outcomes);
            JsonObject o = new JsonObject().put("mode", "sse").put("concurrency", concurrency)
                    .put("duration_s", c.durationS).put("streams", streams).put("ok", okStreams)
                    .put("errors", errorStreams).put("stalled", stalledStreams).put("stall_us", stallUs)
                    .put("events", events).put("all_events", allEvents)
                    .put("events_per_stream", streams == 0 ? 0 : Math.round(events * 10.0 / streams) / 10.0)
                    .put("events_per_s", Math.round(events / c.durationS))
                    .put("ttft_us", percentiles(ttft)).put("ttfe_us", percentiles(ttfe))
                    .put("gap_us", percentiles(gaps)).put("max_gap_us", maxGapUs)
                    .put("stream_us", percentiles(streamTime)).put("unfinished", active)
                    .put("outcomes", new JsonObject(outcomeMap));
            if (firstError != null) {
                o.put("first_error", firstError);
            }
            return o;
        }

        /** Starts the next stream of one client, or retires the client after the measurement window. */
        private void next() {
            long now = System.nanoTime();
            if (now >= measureTo) {
                if (--active == 0) {
                    finished.countDown();
                }
                return;
            }
            Stream s = new Stream(now, now >= measureFrom);
            client.request(c.request)
                    .compose(req -> req.send(c.body))
                    .onSuccess(resp -> s.attach(resp))
                    .onFailure(s::fail);
        }

        final class Stream {
            final long t0;
            final boolean record;
            final StringBuilder pending = new StringBuilder(512);
            final Histogram localGaps = new Histogram(3);
            long last;
            int status;
            int count;
            boolean content;
            boolean done;
            boolean errorEvent;
            boolean ended;
            long streamMaxGap;

            Stream(long t0, boolean record) {
                this.t0 = t0;
                this.record = record;
            }

            void attach(HttpClientResponse resp) {
                status = resp.statusCode();
                resp.handler(this::data);
                resp.exceptionHandler(this::fail);
                resp.endHandler(v -> end(null));
            }

            void data(Buffer buf) {
                long ts = System.nanoTime();
                pending.append(buf.toString(StandardCharsets.UTF_8));
                int from = 0;
                while (true) {
                    int lf = pending.indexOf("\n\n", from);
                    int crlf = pending.indexOf("\r\n\r\n", from);
                    int cut;
                    int sep;
                    if (lf < 0 && crlf < 0) {
                        break;
                    } else if (crlf >= 0 && (lf < 0 || crlf < lf)) {
                        cut = crlf;
                        sep = 4;
                    } else {
                        cut = lf;
                        sep = 2;
                    }
                    event(pending.substring(from, cut), ts);
                    from = cut + sep;
                }
                pending.delete(0, from);
            }

            void event(String event, long ts) {
                for (String line : event.split("\r?\n")) {
                    if (!line.startsWith("data:")) {
                        continue;
                    }
                    String payload = line.substring(5).trim();
                    if (count == 0) {
                        ttfeUs = (ts - t0) / 1000;
                    } else {
                        long gap = (ts - last) / 1000;
                        localGaps.recordValue(gap);
                        streamMaxGap = Math.max(streamMaxGap, gap);
                    }
                    count++;
                    last = ts;
                    if (payload.equals("[DONE]")) {
                        done = true;
                    } else if (payload.contains("\"error\":{")) {
                        errorEvent = true;
                    } else if (!content) {
                        int i = payload.indexOf("\"content\":\"");
                        if (i >= 0 && i + 11 < payload.length() && payload.charAt(i + 11) != '"') {
                            content = true;
                            ttftUs = (ts - t0) / 1000;
                        }
                    }
                }
            }

            long ttfeUs = -1;
            long ttftUs = -1;

            void fail(Throwable t) {
                end(t);
            }

            void end(Throwable failure) {
                if (ended) {
                    return;
                }
                ended = true;
                long now = System.nanoTime();
                allEvents += count;
                if (record) {
                    streams++;
                    events += count;
                    String outcome;
                    boolean ok = failure == null && status == 200 && done && !errorEvent;
                    if (failure != null) {
                        outcome = failure.getClass().getSimpleName();
                    } else if (status != 200) {
                        outcome = String.valueOf(status);
                    } else if (errorEvent) {
                        outcome = "error-event";
                    } else if (!done) {
                        outcome = "no-done";
                    } else {
                        outcome = "ok";
                    }
                    outcomes.merge(outcome, 1, Integer::sum);
                    if (ok) {
                        okStreams++;
                        if (ttftUs >= 0) {
                            ttft.recordValue(ttftUs);
                        }
                        if (ttfeUs >= 0) {
                            ttfe.recordValue(ttfeUs);
                        }
                        gaps.add(localGaps);
                        streamTime.recordValue((now - t0) / 1000);
                        maxGapUs = Math.max(maxGapUs, streamMaxGap);
                        if (streamMaxGap > stallUs) {
                            stalledStreams++;
                        }
                    } else {
                        errorStreams++;
                        if (firstError == null) {
                            firstError = failure != null ? String.valueOf(failure) : outcome;
                        }
                    }
                }
                next();
            }
        }
    }
}
