package co.corouter.server.routing;

import co.corouter.server.common.Money;
import co.corouter.server.config.ConfigLoader;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The models corouter offers (from {@code conf/models.yaml}), with exact prices. Immutable after load. */
public final class ModelCatalog {

    /**
     * One public model.
     *
     * @param promptNanosPerMillion     price of a million prompt tokens, in nano-dollars
     * @param completionNanosPerMillion price of a million completion tokens, in nano-dollars
     */
    public record Model(String id, String name, String provider, String upstreamModel, int contextLength,
            int maxOutputTokens, long promptNanosPerMillion, long completionNanosPerMillion,
            List<String> supportedParameters, long created) {

        /** Exact cost of a usage, rounded once to a nano-dollar. */
        public long cost(long promptTokens, long completionTokens) {
            return Money.cost(promptTokens, promptNanosPerMillion, completionTokens, completionNanosPerMillion);
        }
    }

    private final Map<String, Model> models;
    private final JsonObject listing;

    private ModelCatalog(Map<String, Model> models) {
        this.models = Collections.unmodifiableMap(models);
        this.listing = renderListing(models.values());
    }

    public static ModelCatalog load(Path file) {
        return fromJson(ConfigLoader.readYaml(file), file.toString());
    }

    public static ModelCatalog fromJson(JsonObject root, String source) {
        JsonArray entries = root.getJsonArray("models");
        if (entries == null) {
            throw new IllegalArgumentException(source + ": a 'models' list is required");
        }
        Map<String, Model> models = new LinkedHashMap<>();
        long created = 1_767_225_600L; // 2026-01-01: a stable catalog timestamp
        for (int i = 0; i < entries.size(); i++) {
            JsonObject entry = entries.getJsonObject(i);
            String where = source + ": models[" + i + "]";
            String id = required(entry, "id", where);
            JsonObject pricing = entry.getJsonObject("pricing");
            if (pricing == null) {
                throw new IllegalArgumentException(where + ".pricing is required");
            }
            Model model = new Model(id,
                    entry.getString("name", id),
                    required(entry, "provider", where),
                    entry.getString("upstream_model", id),
                    positive(entry, "context_length", where),
                    positive(entry, "max_output_tokens", where),
                    price(pricing, "prompt_per_million", where),
                    price(pricing, "completion_per_million", where),
                    stringList(entry.getJsonArray("supported_parameters")),
                    created);
            if (models.put(id, model) != null) {
                throw new IllegalArgumentException(where + ": duplicate model id " + id);
            }
        }
        return new ModelCatalog(models);
    }

    public Model find(String id) {
        return models.get(id);
    }

    public Iterable<Model> all() {
        return models.values();
    }

    /** The {@code GET /v1/models} body, rendered once. */
    public JsonObject listing() {
        return listing;
    }

    private static JsonObject renderListing(Iterable<Model> models) {
        JsonArray data = new JsonArray();
        for (Model model : models) {
            data.add(new JsonObject()
                    .put("id", model.id())
                    .put("canonical_slug", model.id())
                    .put("name", model.name())
                    .put("created", model.created())
                    .put("context_length", model.contextLength())
                    .put("pricing", new JsonObject()
                            .put("prompt", Money.perTokenUsd(model.promptNanosPerMillion()))
                            .put("completion", Money.perTokenUsd(model.completionNanosPerMillion()))
                            .put("request", "0"))
                    .put("top_provider", new JsonObject()
                            .put("context_length", model.contextLength())
                            .put("max_completion_tokens", model.maxOutputTokens())
                            .put("is_moderated", false))
                    .put("supported_parameters", new JsonArray(new ArrayList<>(model.supportedParameters()))));
        }
        return new JsonObject().put("data", data);
    }

    private static String required(JsonObject entry, String key, String where) {
        Object value = entry.getValue(key);
        if (value == null || value.toString().isBlank()) {
            throw new IllegalArgumentException(where + "." + key + " is required");
        }
        return value.toString();
    }

    private static int positive(JsonObject entry, String key, String where) {
        Object value = entry.getValue(key);
        if (!(value instanceof Integer number) || number <= 0) {
            throw new IllegalArgumentException(where + "." + key + " must be a positive integer");
        }
        return number.intValue();
    }

    private static long price(JsonObject pricing, String key, String where) {
        Object value = pricing.getValue(key);
        if (value == null) {
            throw new IllegalArgumentException(where + ".pricing." + key + " is required");
        }
        long nanos = Money.parseUsd(value.toString(), where + ".pricing." + key);
        if (nanos < 0) {
            throw new IllegalArgumentException(where + ".pricing." + key + " must not be negative");
        }
        return nanos;
    }

    private static List<String> stringList(JsonArray array) {
        List<String> list = new ArrayList<>();
        if (array != null) {
            array.forEach(item -> list.add(String.valueOf(item)));
        }
        return List.copyOf(list);
    }
}
