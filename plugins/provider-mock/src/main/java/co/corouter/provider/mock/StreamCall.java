package co.corouter.provider.mock;

import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.ChunkEncoder;
import co.corouter.plugin.api.ChunkSink;
import co.corouter.plugin.api.StreamOutcome;
import co.corouter.plugin.api.Usage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

/**
 * One simulated stream. Write {@code i} carries content delta {@code i}; the first also carries the role
 * chunk and the last the finish chunk. With no interval, the whole stream goes out in one write. Events are
 * plugin-api's {@link ChunkEncoder}'s: the request's generation id and response model on every one.
 */
final class StreamCall extends SimulatedCall<StreamOutcome> {

    private final ChunkSink sink;
    private final MockBehaviour behaviour;
    private final MockAnswer answer;
    private final ChunkEncoder chunks;
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
        this.chunks = ChunkEncoder.of(request);
        this.intervalMs = options.chunkIntervalMs();
        int deltas = answer.deltas().length;
        this.deltasPerWrite = intervalMs == 0 ? deltas : 1;
        this.end = behaviour == MockBehaviour.FAIL_MIDSTREAM ? Math.max(1, deltas / 2) : deltas;
    }

    Future<StreamOutcome> start(long latencyMs) {
        if (behaviour == MockBehaviour.HANG) {
            return start(NEVER, NEVER, 0);
        }
        int writes = (end + deltasPerWrite - 1) / deltasPerWrite;
        return start(latencyMs, latencyMs + (writes - 1) * intervalMs, writes > 1 ? intervalMs : 0);
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
        if (behaviour.failsBeforeOutput()) {
            fail(behaviour.failure());
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
        sink.write(render(from, to, last ? answer.finishReason() : null));
        if (done()) {
            return; // cancelled while writing
        }
        if (last) {
            succeed(new StreamOutcome(Usage.of(answer.promptTokens(), answer.completionTokens()),
                    answer.finishReason()));
        } else if (to == end) {
            fail(behaviour.failure());
        } else {
            after(intervalMs, this::step);
        }
    }

    /**
     * The events carrying deltas {@code [from, to)}: preceded by the role chunk when {@code from} is 0 and followed
     * by the finish chunk when {@code finishReason} is not null.
     */
    private Buffer render(int from, int to, String finishReason) {
        Buffer events = Buffer.buffer((to - from + 2) * 192);
        if (from == 0) {
            events.appendBuffer(chunks.role());
        }
        String[] deltas = answer.deltas();
        for (int i = from; i < to; i++) {
            events.appendBuffer(chunks.content(deltas[i]));
        }
        if (finishReason != null) {
            events.appendBuffer(chunks.finish(finishReason));
        }
        return events;
    }
}
