package co.corouter.provider.gemini;

import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.ConnectException;

import static org.assertj.core.api.Assertions.assertThat;

class GeminiErrorsTest {

    private static final String PROMPT_ECHO = "Your prompt about foxes is invalid";

    @ParameterizedTest(name = "HTTP {0} {1} is {2}")
    @CsvSource({"400, INVALID_ARGUMENT, BAD_REQUEST", "400, FAILED_PRECONDITION, UNAVAILABLE",
            "401, UNAUTHENTICATED, AUTH", "403, PERMISSION_DENIED, AUTH", "404, NOT_FOUND, BAD_REQUEST",
            "408, DEADLINE_EXCEEDED, TIMEOUT", "429, RESOURCE_EXHAUSTED, RATE_LIMITED",
            "499, CANCELLED, UPSTREAM_ERROR",
            "500, INTERNAL, UPSTREAM_ERROR", "502, UNKNOWN, UPSTREAM_ERROR", "503, UNAVAILABLE, OVERLOADED",
            "504, DEADLINE_EXCEEDED, TIMEOUT"})
    void mapsEachStatusToTheKindTheHostFailsOverOn(int status, String googleStatus, Kind kind) {
        ProviderException error = GeminiErrors.ofStatus(status, MultiMap.caseInsensitiveMultiMap(),
                body(status, googleStatus, new JsonArray()));

        assertThat(error.kind()).isEqualTo(kind);
        assertThat(error.upstreamStatus()).isEqualTo(status);
        assertThat(error.getMessage()).contains(String.valueOf(status)).contains(googleStatus)
                .doesNotContain("foxes");
    }

    @Test
    void anInvalidApiKeyIsAuthEvenThoughGeminiAnswers400() {
        JsonArray details = new JsonArray().add(new JsonObject()
                .put("@type", "type.googleapis.com/google.rpc.ErrorInfo").put("reason", "API_KEY_INVALID")
                .put("domain", "googleapis.com"));

        ProviderException error = GeminiErrors.ofStatus(400, null, body(400, "INVALID_ARGUMENT", details));

        assertThat(error.kind()).isEqualTo(Kind.AUTH);
        assertThat(error.getMessage()).contains("reason=API_KEY_INVALID");
    }

    @Test
    void aRateLimitWaitsForRetryInfoRoundedUpAndNamesTheQuota() {
        JsonArray details = new JsonArray()
                .add(new JsonObject().put("@type", "type.googleapis.com/google.rpc.QuotaFailure")
                        .put("violations", new JsonArray().add(new JsonObject()
                                .put("quotaId", "GenerateRequestsPerDayPerProjectPerModel-FreeTier"))))
                .add(new JsonObject().put("@type", "type.googleapis.com/google.rpc.RetryInfo")
                        .put("retryDelay", "45.837906927s"));

        ProviderException error = GeminiErrors.ofStatus(429, MultiMap.caseInsensitiveMultiMap()
                .add("Retry-After", "2"), body(429, "RESOURCE_EXHAUSTED", details));

        assertThat(error.kind()).isEqualTo(Kind.RATE_LIMITED);
        assertThat(error.retryAfterMillis()).as("RetryInfo wins over Retry-After").isEqualTo(45_838);
        assertThat(error.getMessage()).contains("quota=GenerateRequestsPerDayPerProjectPerModel-FreeTier");
    }

    @Test
    void aRateLimitWithoutRetryInfoFallsBackToRetryAfterOrMinusOne() {
        Buffer bare = body(429, "RESOURCE_EXHAUSTED", new JsonArray());

        assertThat(GeminiErrors.ofStatus(429, MultiMap.caseInsensitiveMultiMap().add("Retry-After", "3"), bare)
                .retryAfterMillis()).isEqualTo(3_000);
        assertThat(GeminiErrors.ofStatus(429, MultiMap.caseInsensitiveMultiMap(), bare).retryAfterMillis())
                .isEqualTo(-1);
    }

    @Test
    void readsAnErrorWrappedInAnArrayAndSurvivesABodyThatIsNotJson() {
        Buffer wrapped = new JsonArray().add(new JsonObject(body(503, "UNAVAILABLE", new JsonArray()))).toBuffer();

        assertThat(GeminiErrors.ofStatus(503, null, wrapped).getMessage()).contains("status=UNAVAILABLE");
        ProviderException html = GeminiErrors.ofStatus(502, null, Buffer.buffer("<html>Bad Gateway</html>"));
        assertThat(html.kind()).isEqualTo(Kind.UPSTREAM_ERROR);
        assertThat(html.getMessage()).isEqualTo("upstream answered HTTP 502");
        assertThat(GeminiErrors.ofStatus(500, null, null).getMessage()).isEqualTo("upstream answered HTTP 500");
    }

    @Test
    void onlyPlainIdentifiersReachTheMessageSoNoUpstreamTextLeaks() {
        JsonObject error = new JsonObject().put("error", new JsonObject().put("code", 400)
                .put("status", "INVALID_ARGUMENT: the fox said \"hi\"").put("message", PROMPT_ECHO));

        ProviderException mapped = GeminiErrors.ofStatus(400, null, error.toBuffer());

        assertThat(mapped.getMessage()).isEqualTo("upstream answered HTTP 400");
    }

    @Test
    void aMidStreamErrorTakesItsKindFromItsCodeOrItsStatus() {
        JsonObject withCode = new JsonObject().put("error", new JsonObject().put("code", 500)
                .put("status", "INTERNAL"));
        JsonObject withStatusOnly = new JsonObject().put("error", new JsonObject().put("status", "UNAVAILABLE"));

        assertThat(GeminiErrors.ofStreamError(withCode).kind()).isEqualTo(Kind.UPSTREAM_ERROR);
        assertThat(GeminiErrors.ofStreamError(withCode).getMessage()).startsWith("upstream sent an error mid-stream");
        assertThat(GeminiErrors.ofStreamError(withStatusOnly).kind()).isEqualTo(Kind.OVERLOADED);
    }

    @Test
    void aConnectionFailureIsAnUpstreamErrorWithoutStatus() {
        ProviderException error = GeminiErrors.ofConnection(new ConnectException("Connection refused"));

        assertThat(error.kind()).isEqualTo(Kind.UPSTREAM_ERROR);
        assertThat(error.upstreamStatus()).isZero();
        assertThat(error.getMessage()).contains("ConnectException");
        ProviderException known = new ProviderException(Kind.TIMEOUT, "t");
        assertThat(GeminiErrors.ofConnection(known)).isSameAs(known);
        assertThat(GeminiErrors.ofConnection(new IOException()).getMessage()).contains("IOException");
    }

    private static Buffer body(int code, String status, JsonArray details) {
        JsonObject error = new JsonObject().put("code", code).put("message", PROMPT_ECHO).put("status", status);
        if (!details.isEmpty()) {
            error.put("details", details);
        }
        return new JsonObject().put("error", error).toBuffer();
    }
}
