package co.corouter.provider.anthropic;

import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.ConnectException;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class UpstreamErrorsTest {

    private static final String PROMPT_ECHO = "prompt is too long: my secret prompt";
    private static final long NOW = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();

    @ParameterizedTest(name = "HTTP {0} is {1}")
    @CsvSource({"400, BAD_REQUEST", "401, AUTH", "402, AUTH", "403, AUTH", "404, BAD_REQUEST", "408, TIMEOUT",
            "409, UPSTREAM_ERROR", "413, BAD_REQUEST", "422, BAD_REQUEST", "429, RATE_LIMITED",
            "500, UPSTREAM_ERROR", "502, UPSTREAM_ERROR", "503, OVERLOADED", "504, TIMEOUT", "529, OVERLOADED"})
    void mapsEachStatusToTheKindTheHostFailsOverOn(int status, Kind kind) {
        ProviderException error = UpstreamErrors.ofStatus(status, MultiMap.caseInsensitiveMultiMap(),
                body("api_error", PROMPT_ECHO));

        assertThat(error.kind()).isEqualTo(kind);
        assertThat(error.upstreamStatus()).isEqualTo(status);
        assertThat(error.getMessage()).startsWith("upstream answered HTTP " + status).doesNotContain("secret");
    }

    @Test
    void namesTheErrorTypeCodeAndRequestIdButNeverTheUpstreamsMessage() {
        Buffer body = new JsonObject().put("type", "error").put("error", new JsonObject()
                .put("type", "invalid_request_error").put("message", PROMPT_ECHO)
                .put("details", new JsonObject().put("error_code", "prompt_too_long <script>"))).toBuffer();

        ProviderException error = UpstreamErrors.ofStatus(400,
                MultiMap.caseInsensitiveMultiMap().add("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy"), body);

        assertThat(error.getMessage()).isEqualTo("upstream answered HTTP 400 (type=invalid_request_error,"
                + " code=prompt_too_longscript, request-id=req_011CSHoEeqs5C35K2UUqR7Fy)");
    }

    @Test
    void aBodyThatIsNotJsonIsDescribedByItsStatusAlone() {
        ProviderException error = UpstreamErrors.ofStatus(502, null, Buffer.buffer("<html>" + PROMPT_ECHO));

        assertThat(error.getMessage()).isEqualTo("upstream answered HTTP 502");
        assertThat(UpstreamErrors.ofStatus(500, null, null).getMessage()).isEqualTo("upstream answered HTTP 500");
    }

    /** Rate-limit headers ("name=value" each; "rl-" is "anthropic-ratelimit-") and the wait they ask for. */
    static Stream<Arguments> waits() {
        return Stream.of(
                arguments("retry-after seconds", List.of("retry-after=2"), 2_000),
                arguments("retry-after fraction", List.of("retry-after=0.1"), 100),
                arguments("retry-after-ms wins", List.of("retry-after-ms=1500", "retry-after=2"), 1_500),
                arguments("retry-after http date", List.of("retry-after=Thu, 01 Jan 2026 00:00:30 GMT"), 30_000),
                arguments("the exhausted limit", List.of("rl-requests-remaining=0",
                        "rl-requests-reset=2026-01-01T00:00:05Z", "rl-tokens-remaining=900",
                        "rl-tokens-reset=2026-01-01T00:01:00Z"), 5_000),
                arguments("the latest exhausted", List.of("rl-input-tokens-remaining=0",
                        "rl-input-tokens-reset=2026-01-01T00:00:04Z", "rl-output-tokens-remaining=0",
                        "rl-output-tokens-reset=2026-01-01T00:00:09Z"), 9_000),
                arguments("no limit says exhausted", List.of("rl-requests-reset=2026-01-01T00:00:03Z",
                        "rl-tokens-reset=2026-01-01T00:00:07Z"), 7_000),
                arguments("a reset already passed", List.of("rl-requests-remaining=0",
                        "rl-requests-reset=2025-12-31T23:59:00Z"), 0),
                arguments("nothing said", List.of("x-other=1"), -1),
                arguments("garbage", List.of("retry-after=soon", "rl-requests-reset=tomorrow"), -1));
    }

    @ParameterizedTest(name = "{0}: {1} -> {2} ms")
    @MethodSource("waits")
    void readsHowLongARateLimitedUpstreamAskedToWait(String name, List<String> headers, long expected) {
        MultiMap parsed = MultiMap.caseInsensitiveMultiMap();
        for (String header : headers) {
            String field = header.substring(0, header.indexOf('=')).replaceFirst("^rl-", "anthropic-ratelimit-");
            parsed.add(field, header.substring(header.indexOf('=') + 1));
        }

        assertThat(UpstreamErrors.retryAfterMillis(parsed, NOW)).isEqualTo(expected);
    }

    @Test
    void a429CarriesTheWaitForTheHost() {
        ProviderException error = UpstreamErrors.ofStatus(429,
                MultiMap.caseInsensitiveMultiMap().add("retry-after", "3"), body("rate_limit_error", PROMPT_ECHO));

        assertThat(error.kind()).isEqualTo(Kind.RATE_LIMITED);
        assertThat(error.retryAfterMillis()).isEqualTo(3_000);
        assertThat(UpstreamErrors.ofStatus(429, MultiMap.caseInsensitiveMultiMap(), null).retryAfterMillis())
                .isEqualTo(-1);
    }

    @ParameterizedTest(name = "{0} mid-stream is {1}")
    @CsvSource({"overloaded_error, OVERLOADED", "rate_limit_error, RATE_LIMITED", "api_error, UPSTREAM_ERROR",
            "authentication_error, AUTH", "permission_error, AUTH", "billing_error, AUTH",
            "invalid_request_error, BAD_REQUEST", "not_found_error, BAD_REQUEST", "request_too_large, BAD_REQUEST",
            "timeout_error, TIMEOUT", "brand_new_error, UPSTREAM_ERROR"})
    void mapsAnErrorEventByItsType(String type, Kind kind) {
        ProviderException error = UpstreamErrors.ofStreamEvent(new JsonObject(body(type, PROMPT_ECHO)));

        assertThat(error.kind()).isEqualTo(kind);
        assertThat(error.upstreamStatus()).as("the stream had answered 200; the event has no status").isZero();
        assertThat(error.getMessage()).isEqualTo("upstream sent an error event mid-stream (type=" + type + ")");
    }

    @Test
    void aConnectionFailureIsAnUpstreamErrorWithoutStatus() {
        ProviderException error = UpstreamErrors.ofConnection(new ConnectException("Connection refused"));

        assertThat(error.kind()).isEqualTo(Kind.UPSTREAM_ERROR);
        assertThat(error.upstreamStatus()).isZero();
        assertThat(error.getMessage()).isEqualTo("upstream connection failed (ConnectException: Connection refused)");
        ProviderException known = new ProviderException(Kind.TIMEOUT, "late");
        assertThat(UpstreamErrors.ofConnection(known)).isSameAs(known);
    }

    private static Buffer body(String type, String message) {
        return new JsonObject().put("type", "error").put("error", new JsonObject().put("type", type)
                .put("message", message)).toBuffer();
    }
}
