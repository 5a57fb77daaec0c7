package co.corouter.server.ingress;

import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.ParsedChat;
import io.vertx.core.buffer.Buffer;
import co.corouter.server.pipeline.Stage;
import co.corouter.server.routing.ModelCatalog;
import io.vertx.core.Future;
import java.util.function.Function;

/**
 * Stage "validate": the body is one JSON object of its API's shape, for a model of the catalog, with numbers in
 * range; a 400 naming the field otherwise. Chat bodies go through {@link ChatRequestParser} (Anthropic messages and
 * legacy completions are first translated into chat bodies by their {@link Dialect}); embeddings bodies through
 * {@link EmbeddingsParser}.
 */
public final class ValidateStage implements Stage {

    private final Function<Buffer, ParsedChat> parser;

    private ValidateStage(Function<Buffer, ParsedChat> parser) {
        this.parser = parser;
    }

    /** Validation of {@code api}'s bodies (chat ones in OpenAI's shape or translated into it by the API's dialect). */
    public static ValidateStage of(Api api, Function<String, ModelCatalog.Model> models) {
        if (api == Api.EMBEDDINGS) {
            EmbeddingsParser embeddings = new EmbeddingsParser(models);
            return new ValidateStage(embeddings::parse);
        }
        ChatRequestParser chat = new ChatRequestParser(models);
        Dialect dialect = api.dialect();
        return api == Api.CHAT ? new ValidateStage(chat::parse)
                : new ValidateStage(body -> chat.parse(dialect.chatBody(body)));
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        exchange.chat(parser.apply(exchange.body()));
        return DONE;
    }
}
