package co.corouter.server.routing;

import co.corouter.plugin.api.Usage;
import co.corouter.server.common.Money;
import co.corouter.server.config.ConfigLoader;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The models corouter offers (from {@code conf/models.yaml}), each served by one or more endpoints — a provider
 * instance with its upstream model name, its own prices and capabilities. Immutable after load.
 *
 * <pre>
 * - id: acme/chat
 *   context_length: 32768
 *   endpoints:
 *     - { provider: groq, upstream_model: chat-8b, max_output_tokens: 8192,
 *         pricing: { prompt_per_million: "0.05", completion_per_million: "0.08" }, supported_parameters: [tools] }
 *     - { provider: together, upstream_model: acme/Chat-8B, max_output_tokens: 4096, pricing: { ... } }
 * - id: acme/small                          # the one-provider form: one endpoint, written inline
 *   provider: mock
 *   upstream_model: small
 *   max_output_tokens: 4096
 *   pricing: { ... }
 * </pre>
 */
public final class ModelCatalog {

    /**
     * One way to serve a model: a provider instance, the name the upstream knows the model by, exact prices and
     * capabilities.
     *
     * @param promptNanosPerMillion     price of a million prompt tokens, in nano-dollars
     * @param completionNanosPerMillion price of a million completion tokens, in nano-dollars
     * @param cacheReadNanosPerMillion  price of a million prompt tokens read from the provider's cache (default: the
     *                                  prompt price)
     * @param cacheWriteNanosPerMillion price of a million prompt tokens written to the provider's cache (default: the
     *                                  prompt price)
     * @param supportedParameters       request parameters this endpoint honours (for {@code require_parameters})
     * @param maxInFlight               the bulkhead: calls in flight at once on this node (0 = the routing default)
     */
    public record Endpoint(String provider, String upstreamModel, int contextLength, int maxOutputTokens,
            long promptNanosPerMillion, long completionNanosPerMillion, long cacheReadNanosPerMillion,
            long cacheWriteNanosPerMillion, List<String> supportedParameters, int maxInFlight) {

        /** Exact cost of plain prompt and completion tokens at this endpoint's prices, rounded once. */
        public long cost(long promptTokens, long completionTokens) {
            return Money.cost(promptTokens, promptNanosPerMillion, completionTokens, completionNanosPerMillion);
        }

        /**
         * Exact cost of a usage: its prompt tokens read from or written to the provider's cache at the cache prices,
         * the rest of the prompt and the completion at their own, summed and rounded once.
         */
        public long cost(Usage usage) {
            long cached = usage.cachedTokens();
            long written = usage.cacheWriteTokens();
            if (cached == 0 && written == 0) {
                return cost(usage.promptTokens(), usage.completionTokens());
            }
            long plain = Math.max(0, usage.promptTokens() - cached - written);
            return Money.costOf(plain, promptNanosPerMillion, cached, cacheReadNanosPerMillion, written,
                    cacheWriteNanosPerMillion, usage.completionTokens(), completionNanosPerMillion);
        }

        /** The highest price a prompt token can cost here (for reservations: a worst case). */
        public long maxPromptNanosPerMillion() {
            return Math.max(promptNanosPerMillion, Math.max(cacheReadNanosPerMillion, cacheWriteNanosPerMillion));
        }

        /** The worst case of a request: every body byte a prompt token at the highest prompt price, plus the cap. */
        public long worstCase(long bodyBytes, long completionTokens) {
            return Money.cost(bodyBytes, maxPromptNanosPerMillion(), completionTokens, completionNanosPerMillion);
        }

        public boolean supports(String parameter) {
            return supportedParameters.contains(parameter);
        }
    }

    /**
     * One public model and its endpoints, in the order the operator listed them (the first is the primary).
     * {@code maxOutputTokens} is the largest any endpoint allows; {@code supportedParameters} their union.
     */
    public record Model(String id, String name, int contextLength, List<Endpoint> endpoints, long created,
            String type) {

        /** A model of {@code type: embedding} serves {@code /v1/embeddings}; the others serve chat. */
        public boolean embedding() {
            return EMBEDDING.equals(type);
        }

        public int maxOutputTokens() {
            int max = 0;
            for (Endpoint endpoint : endpoints) {
                max = Math.max(max, endpoint.maxOutputTokens());
            }
            return max;
        }

        public List<String> supportedParameters() {
            Set<String> union = new LinkedHashSet<>();
            endpoints.forEach(endpoint -> union.addAll(endpoint.supportedParameters()));
            return List.copyOf(union);
        }

        /** The first endpoint listed. */
        public Endpoint primary() {
            return endpoints.get(0);
        }

        /** The author part of the id ({@code acme} of {@code acme/chat}), shown as {@code owned_by}. */
        public String author() {
            int slash = id.indexOf('/');
            return slash > 0 ? id.substring(0, slash) : "corouter";
        }

        /** The cheapest endpoint by the price of a million prompt plus a million completion tokens. */
        public Endpoint cheapest() {
            Endpoint best = endpoints.get(0);
            for (Endpoint endpoint : endpoints) {
                if (endpoint.promptNanosPerMillion() + endpoint.completionNanosPerMillion()
                        < best.promptNanosPerMillion() + best.completionNanosPerMillion()) {
                    best = endpoint;
                }
            }
            return best;
        }
    }

