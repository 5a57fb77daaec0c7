package co.corouter.provider.openai;

import co.corouter.plugin.api.ModelProvider;
import co.corouter.plugin.api.ProviderContext;
import co.corouter.plugin.api.ProviderEndpoint;
import io.vertx.core.json.JsonObject;
import org.pf4j.Extension;

/**
 * Provider type {@code openai}: any upstream speaking OpenAI's {@code /chat/completions} (OpenAI, Groq,
 * Together, vLLM, Ollama, llama.cpp, ...). See {@link OpenAiOptions} for the configuration.
 */
@Extension
public class OpenAiProvider implements ModelProvider {

    public static final String TYPE = "openai";

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public ProviderEndpoint create(ProviderContext context, JsonObject config) {
        OpenAiOptions options = OpenAiOptions.parse(config);
        String apiKey = null;
        if (options.apiKeyEnv() != null) {
            apiKey = context.secrets().resolve(options.apiKeyEnv());
            if (apiKey == null || apiKey.isBlank()) {
                throw new IllegalArgumentException(
                        "api_key_env: secret '" + options.apiKeyEnv() + "' is not set");
            }
        }
        return new OpenAiEndpoint(context.vertx(), options, apiKey, context.tokens());
    }
}
