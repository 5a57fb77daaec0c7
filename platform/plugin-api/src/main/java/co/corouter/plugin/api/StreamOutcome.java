package co.corouter.plugin.api;

/**
 * How a stream ended.
 *
 * @param usage        tokens reported by the upstream (or estimated, see {@link Usage#estimated()})
 * @param finishReason the last {@code finish_reason} seen, or {@code null}
 */
public record StreamOutcome(Usage usage, String finishReason) {
}