    public static final String CHAT = "chat";
    public static final String EMBEDDING = "embedding";

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
            Integer modelContext = entry.getValue("context_length") == null ? null
                    : positive(entry, "context_length", where);
            List<Endpoint> endpoints = new ArrayList<>();
            JsonArray listed = entry.getJsonArray("endpoints");
            String declaredType = entry.getString("type", CHAT);
            if (listed == null) {
                endpoints.add(endpoint(entry, id, modelContext, declaredType, where));
            } else {
                if (entry.containsKey("provider") || entry.containsKey("pricing")) {
                    throw new IllegalArgumentException(where + ": give either 'endpoints' or one inline endpoint "
                            + "(provider, pricing, ...), not both");
                }
                if (listed.isEmpty()) {
                    throw new IllegalArgumentException(where + ".endpoints must list at least one endpoint");
                }
                Set<String> providers = new LinkedHashSet<>();
                for (int e = 0; e < listed.size(); e++) {
                    Endpoint endpoint = endpoint(listed.getJsonObject(e), id, modelContext, declaredType,
                            where + ".endpoints[" + e + "]");
                    if (!providers.add(endpoint.provider())) {
                        throw new IllegalArgumentException(where + ".endpoints[" + e + "]: provider "
                                + endpoint.provider() + " is listed twice for one model");
                    }
                    endpoints.add(endpoint);
                }
            }
            int contextLength = modelContext != null ? modelContext
                    : endpoints.stream().mapToInt(Endpoint::contextLength).max().orElseThrow();
            String type = declaredType;
            if (!CHAT.equals(type) && !EMBEDDING.equals(type)) {
                throw new IllegalArgumentException(where + ".type must be chat or embedding");
            }
            Model model = new Model(id, entry.getString("name", id), contextLength, List.copyOf(endpoints), created,
                    type);
            if (models.put(id, model) != null) {
                throw new IllegalArgumentException(where + ": duplicate model id " + id);
            }
        }
        return new ModelCatalog(models);
    }

    private static Endpoint endpoint(JsonObject entry, String modelId, Integer modelContext, String type,
            String where) {
        JsonObject pricing = entry.getJsonObject("pricing");
        if (pricing == null) {
            throw new IllegalArgumentException(where + ".pricing is required");
        }
        int contextLength = entry.getValue("context_length") != null ? positive(entry, "context_length", where)
                : modelContext != null ? modelContext : positive(entry, "context_length", where);
        int maxInFlight = entry.getValue("max_in_flight") == null ? 0 : positive(entry, "max_in_flight", where);
        long prompt = price(pricing, "prompt_per_million", where);
        long completion = pricing.getValue("completion_per_million") == null && EMBEDDING.equals(type)
                ? 0 : price(pricing, "completion_per_million", where);
        long cacheRead = pricing.getValue("input_cache_read_per_million") == null ? prompt
                : price(pricing, "input_cache_read_per_million", where);
        long cacheWrite = pricing.getValue("input_cache_write_per_million") == null ? prompt
                : price(pricing, "input_cache_write_per_million", where);
        int maxOutput = EMBEDDING.equals(type) && entry.getValue("max_output_tokens") == null ? 1
                : positive(entry, "max_output_tokens", where);
        return new Endpoint(required(entry, "provider", where), entry.getString("upstream_model", modelId),
                contextLength, maxOutput, prompt, completion, cacheRead, cacheWrite,
                stringList(entry.getJsonArray("supported_parameters")), maxInFlight);
    }

    public Model find(String id) {
        return models.get(id);
    }

    /** The model, or a 400 {@code ApiException} naming the (sanitised) id when it is not in the catalog. */
    public Model require(String id) {
        Model model = models.get(id);
        if (model == null) {
            String shown = sanitize(id);
            throw new co.corouter.server.common.ApiException(co.corouter.server.common.ErrorCodes.BAD_REQUEST,
                    "model '" + shown + "' is not a valid model ID", new JsonObject().put("model", shown));
        }
        return model;
    }

    private static String sanitize(String id) {
        String trimmed = id.length() > 100 ? id.substring(0, 100) : id;
        return trimmed.replaceAll("[^A-Za-z0-9._:/@+-]", "?");
    }

    public Iterable<Model> all() {
        return models.values();
    }

    /** The {@code GET /v1/models} body, rendered once. A model's price is its cheapest endpoint's. */
    public JsonObject listing() {
        return listing;
    }

    private static JsonObject renderListing(Iterable<Model> models) {
        JsonArray data = new JsonArray();
        for (Model model : models) {
            Endpoint cheapest = model.cheapest();
            data.add(new JsonObject()
                    .put("id", model.id())
                    .put("object", "model")
                    .put("owned_by", model.author())
                    .put("canonical_slug", model.id())
                    .put("name", model.name())
                    .put("created", model.created())
                    .put("context_length", model.contextLength())
                    .put("architecture", new JsonObject().put("modality", model.embedding() ? "text->embedding"
                            : "text->text"))
                    .put("pricing", pricing(cheapest))
                    .put("top_provider", new JsonObject()
                            .put("context_length", model.contextLength())
                            .put("max_completion_tokens", model.maxOutputTokens())
                            .put("is_moderated", false))
                    .put("supported_parameters", new JsonArray(new ArrayList<>(model.supportedParameters())))
                    .put("links", new JsonObject().put("details", "/api/v1/models/" + model.id() + "/endpoints")));
        }
        return new JsonObject().put("data", data);
    }

    /** An endpoint's prices as OpenRouter shows them: USD per token, decimal strings. */
    public static JsonObject pricing(Endpoint endpoint) {
        return new JsonObject()
                .put("prompt", Money.perTokenUsd(endpoint.promptNanosPerMillion()))
                .put("completion", Money.perTokenUsd(endpoint.completionNanosPerMillion()))
                .put("request", "0")
                .put("input_cache_read", Money.perTokenUsd(endpoint.cacheReadNanosPerMillion()))
                .put("input_cache_write", Money.perTokenUsd(endpoint.cacheWriteNanosPerMillion()));
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
