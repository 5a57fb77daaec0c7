package co.corouter.server.ingress;

import co.corouter.bench.Fixtures;
import co.corouter.server.pipeline.Exchange;
import co.corouter.server.routing.ModelCatalog;
import co.corouter.server.routing.Router;
import io.vertx.core.buffer.Buffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What serving {@code /v1/messages} costs per streamed chunk beyond the OpenAI route (which forwards the provider's
 * bytes untouched): {@link AnthropicStream#translate} of one provider write. Unit ns/op, one op = one write.
 * <ul>
 *   <li>{@code textChunk}: one OpenAI content chunk (a token or two of text, the shape of the fakes' and real
 *       upstreams' chunks) into a {@code content_block_delta} event.</li>
 *   <li>{@code toolArgumentsChunk}: one tool-call argument piece into an {@code input_json_delta} event.</li>
 *   <li>{@code completionsChunk}: the legacy {@code /v1/completions} translation of the same text chunk.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class AnthropicStreamBench {

    private static final Buffer TEXT = Buffer.buffer("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\","
            + "\"created\":1795760406,\"model\":\"gpt-bench\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" quick\"},"
            + "\"finish_reason\":null}]}\n\n");
    private static final Buffer TOOL = Buffer.buffer("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\","
            + "\"created\":1795760406,\"model\":\"gpt-bench\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
            + "\"function\":{\"arguments\":\"{\\\"city\\\": \"}}]},\"finish_reason\":null}]}\n\n");

    private AnthropicStream text;
    private AnthropicStream tool;
    private Dialect.StreamTranslator completions;

    @Setup
    public void setup() {
        Fixtures.jsonLikeANode();
        text = new AnthropicStream(servedExchange());
        tool = new AnthropicStream(servedExchange());
        completions = CompletionsDialect.INSTANCE.streamTranslator(servedExchange());
        // past message_start and the block openings: the steady state of a long answer
        text.translate(TEXT);
        tool.translate(Buffer.buffer("data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
                + "\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"weather\",\"arguments\":\"\"}}]}}]}\n\n"));
        String out = text.translate(TEXT).toString();
        if (!out.startsWith("event: content_block_delta\n") || !out.contains("\"text\":\" quick\"")) {
            throw new IllegalStateException("unexpected translation: " + out);
        }
    }

    private static Exchange servedExchange() {
        ModelCatalog.Model model = Fixtures.catalog().find(Fixtures.MODEL);
        Exchange exchange = new Exchange("gen-bench", null, null);
        exchange.providerCalled(new Router.Route(model, model.endpoints().get(0), null, null));
        return exchange;
    }

    @Benchmark
    public Buffer textChunk() {
        return text.translate(TEXT);
    }

    @Benchmark
    public Buffer toolArgumentsChunk() {
        return tool.translate(TOOL);
    }

    @Benchmark
    public Buffer completionsChunk() {
        return completions.translate(TEXT);
    }
}
