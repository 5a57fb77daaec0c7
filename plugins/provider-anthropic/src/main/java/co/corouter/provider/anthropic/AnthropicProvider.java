package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ModelProvider;
import co.corouter.plugin.api.ProviderContext;
import co.corouter.plugin.api.ProviderEndpoint;
import io.vertx.core.json.JsonObject;
import org.pf4j.Extension;

/**
 * Provider type {@code anthropic}: Anthropic's Messages API ({@code POST {base_url}/v1/messages}), or a gateway
 * speaking it, serving OpenAI-shaped chat requests. See {@link AnthropicOptions} for the configuration.
 */
@Extension
public class AnthropicProvider implements ModelProvider {

    public static final String TYPE = "anthropic";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public ProviderEndpoint create(ProviderContext context, JsonObject config) {
        AnthropicOptions options = AnthropicOptions.parse(config);
        String apiKey = null;
        if (options.apiKeyEnv() != null) {
            apiKey = context.secrets().resolve(options.apiKeyEnv());
            if (apiKey == null || apiKey.isBlank()) {
                throw new IllegalArgumentException("api_key_env: secret '" + options.apiKeyEnv() + "' is not set");
            }
        }
        return new AnthropicEndpoint(context.vertx(), options, apiKey, context.tokens());
    }
}
