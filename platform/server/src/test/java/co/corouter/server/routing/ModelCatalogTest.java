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
        assertThat(small.provider()).isEqualTo("mock");
        assertThat(small.upstreamModel()).isEqualTo("mock-small");
        assertThat(small.promptNanosPerMillion()).isEqualTo(500_000_000L);
        assertThat(small.completionNanosPerMillion()).isEqualTo(1_500_000_000L);
        assertThat(small.contextLength()).isPositive();
        assertThat(small.supportedParameters()).contains("max_tokens", "stream");
        assertThat(catalog.all()).allSatisfy(m -> {
            assertThat(m.contextLength()).isPositive();
            assertThat(m.maxOutputTokens()).isPositive();
            assertThat(m.promptNanosPerMillion()).isNotNegative();
            assertThat(m.completionNanosPerMillion()).isNotNegative();
        });
        assertThat(catalog.find("nobody/none")).isNull();
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
            assertThat(pricing.getString("prompt")).isEqualTo(Money.perTokenUsd(model.promptNanosPerMillion()))
                    .doesNotContain("E");
            assertThat(new BigDecimal(pricing.getString("completion")).movePointRight(6))
                    .isEqualByComparingTo(Money.toUsd(model.completionNanosPerMillion()));
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
        assertThat(catalog.find("a/b").cost(1000, 333)).isEqualTo(5_330_000L);
        assertThat(catalog.find("a/b").cost(0, 0)).isZero();
    }

    @Test
    void optionalFieldsDefaultToTheModelId() {
        ModelCatalog.Model model = ModelCatalog.fromJson(catalog(model("a/b")), "test").find("a/b");
        assertThat(model.name()).isEqualTo("a/b");
        assertThat(model.upstreamModel()).isEqualTo("a/b");
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
}
