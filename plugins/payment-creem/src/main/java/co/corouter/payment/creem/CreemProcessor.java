package co.corouter.payment.creem;

import co.corouter.plugin.api.payment.PaymentContext;
import co.corouter.plugin.api.payment.PaymentGateway;
import co.corouter.plugin.api.payment.PaymentProcessor;
import io.vertx.core.json.JsonObject;
import org.pf4j.Extension;

/**
 * Payment type {@code creem}: Creem (creem.io), merchant of record, per {@code specs/creem.md}. See
 * {@link CreemOptions} for the configuration.
 */
@Extension
public class CreemProcessor implements PaymentProcessor {

    public static final String TYPE = "creem";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public PaymentGateway create(PaymentContext context, JsonObject config) {
        CreemOptions options = CreemOptions.parse(config);
        String apiKey = secret(context, options.apiKeyEnv(), CreemOptions.API_KEY_ENV);
        String webhookSecret = secret(context, options.webhookSecretEnv(), CreemOptions.WEBHOOK_SECRET_ENV);
        return new CreemGateway(context.vertx(), options, apiKey, webhookSecret);
    }

    private static String secret(PaymentContext context, String name, String field) {
        String value = context.secrets().resolve(name);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(field + ": secret '" + name + "' is not set");
        }
        return value;
    }
}
