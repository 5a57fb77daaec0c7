package co.corouter.provider.openai;

import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import static org.assertj.core.api.Assertions.assertThat;

class UpstreamErrorsTest {

    private static final long NOW = Instant.parse("2026-03-01T12:00:00Z").toEpochMilli();

    @Test
    void a429WithRetryAfterInSecondsWaitsThatLong() {
        ProviderException error = UpstreamErrors.ofStatus(429, headers("Retry-After", "2"), null);

        assertThat(error.kind()).isEqualTo(Kind.RATE_LIMITED);
        assertThat(error.upstreamStatus()).isEqualTo(429);
        assertThat(error.retryAfterMillis()).isEqualTo(2_000);
    }

    @Test
    void aRetryAfterHttpDateWaitsUntilThenAndNeverLessThanNothing() {
        String inSeventySeconds = DateTimeFormatter.RFC_1123_DATE_TIME.format(
                Instant.ofEpochMilli(NOW + 70_000).atOffset(ZoneOffset.UTC));
        String past = DateTimeFormatter.RFC_1123_DATE_TIME.format(
                Instant.ofEpochMilli(NOW - 5_000).atOffset(ZoneOffset.UTC));

        assertThat(inSeventySeconds).isEqualTo("Sun, 1 Mar 2026 12:01:10 GMT");
        assertThat(UpstreamErrors.retryAfterMillis(headers("Retry-After", inSeventySeconds), NOW)).isEqualTo(70_000);
        assertThat(UpstreamErrors.retryAfterMillis(headers("Retry-After", "Sun, 01 Mar 2026 12:01:10 GMT"), NOW))
                .isEqualTo(70_000);
        assertThat(UpstreamErrors.retryAfterMillis(headers("Retry-After", past), NOW)).isZero();
    }

    @Test
    void withoutRetryAfterOpenAisResetHeadersGiveTheWait() {
        assertThat(UpstreamErrors.retryAfterMillis(headers("x-ratelimit-reset-requests", "1.5s"), NOW))
                .isEqualTo(1_500);
        assertThat(UpstreamErrors.retryAfterMillis(headers("x-ratelimit-reset-tokens", "20ms"), NOW)).isEqualTo(20);
        assertThat(UpstreamErrors.retryAfterMillis(headers("x-ratelimit-reset-requests", "1s",
                "x-ratelimit-reset-tokens", "6m0s"), NOW)).as("the longer, when neither says it is exhausted")
                .isEqualTo(360_000);
        assertThat(UpstreamErrors.retryAfterMillis(headers("x-ratelimit-reset-requests", "1s",
                "x-ratelimit-reset-tokens", "6m0s", "x-ratelimit-remaining-requests", "0",
                "x-ratelimit-remaining-tokens", "1200"), NOW)).as("the exhausted limit's").isEqualTo(1_000);
        assertThat(UpstreamErrors.retryAfterMillis(headers("Retry-After", "3", "x-ratelimit-reset-requests", "1s"),
                NOW)).as("Retry-After first").isEqualTo(3_000);
    }

    @ParameterizedTest(name = "\"{0}\" is {1} ms")
    @CsvSource({"1s, 1000", "6m0s, 360000", "20ms, 20", "1.5s, 1500", "1h2m3s, 3723000", "0s, 0", "250us, 1",
            "17.001ms, 18", "0.1s, 100", "0.5, -1", "1x, -1", "s, -1", "1s 2ms, -1", "-1s, -1"})
    void readsGoDurations(String text, long millis) {
        assertThat(UpstreamErrors.duration(text)).isEqualTo(millis);
    }

    @Test
    void aWaitTheUpstreamDidNotNameIsMinusOne() {
        assertThat(UpstreamErrors.ofStatus(429, MultiMap.caseInsensitiveMultiMap(), null).retryAfterMillis())
                .isEqualTo(-1);
        assertThat(UpstreamErrors.retryAfterMillis(headers("Retry-After", "soon"), NOW)).isEqualTo(-1);
        assertThat(UpstreamErrors.retryAfterMillis(null, NOW)).isEqualTo(-1);
        assertThat(UpstreamErrors.ofStatus(503, headers("Retry-After", "2"), null).retryAfterMillis())
                .as("only a 429 is rate limiting").isEqualTo(-1);
    }

    @ParameterizedTest(name = "HTTP {0} is {1}")
    @CsvSource({"400, BAD_REQUEST", "401, AUTH", "402, UPSTREAM_ERROR", "403, AUTH", "404, BAD_REQUEST",
            "408, TIMEOUT", "413, UPSTREAM_ERROR", "422, BAD_REQUEST", "429, RATE_LIMITED", "500, UPSTREAM_ERROR",
            "502, UPSTREAM_ERROR", "503, OVERLOADED", "504, UPSTREAM_ERROR", "529, OVERLOADED"})
    void mapsStatusesToKinds(int status, Kind kind) {
        ProviderException error = UpstreamErrors.ofStatus(status, MultiMap.caseInsensitiveMultiMap(), null);

        assertThat(error.kind()).isEqualTo(kind);
        assertThat(error.upstreamStatus()).isEqualTo(status);
        assertThat(error.getMessage()).isEqualTo("upstream answered HTTP " + status);
    }

    @Test
    void aMessageKeepsTheErrorTypeAndCodeButNeverTheUpstreamsText() {
        Buffer body = new JsonObject().put("error", new JsonObject()
                .put("message", "You said: 'my secret prompt'").put("type", "invalid_request_error")
                .put("code", "context_length_exceeded\"; DROP")).toBuffer();

        ProviderException error = UpstreamErrors.ofStatus(400, MultiMap.caseInsensitiveMultiMap(), body);

        assertThat(error.getMessage()).isEqualTo(
                "upstream answered HTTP 400 (type=invalid_request_error, code=context_length_exceededDROP)");
        assertThat(UpstreamErrors.ofStatus(500, MultiMap.caseInsensitiveMultiMap(), Buffer.buffer("<html>secret"))
                .getMessage()).isEqualTo("upstream answered HTTP 500");
    }

    private static MultiMap headers(String... namesAndValues) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            headers.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return headers;
    }
}
