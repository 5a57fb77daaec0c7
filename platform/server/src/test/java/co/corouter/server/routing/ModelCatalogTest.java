package co.corouter.server.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import co.corouter.server.common.Money;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelCatalogTest {

    private static Path modelsFile() {
        return Path.of(System.getProperty("corouter.conf", "../../conf")).resolve("models.yaml");
    }

    private static JsonObject model(String id) {
        return new JsonObject().put("id", id).put("provider", "mock").put("context_length", 8192)
                .put("max_output_tokens", 1024)
                .put("pricing", new JsonObject().put("prompt_per_million", "2.00").put("completion_per_million", "10"));
    }

    private static JsonObject catalog(JsonObject... models) {
        return new JsonObject().put("models", new JsonArray(List.of((Object[]) models)));
    }

    @Test
    void theRepositoryCatalogLoadsWithExactPrices() {
        ModelCatalog catalog = ModelCatalog.load(modelsFile());

        ModelCatalog.Model small = catalog.find("corouter/mock-small");
        assertThat(small).isNotNull();
        assertThat(small.endpoints()).hasSize(1);
        assertThat(small.primary().provider()).isEqualTo("mock");
        assertThat(small.primary().upstreamModel()).isEqualTo("mock-small");
        assertThat(small.primary().promptNanosPerMillion()).isEqualTo(500_000_000L);
        assertThat(small.primary().completionNanosPerMillion()).isEqualTo(1_500_000_000L);
        assertThat(small.contextLength()).isPositive();
        assertThat(small.supportedParameters()).contains("max_tokens", "stream");
        assertThat(catalog.all()).allSatisfy(m -> {
            assertThat(m.contextLength()).isPositive();
            assertThat(m.maxOutputTokens()).isPositive();
            assertThat(m.endpoints()).isNotEmpty().allSatisfy(e -> {
                assertThat(e.promptNanosPerMillion()).isNotNegative();
                assertThat(e.completionNanosPerMillion()).isNotNegative();
            });
        });
        assertThat(catalog.find("nobody/none")).isNull();
    }

    @Test
    void theCommentedRealProviderModelsParseOnceUncommentedWithTheirCachePrices() throws Exception {
        String text = java.nio.file.Files.readString(modelsFile());
        String examples = text.substring(text.indexOf("# ---- Real providers"));
        StringBuilder yaml = new StringBuilder("models:\n");
        examples.lines().filter(line -> line.startsWith("#  ")).forEach(line -> yaml.append(line.substring(1))
                .append('\n'));
        java.nio.file.Path file = java.nio.file.Files.createTempFile("models", ".yaml");
        try {
            java.nio.file.Files.writeString(file, yaml);
            ModelCatalog catalog = ModelCatalog.load(file);

            assertThat(catalog.all()).hasSizeGreaterThanOrEqualTo(11);
            ModelCatalog.Endpoint sonnet = catalog.find("anthropic/claude-sonnet-5.5").primary();
            assertThat(sonnet.provider()).isEqualTo("anthropic");
            assertThat(sonnet.promptNanosPerMillion()).isEqualTo(Money.parseUsd("2.00", "p"));
            assertThat(catalog.find("google/gemini-2.5-flash").primary().provider()).isEqualTo("gemini");
            assertThat(catalog.find("google/gemini-embedding-001").embedding()).isTrue();
            assertThat(catalog.find("openai/text-embedding-3-small").embedding()).isTrue();
            assertThat(catalog.find("openai/gpt-5").embedding()).isFalse();
        } finally {
            java.nio.file.Files.delete(file);
        }
    }

    @Test
    void theListingShowsEveryModelWithPerTokenPricesAsDecimalStrings() {
        ModelCatalog catalog = ModelCatalog.load(modelsFile());
        JsonArray data = catalog.listing().getJsonArray("data");

        List<String> ids = new ArrayList<>();
        catalog.all().forEach(m -> ids.add(m.id()));
        assertThat(data.stream().map(o -> ((JsonObject) o).getString("id")).toList()).isEqualTo(ids);
        for (Object entry : data) {
            JsonObject listed = (JsonObject) entry;
            ModelCatalog.Model model = catalog.find(listed.getString("id"));
            JsonObject pricing = listed.getJsonObject("pricing");
            assertThat(pricing.getValue("prompt")).isInstanceOf(String.class);
            assertThat(pricing.getValue("completion")).isInstanceOf(String.class);
            assertThat(pricing.getString("prompt")).isEqualTo(Money.perTokenUsd(model.cheapest()
                    .promptNanosPerMillion())).doesNotContain("E");
            assertThat(new BigDecimal(pricing.getString("completion")).movePointRight(6))
                    .isEqualByComparingTo(Money.toUsd(model.cheapest().completionNanosPerMillion()));
            assertThat(listed.getString("object")).isEqualTo("model");
            assertThat(listed.getString("owned_by")).isEqualTo(model.author());
            assertThat(pricing.getString("request")).isEqualTo("0");
            assertThat(listed.getInteger("context_length")).isEqualTo(model.contextLength());
            assertThat(listed.getJsonObject("top_provider").getInteger("max_completion_tokens"))
                    .isEqualTo(model.maxOutputTokens());
        }
        JsonObject small = data.stream().map(JsonObject.class::cast)
                .filter(m -> m.getString("id").equals("corouter/mock-small")).findFirst().orElseThrow();
        assertThat(small.getJsonObject("pricing").getString("prompt")).isEqualTo("0.0000005");
        assertThat(small.getJsonObject("pricing").getString("completion")).isEqualTo("0.0000015");
    }

    @Test
    void aModelCostsItsTokensAtItsPricesRoundedOnce() {
        ModelCatalog catalog = ModelCatalog.fromJson(catalog(model("a/b")), "test");
        // 1000 * 2.00/M + 333 * 10/M USD = 2000 + 3330 nano-dollars * 1000
        assertThat(catalog.find("a/b").primary().cost(1000, 333)).isEqualTo(5_330_000L);
        assertThat(catalog.find("a/b").primary().cost(0, 0)).isZero();
    }

    @Test
    void optionalFieldsDefaultToTheModelId() {
        ModelCatalog.Model model = ModelCatalog.fromJson(catalog(model("a/b")), "test").find("a/b");
        assertThat(model.name()).isEqualTo("a/b");
        assertThat(model.primary().upstreamModel()).isEqualTo("a/b");
        assertThat(model.supportedParameters()).isEmpty();
    }

    @Test
    void aCatalogWithoutAModelsListIsRefusedNamingTheSource() {
        assertThatThrownBy(() -> ModelCatalog.fromJson(new JsonObject(), "conf/models.yaml"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("conf/models.yaml").hasMessageContaining("models");
    }

    @Test
    void aModelWithoutPricingIsRefusedNamingItsPosition() {
        JsonObject unpriced = model("c/d");
        unpriced.remove("pricing");
        assertThatThrownBy(() -> ModelCatalog.fromJson(catalog(model("a/b"), unpriced), "models.yaml"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("models[1].pricing");
    }

    @Test
    void aModelMissingOnePriceIsRefusedNamingThatPrice() {
        JsonObject halfPriced = model("a/b");
        halfPriced.getJsonObject("pricing").remove("completion_per_million");
        assertThatThrownBy(() -> ModelCatalog.fromJson(catalog(halfPriced), "models.yaml"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("models[0].pricing.completion_per_million");
    }

    @Test
    void anUnparsableOrNegativePriceIsRefusedNamingThatPrice() {
        JsonObject garbage = model("a/b");
        garbage.getJsonObject("pricing").put("prompt_per_million", "cheap");
        assertThatThrownBy(() -> ModelCatalog.fromJson(catalog(garbage), "models.yaml"))
                .hasMessageContaining("models[0].pricing.prompt_per_million").hasMessageContaining("cheap");
        JsonObject negative = model("a/b");
        negative.getJsonObject("pricing").put("completion_per_million", "-1");
        assertThatThrownBy(() -> ModelCatalog.fromJson(catalog(negative), "models.yaml"))
                .hasMessageContaining("models[0].pricing.completion_per_million").hasMessageContaining("negative");
    }

    @Test
    void aDuplicateModelIdIsRefusedNamingTheSecondPositionAndTheId() {
        assertThatThrownBy(() -> ModelCatalog.fromJson(catalog(model("a/b"), model("c/d"), model("a/b")), "models.yaml"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("models[2]").hasMessageContaining("duplicate").hasMessageContaining("a/b");
    }

    @Test
    void aNonPositiveContextLengthIsRefusedNamingItsPosition() {
        for (Object bad : new Object[] {0, -4096, "8192", null}) {
            JsonObject model = model("c/d").put("context_length", bad);
            assertThatThrownBy(() -> ModelCatalog.fromJson(catalog(model("a/b"), model), "models.yaml"))
                    .as("context_length %s", bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("models[1].context_length");
        }
        JsonObject noOutput = model("a/b").put("max_output_tokens", 0);
        assertThatThrownBy(() -> ModelCatalog.fromJson(catalog(noOutput), "models.yaml"))
                .hasMessageContaining("models[0].max_output_tokens");
    }

    @Test
    void aModelWithoutIdOrProviderIsRefusedNamingTheField() {
        JsonObject anonymous = model("a/b");
        anonymous.remove("id");
        assertThatThrownBy(() -> ModelCatalog.fromJson(catalog(anonymous), "models.yaml"))
                .hasMessageContaining("models[0].id");
        JsonObject orphan = model("a/b").put("provider", " ");
        assertThatThrownBy(() -> ModelCatalog.fromJson(catalog(orphan), "models.yaml"))
                .hasMessageContaining("models[0].provider");
    }

    @Test
    void theCatalogCannotBeChangedAfterLoading() {
        ModelCatalog catalog = ModelCatalog.fromJson(catalog(model("a/b")), "test");
        assertThatThrownBy(() -> catalog.find("a/b").supportedParameters().add("x"))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> catalog.all().iterator().remove()).isInstanceOf(RuntimeException.class);
    }

    @Test
    void aModelMayListSeveralEndpointsEachWithItsOwnPriceAndLimits() {
        JsonObject duo = new JsonObject().put("id", "a/duo").put("context_length", 8192).put("endpoints", new JsonArray()
                .add(new JsonObject().put("provider", "p").put("upstream_model", "m-p").put("max_output_tokens", 100)
                        .put("pricing", new JsonObject().put("prompt_per_million", "3").put("completion_per_million", "4")))
                .add(new JsonObject().put("provider", "q").put("max_output_tokens", 300).put("max_in_flight", 7)
                        .put("supported_parameters", new JsonArray().add("tools"))
                        .put("pricing", new JsonObject().put("prompt_per_million", "1").put("completion_per_million", "2"))));
        ModelCatalog.Model model = ModelCatalog.fromJson(catalog(duo), "test").find("a/duo");
        assertThat(model.endpoints()).extracting(ModelCatalog.Endpoint::provider).containsExactly("p", "q");
        assertThat(model.maxOutputTokens()).isEqualTo(300);
        assertThat(model.cheapest().provider()).isEqualTo("q");
        assertThat(model.endpoints().get(1).upstreamModel()).isEqualTo("a/duo");
        assertThat(model.endpoints().get(1).maxInFlight()).isEqualTo(7);
        assertThat(model.supportedParameters()).containsExactly("tools");
        assertThat(model.author()).isEqualTo("a");

        JsonObject both = duo.copy().put("provider", "p");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ModelCatalog.fromJson(catalog(both), "m.yaml"))
                .hasMessageContaining("models[0]").hasMessageContaining("not both");
        JsonObject twice = duo.copy();
        twice.getJsonArray("endpoints").getJsonObject(1).put("provider", "p");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ModelCatalog.fromJson(catalog(twice), "m.yaml"))
                .hasMessageContaining("endpoints[1]").hasMessageContaining("listed twice");
    }

    @Test
    void cacheReadsAndWritesArePricedAtTheirOwnPricesAndListed() {
        JsonObject claude = model("anthropic/claude").put("pricing", new JsonObject()
                .put("prompt_per_million", "3.00").put("completion_per_million", "15.00")
                .put("input_cache_read_per_million", "0.30").put("input_cache_write_per_million", "3.75"));
        ModelCatalog catalog = ModelCatalog.fromJson(catalog(claude, model("a/plain")), "test");
        ModelCatalog.Endpoint endpoint = catalog.find("anthropic/claude").primary();

        // 10,000 prompt tokens of which 6,000 read from the cache and 3,000 written to it; 200 completion tokens
        co.corouter.plugin.api.Usage usage = new co.corouter.plugin.api.Usage(10_000, 200, 6_000, 0, false, 3_000);
        assertThat(endpoint.cost(usage)).isEqualTo(1_000 * 3_000L + 6_000 * 300L + 3_000 * 3_750L + 200 * 15_000L);
        // without cache tokens the usage costs what plain tokens cost
        assertThat(endpoint.cost(co.corouter.plugin.api.Usage.of(10_000, 200))).isEqualTo(endpoint.cost(10_000, 200));
        // a reservation assumes the dearest prompt price: here the cache write
        assertThat(endpoint.worstCase(1_000, 100)).isEqualTo(1_000 * 3_750L + 100 * 15_000L);

        JsonObject listed = catalog.listing().getJsonArray("data").stream().map(JsonObject.class::cast)
                .filter(m -> m.getString("id").equals("anthropic/claude")).findFirst().orElseThrow();
        assertThat(listed.getJsonObject("pricing").getString("input_cache_read")).isEqualTo("0.0000003");
        assertThat(listed.getJsonObject("pricing").getString("input_cache_write")).isEqualTo("0.00000375");
        // a model without cache prices charges cache tokens as prompt tokens
        assertThat(catalog.find("a/plain").primary().cacheReadNanosPerMillion())
                .isEqualTo(catalog.find("a/plain").primary().promptNanosPerMillion());
    }

    @Test
    void anEmbeddingModelNeedsNoCompletionPriceAndIsListedAsSuch() {
        JsonObject embedding = new JsonObject().put("id", "openai/text-embedding-3-small").put("type", "embedding")
                .put("provider", "openai").put("context_length", 8191)
                .put("pricing", new JsonObject().put("prompt_per_million", "0.02"));
        ModelCatalog catalog = ModelCatalog.fromJson(catalog(embedding), "test");
        ModelCatalog.Model model = catalog.find("openai/text-embedding-3-small");
        assertThat(model.embedding()).isTrue();
        assertThat(model.primary().completionNanosPerMillion()).isZero();
        assertThat(model.primary().cost(co.corouter.plugin.api.Usage.of(1_000_000, 0))).isEqualTo(20_000_000L);
        assertThat(catalog.listing().getJsonArray("data").getJsonObject(0).getJsonObject("architecture")
                .getString("modality")).isEqualTo("text->embedding");

        assertThatThrownBy(() -> ModelCatalog.fromJson(catalog(model("a/b").put("type", "image")), "test"))
                .hasMessageContaining("models[0].type must be chat or embedding");
    }
}
