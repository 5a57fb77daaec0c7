package co.corouter.testkit.creem;

import io.vertx.core.json.JsonObject;

/**
 * One API request {@link FakeCreem} received.
 *
 * @param method the HTTP method
 * @param path   the path, without the query
 * @param query  the raw query, or {@code null}
 * @param apiKey the {@code x-api-key} header, or {@code null}
 * @param body   the body parsed as a JSON object, or {@code null} when it was empty or not an object
 * @param status what the fake answered
 */
public record RecordedCreemRequest(String method, String path, String query, String apiKey, JsonObject body,
                                   int status) {
}
