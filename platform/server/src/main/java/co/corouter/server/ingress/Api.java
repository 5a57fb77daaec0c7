package co.corouter.server.ingress;

/**
 * The APIs a pipeline serves, each at its path and in its {@link Dialect}. The node builds one pipeline per API (they
 * differ in how the body is validated); every other stage is shared.
 */
public enum Api {
    /** OpenAI (and OpenRouter) chat completions. */
    CHAT("/v1/chat/completions", OpenAiChatDialect.INSTANCE),
    /** Anthropic's Messages API, served by any provider. */
    MESSAGES("/v1/messages", AnthropicDialect.INSTANCE),
    /** OpenAI's legacy text completions ({@code prompt}), served as a one-message chat. */
    COMPLETIONS("/v1/completions", CompletionsDialect.INSTANCE),
    /** OpenAI embeddings. */
    EMBEDDINGS("/v1/embeddings", EmbeddingsDialect.INSTANCE);

    private final String path;
    private final Dialect dialect;
    private final String label;

    Api(String path, Dialect dialect) {
        this.path = path;
        this.dialect = dialect;
        this.label = name().toLowerCase(java.util.Locale.ROOT);
    }

    public String path() {
        return path;
    }

    /** The name usage rows and {@code /v1/generation} give it. */
    public String label() {
        return label;
    }

    Dialect dialect() {
        return dialect;
    }
}
