package co.corouter.server.ingress;

import co.corouter.bench.Fixtures;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Stage "validate" of a chat-completions request: {@link ChatRequestParser#parse(Buffer)} of a request body, i.e.
 * JSON decoding into a {@code JsonObject}, the field checks and the catalog lookup of the model. One op = one body
 * parsed; unit ns/op. {@code body=small} is a ~300-byte request (system + user message, model, max_tokens,
 * temperature, stream); {@code body=large} a ~4 KB multi-turn conversation. The same buffer is parsed every time
 * (parsing does not change it).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class RequestParseBench {

    @Param({"small", "large"})
    public String body;

    private ChatRequestParser parser;
    private Buffer raw;

    @Setup
    public void setup() {
        Fixtures.jsonLikeANode();
        parser = new ChatRequestParser(Fixtures.catalog()::require);
        raw = switch (body) {
            case "small" -> small();
            case "large" -> large();
            default -> throw new IllegalArgumentException("body must be small or large, was " + body);
        };
        co.corouter.server.pipeline.ParsedChat parsed = parser.parse(raw);
        if (!parsed.model().id().equals(Fixtures.MODEL) || parsed.maxTokens() != 512 || !parsed.stream()) {
            throw new IllegalStateException("the benchmark body did not parse as intended");
        }
    }

    @Benchmark
    public co.corouter.server.pipeline.ParsedChat parse() {
        return parser.parse(raw);
    }

    /** About 300 bytes: what an SDK sends for a short question. */
    static Buffer small() {
        Buffer raw = Buffer.buffer("{\"model\":\"" + Fixtures.MODEL + "\",\"messages\":["
                + "{\"role\":\"system\",\"content\":\"You are a helpful assistant. Answer briefly and precisely.\"},"
                + "{\"role\":\"user\",\"content\":\"What is the difference between a process and a thread? "
                + "Give one example of each.\"}],"
                + "\"max_tokens\":512,\"temperature\":0.7,\"stream\":true}");
        return checkSize(raw, 270, 330);
    }

    /** About 4 KB: a system prompt and an ongoing conversation, ending with a user question. */
    static Buffer large() {
        String[] user = {
            "I am writing a small HTTP proxy in Java on Vert.x. Requests arrive on an event loop and are forwarded "
                + "to an upstream over a pooled client. How should I size the connection pool for 2 cores?",
            "The upstream answers in about 20 ms. With 64 concurrent clients I see p99 latency spikes of 5 ms "
                + "in the proxy itself. What could cause pauses of that size on an otherwise idle machine?",
            "I switched to the serial collector with a 256 MB heap and the spikes got smaller but did not vanish. "
                + "How do I find out whether the remaining pauses come from the JIT, from safepoints or from GC?",
        };
        String[] assistant = {
            "On two cores one event loop per core is enough. Size the pool by concurrency, not by cores: with "
                + "20 ms upstream latency and 3,000 requests per second you need about 60 connections in flight. "
                + "Keep-alive matters more than the exact number; watch the pool's wait queue length.",
            "Pauses of a few milliseconds usually come from garbage collection, from JIT deoptimisation storms, "
                + "or from another process taking the core. Log GC with -Xlog:gc and safepoints with "
                + "-Xlog:safepoint, pin the process with taskset, and compare the pause log with the latency log.",
        };
        JsonArray messages = new JsonArray().add(new JsonObject().put("role", "system").put("content",
                "You are a senior performance engineer. Answer with concrete commands and numbers. When unsure, say "
                        + "so and explain how to measure instead of guessing. Prefer short paragraphs."));
        JsonObject request = new JsonObject().put("model", Fixtures.MODEL).put("messages", messages)
                .put("max_tokens", 512).put("temperature", 0.2).put("top_p", 0.95).put("stream", true)
                .put("stream_options", new JsonObject().put("include_usage", true));
        // turns cycle through the texts above until the body, with the last question, reaches ~4 KB
        for (int turn = 0; request.toBuffer().length() + 200 < 4096; turn++) {
            messages.add(new JsonObject().put("role", "user").put("content", user[turn % user.length]));
            messages.add(new JsonObject().put("role", "assistant").put("content", assistant[turn % assistant.length]));
        }
        messages.add(new JsonObject().put("role", "user").put("content", user[user.length - 1]));
        return checkSize(request.toBuffer(), 3900, 4700);
    }

    private static Buffer checkSize(Buffer raw, int min, int max) {
        if (raw.length() < min || raw.length() > max) {
            throw new IllegalStateException("benchmark body is " + raw.length() + " bytes, meant " + min + "-" + max);
        }
        return raw;
    }
}
