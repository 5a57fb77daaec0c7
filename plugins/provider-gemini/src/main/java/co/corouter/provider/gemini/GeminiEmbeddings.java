package co.corouter.provider.gemini;

import co.corouter.plugin.api.EmbeddingRequest;
import co.corouter.plugin.api.Embeddings;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.TokenCounter;
import co.corouter.plugin.api.Usage;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Embeddings through {@code batchEmbedContents} (spec §6): one {@code EmbedContentRequest} per input, each naming the
 * model ({@code models/…}) and, when the client asked for a size, {@code outputDimensionality}. Gemini's answer
 * ({@code {"embeddings":[{"values":[…]}]}}, in request order) reports no token usage, so the inputs are counted with
 * the host's tokenizer and the usage marked estimated — unless the answer does carry a count.
 */
final class GeminiEmbeddings {

    private GeminiEmbeddings() {
    }

    static Buffer body(EmbeddingRequest request) {
        String model = ModelNames.resourceName(request.upstreamModel());
        JsonArray requests = new JsonArray();
        for (String input : request.inputs()) {
            JsonObject one = new JsonObject().put("model", model).put("content", new JsonObject()
                    .put("parts", new JsonArray().add(new JsonObject().put("text", input))));
            if (request.dimensions() > 0) {
                one.put("outputDimensionality", request.dimensions());
            }
            requests.add(one);
        }
        return new JsonObject().put("requests", requests).toBuffer();
    }

    static Embeddings embeddings(int status, Buffer body, EmbeddingRequest request, TokenCounter tokens) {
        JsonObject answer;
        try {
            answer = new JsonObject(body);
        } catch (RuntimeException notJson) {
            throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent embeddings that are not JSON");
        }
        if (!(answer.getValue("embeddings") instanceof JsonArray embeddings)) {
            throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent no embeddings");
        }
        int expected = request.inputs().size();
        if (embeddings.size() != expected) {
            throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent " + embeddings.size()
                    + " embeddings for " + expected + " inputs");
        }
        List<float[]> vectors = new ArrayList<>(expected);
        long reportedTokens = 0;
        boolean everyOneCounted = true;
        for (Object item : embeddings) {
            if (!(item instanceof JsonObject embedding) || !(embedding.getValue("values") instanceof JsonArray values)
                    || values.isEmpty()) {
                throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent an embedding without values");
            }
            float[] vector = new float[values.size()];
            for (int i = 0; i < vector.length; i++) {
                if (!(values.getValue(i) instanceof Number n)) {
                    throw new ProviderException(Kind.BAD_RESPONSE, status, "upstream sent a non-numeric embedding");
                }
                vector[i] = n.floatValue();
            }
            vectors.add(vector);
            // Vertex-style per-embedding statistics, should the Gemini API ever send them
            if (embedding.getValue("statistics") instanceof JsonObject stats
                    && stats.getValue("tokenCount") instanceof Number count) {
                reportedTokens += count.longValue();
            } else {
                everyOneCounted = false;
            }
        }
        return new Embeddings(List.copyOf(vectors), usage(answer, everyOneCounted ? reportedTokens : -1, request,
                tokens));
    }

    private static Usage usage(JsonObject answer, long perEmbeddingTokens, EmbeddingRequest request,
                               TokenCounter tokens) {
        if (answer.getValue("usageMetadata") instanceof JsonObject usage
                && usage.getValue("promptTokenCount") instanceof Number prompt && prompt.intValue() >= 0) {
            return Usage.of(prompt.intValue(), 0);
        }
        if (perEmbeddingTokens >= 0) {
            return Usage.of((int) Math.min(perEmbeddingTokens, Integer.MAX_VALUE), 0);
        }
        int counted = 0;
        for (String input : request.inputs()) {
            counted += tokens.count(input);
        }
        return new Usage(counted, 0, 0, 0, true);
    }
}
