package co.corouter.server.ingress;

import co.corouter.server.pipeline.Exchange;
import co.corouter.server.pipeline.Stage;
import co.corouter.server.routing.ModelCatalog;
import io.vertx.core.Future;
import java.util.function.Function;

/**
 * Stage "validate": the body is one JSON object of the chat-completions shape, for a model of the catalog, with
 * numbers in range ({@link ChatRequestParser}); a 400 naming the field otherwise.
 */
public final class ValidateStage implements Stage {

    private final ChatRequestParser parser;

    /** @param models resolves a model id, failing with a 400 for an unknown one */
    public ValidateStage(Function<String, ModelCatalog.Model> models) {
        this.parser = new ChatRequestParser(models);
    }

    @Override
    public Future<Void> run(Exchange exchange) {
        exchange.chat(parser.parse(exchange.body()));
        return DONE;
    }
}
