package co.corouter.server.pipeline;

import co.corouter.server.routing.ModelCatalog;
import io.vertx.core.buffer.Buffer;

/**
 * A validated chat-completions request: the client's bytes (forwarded as they are), the catalog model, whether it
 * streams, and {@code maxTokens}, the completion cap credit is reserved for and the provider must not exceed.
 */
public record ParsedChat(Buffer raw, ModelCatalog.Model model, boolean stream, int maxTokens, int bodyBytes) {
}
