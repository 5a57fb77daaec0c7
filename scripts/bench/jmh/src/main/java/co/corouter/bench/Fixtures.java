package co.corouter.bench;

import co.corouter.server.common.JsonSetup;
import co.corouter.server.routing.ModelCatalog;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** Shared set-up for the benchmarks: the process-wide JSON state a node has, and a model catalog. */
public final class Fixtures {

    /** The model every benchmark request names; priced like {@code corouter/mock-large} in conf/models.yaml. */
    public static final String MODEL = "corouter/mock-large";

    private Fixtures() {
    }

    /**
     * Applies what {@code Corouter.start} applies before any JSON is handled, and checks that Vert.x picked
     * corouter's JSON codec (registered as a service, which the uber jar must keep): without it every JSON
     * benchmark would measure Vert.x's default databind codec instead of what production runs.
     */
    public static void jsonLikeANode() {
        JsonSetup.plainDecimals();
        String codec = Json.CODEC.getClass().getName();
        if (!codec.startsWith("co.corouter.server.common.StreamingJsonFactory")) {
            throw new IllegalStateException("Vert.x loaded the JSON codec " + codec + ", not corouter's "
                    + "StreamingJsonFactory: META-INF/services/io.vertx.core.spi.JsonFactory was lost in the jar");
        }
    }

    /** The two models of conf/models.yaml, built through the same {@code fromJson} that {@code load} uses. */
    public static ModelCatalog catalog() {
        return ModelCatalog.fromJson(new JsonObject().put("models", new JsonArray()
                .add(model("corouter/mock-small", "mock-small", 32768, 4096, "0.50", "1.50"))
                .add(model("corouter/mock-large", "mock-large", 131072, 8192, "3.00", "15.00"))), "bench catalog");
    }

    private static JsonObject model(String id, String upstream, int context, int maxOutput, String prompt,
            String completion) {
        return new JsonObject().put("id", id).put("provider", "mock").put("upstream_model", upstream)
                .put("context_length", context).put("max_output_tokens", maxOutput)
                .put("pricing", new JsonObject().put("prompt_per_million", prompt)
                        .put("completion_per_million", completion))
                .put("supported_parameters", new JsonArray().add("max_tokens").add("temperature").add("top_p")
                        .add("stop").add("stream").add("seed"));
    }
}
