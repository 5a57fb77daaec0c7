package co.corouter.provider.gemini;

import co.corouter.plugin.api.ModelProvider;
import co.corouter.plugin.api.ProviderContext;
import co.corouter.plugin.api.ProviderEndpoint;
import io.vertx.core.json.JsonObject;
import org.pf4j.Extension;

/**
 * Provider type {@code gemini}: Google's Gemini Developer API ({@code generativelanguage.googleapis.com/v1beta}),
 * serving the host's OpenAI-shaped chat requests and embeddings. See {@link GeminiOptions} for the configuration.
 */
@Extension
public class GeminiProvider implements ModelProvider {

    public static final String TYPE = "gemini";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public ProviderEndpoint create(ProviderContext context, JsonObject config) {
        GeminiOptions options = GeminiOptions.parse(config);
        String apiKey = context.secrets().resolve(options.apiKeyEnv());
        if (apiKey == null || apiKey.isBlank()) {
            throw new IllegalArgumentException(GeminiOptions.API_KEY_ENV + ": secret '" + options.apiKeyEnv()
                    + "' is not set");
        }
        return new GeminiEndpoint(context.vertx(), options, apiKey.strip(), context.tokens());
    }
}
