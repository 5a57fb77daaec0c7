package co.corouter.plugin.api;

import java.util.List;

/**
 * The vectors of an embeddings request, one per input in the request's order, and the tokens the upstream counted
 * (as {@link Usage#promptTokens()}; 0 completion tokens). The host writes the OpenAI-shaped response.
 *
 * @since 1.4.0
 */
public record Embeddings(List<float[]> vectors, Usage usage) {
}
