package co.corouter.provider.mock;

import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ChunkSink;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.plugin.api.Usage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * One simulated stream. Write {@code i} carries content delta {@code i}; the first also carries the role
 * chunk and the last the finish chunk. With no interval, the whole stream goes out in one write.
 */
final class StreamCall extends SimulatedCall<StreamOutcome> {

    private final ChunkSink sink;
    private final MockBehaviour behaviour;
    private final MockAnswer answer;
    private final ChunkEvents events;
    private final long intervalMs;
    private final int deltasPerWrite;
    /** Exclusive end of the deltas this stream writes: all of them, or half when failing midstream. */
    private final int end;
    private int next;

    StreamCall(Vertx vertx, ChatRequest request, ChunkSink sink, MockOptions options, AnswerGenerator generator) {
        super(vertx, request);
        this.sink = sink;
        this.behaviour = MockBehaviour.of(request.upstreamModel());
        this.answer = generator.answer(request, options.chunkCount());
        this.events = new ChunkEvents(request.generationId(), request.upstreamModel(),
                System.currentTimeMillis() / 1000);
        this.intervalMs = options.chunkIntervalMs();
        int deltas = answer.deltas().length;
        this.deltasPerWrite = intervalMs == 0 ? deltas : 1;
        this.end = behaviour == MockBehaviour.FAIL_MIDSTREAM ? Math.max(1, deltas / 2) : deltas;
    }

    Future<StreamOutcome> start(long latencyMs) {
        int writes = (end + deltasPerWrite - 1) / deltasPerWrite;
        return start(latencyMs, latencyMs + (writes - 1) * intervalMs);
    }

    @Override
    protected Usage deliveredUsage() {
        int deltas = answer.deltas().length;
        if (next == 0 || deltas == 0) {
            return null;
        }
        int tokens = (int) (((long) answer.completionTokens() * next + deltas - 1) / deltas);
        return new Usage(answer.promptTokens(), Math.min(tokens, answer.completionTokens()), 0, 0, true);
    }

    @Override
    protected void step() {
        if (behaviour == MockBehaviour.FAIL_BEFORE_OUTPUT) {
            fail(upstreamError());
            return;
        }
        if (sink.writeQueueFull()) {
            sink.drainHandler(drained -> {
                if (!done()) {
                    step();
                }
            });
            return;
        }
        int from = next;
        int to = Math.min(end, from + deltasPerWrite);
        next = to;
        boolean last = behaviour == MockBehaviour.ANSWER && to == answer.deltas().length;
        sink.write(events.render(answer.deltas(), from, to, last ? answer.finishReason() : null));
        if (done()) {
            return; // cancelled while writing
        }
        if (last) {
            succeed(new StreamOutcome(Usage.of(answer.promptTokens(), answer.completionTokens()),
                    answer.finishReason()));
        } else if (to == end) {
            fail(upstreamError());
        } else {
            after(intervalMs, this::step);
        }
    }
}
