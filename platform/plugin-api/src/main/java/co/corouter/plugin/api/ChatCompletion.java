package co.corouter.plugin.api;

import io.vertx.core.json.JsonObject;

/**
 * A whole completion: the OpenAI-shaped response body and the usage the upstream reported.
 *
 * @param body  OpenAI chat-completion object ({@code choices}, {@code model}, ...); the host sets {@code id}
 *              and replaces {@code usage} with its own (which includes {@code cost})
 * @param usage tokens as reported by the upstream, or estimated when it reported none
 */
public record ChatCompletion(JsonObject body, Usage usage) {
}
