package co.corouter.payment.creem;

import co.corouter.plugin.api.payment.Money;
import co.corouter.plugin.api.payment.Offer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CreemOptionsTest {

    static JsonObject config(String baseUrl) {
        return new JsonObject().put("base_url", baseUrl).put("api_key_env", "CREEM_API_KEY")
                .put("webhook_secret_env", "CREEM_WEBHOOK_SECRET")
                .put("products", new JsonObject()
                        .put("usd_10", new JsonObject().put("product_id", "prod_10").put("price", 1000)
                                .put("currency", "usd"))
                        .put("usd_any", new JsonObject().put("product_id", "prod_one").put("price", 100)
                                .put("currency", "USD").put("units", true)));
    }

    @Test
    void parsesTheBaseUrlSecretsAndProductsInOrder() {
        CreemOptions options = CreemOptions.parse(config("https://test-api.creem.io/"));

        assertThat(options.baseUrl()).hasToString("https://test-api.creem.io");
        assertThat(options.path("/v1/checkouts")).isEqualTo("/v1/checkouts");
        assertThat(options.port()).isEqualTo(443);
        assertThat(options.requestTimeoutMs()).isEqualTo(CreemOptions.DEFAULT_REQUEST_TIMEOUT_MS);
        assertThat(options.offers()).containsExactly(
                new Offer("usd_10", "prod_10", new Money(1000, "USD"), false),
                new Offer("usd_any", "prod_one", new Money(100, "USD"), true));
    }

    @Test
    void eachInvalidFieldIsNamed() {
        assertThatThrownBy(() -> CreemOptions.parse(config("https://x").put("mode", "test")))
                .hasMessageContaining("unknown field(s) [mode]");
        assertThatThrownBy(() -> CreemOptions.parse(config("ftp://x"))).hasMessageStartingWith("base_url:");
        JsonObject noKey = config("https://x");
        noKey.remove("api_key_env");
        assertThatThrownBy(() -> CreemOptions.parse(noKey)).hasMessageStartingWith("api_key_env:");
        JsonObject cheap = config("https://x");
        cheap.getJsonObject("products").getJsonObject("usd_10").put("price", 99);
        assertThatThrownBy(() -> CreemOptions.parse(cheap)).hasMessageStartingWith("products.usd_10.price:");
        JsonObject fractional = config("https://x");
        fractional.getJsonObject("products").getJsonObject("usd_10").put("price", 10.5);
        assertThatThrownBy(() -> CreemOptions.parse(fractional)).hasMessageStartingWith("products.usd_10.price:");
        JsonObject twice = config("https://x");
        twice.getJsonObject("products").getJsonObject("usd_any").put("product_id", "prod_10");
        assertThatThrownBy(() -> CreemOptions.parse(twice)).hasMessageContaining("configured twice");
        assertThatThrownBy(() -> CreemOptions.parse(config("https://x").put("products", new JsonObject())))
                .hasMessageStartingWith("products:");
    }

    @Test
    void theConfigSchemaDescribesExactlyTheFieldsTheParserKnows() throws Exception {
        try (InputStream in = CreemProcessor.class.getResourceAsStream("/META-INF/corouter/config.schema.json")) {
            JsonObject schema = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            assertThat(schema.getJsonObject("properties").fieldNames())
                    .containsExactlyInAnyOrderElementsOf(CreemOptions.FIELDS);
            assertThat(schema.getJsonObject("properties").getJsonObject("products")
                    .getJsonObject("additionalProperties").getJsonObject("properties").fieldNames())
                    .containsExactlyInAnyOrderElementsOf(CreemOptions.PRODUCT_FIELDS);
        }
    }
}
