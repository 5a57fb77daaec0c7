package co.corouter.provider.openai;

import co.corouter.plugin.api.EmbeddingRequest;
import co.corouter.plugin.api.Embeddings;
import co.corouter.plugin.api.ProviderContext;
import co.corouter.plugin.api.ProviderEndpoint;
import co.corouter.plugin.api.ProviderException;
import co.corouter.plugin.api.ProviderException.Kind;
import co.corouter.plugin.api.Usage;
import co.corouter.testkit.tck.Tokens;
import co.corouter.testkit.upstream.Behaviour;
import co.corouter.testkit.upstream.FakeEmbeddings;
import co.corouter.testkit.upstream.FakeOpenAiUpstream;
import co.corouter.testkit.upstream.FakeOpenAiUpstreamExtension;
import co.corouter.testkit.upstream.RecordedRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code embed} against the fake upstream: the request it sends, the vectors and usage it hands on, its failures. */
@ExtendWith(VertxExtension.class)
class OpenAiEndpointEmbeddingsTest {

    @RegisterExtension
    static final FakeOpenAiUpstreamExtension UPSTREAM = new FakeOpenAiUpstreamExtension();

    private static final List<String> INPUTS = List.of("the quick brown fox", "jumps");

    private FakeOpenAiUpstream upstream;
    private ProviderEndpoint endpoint;
    private Vertx vertx;

    @BeforeEach
    void createEndpoint(Vertx vertx) {
        this.vertx = vertx;
        upstream = UPSTREAM.upstream().requireApiKey("sk-test");
        ProviderContext context = new ProviderContext(vertx, "test",
                name -> "FAKE_KEY".equals(name) ? "sk-test" : null, Tokens.counter());
        endpoint = new OpenAiProvider().create(context, new JsonObject().put("base_url", upstream.baseUrl())
                .put("api_key_env", "FAKE_KEY"));
    }

    @AfterEach
    void closeEndpoint(VertxTestContext testContext) {
        endpoint.close().onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void postsToEmbeddingsAndHandsOnTheVectorsAndTheUpstreamsUsage(VertxTestContext testContext) {
        embed(request(INPUTS, 0, "base64", 5_000, Promise.<Void>promise().future()))
                .onComplete(testContext.succeeding(embeddings -> testContext.verify(() -> {
                    RecordedRequest seen = upstream.lastRequest();
                    assertThat(seen.path()).isEqualTo("/v1/embeddings");
                    assertThat(seen.authorization()).isEqualTo("Bearer sk-test");
                    assertThat(seen.body().getString("model")).isEqualTo("text-embedding-3-small");
                    assertThat(seen.body().getString("encoding_format")).isEqualTo("float");
                    assertThat(embeddings.vectors()).hasSize(2);
                    assertThat(embeddings.vectors().get(0)).containsExactly(
                            FakeEmbeddings.vector(INPUTS.get(0), FakeEmbeddings.DEFAULT_DIMENSIONS));
                    assertThat(embeddings.vectors().get(1)).containsExactly(
                            FakeEmbeddings.vector(INPUTS.get(1), FakeEmbeddings.DEFAULT_DIMENSIONS));
                    assertThat(embeddings.usage()).isEqualTo(Usage.of(5, 0));
                    testContext.completeNow();
                })));
    }

    @Test
    void passesTheDimensionsOn(VertxTestContext testContext) {
        embed(request(INPUTS, 3, null, 5_000, Promise.<Void>promise().future()))
                .onComplete(testContext.succeeding(embeddings -> testContext.verify(() -> {
                    assertThat(upstream.lastRequest().body().getInteger("dimensions")).isEqualTo(3);
                    assertThat(embeddings.vectors()).allSatisfy(vector -> assertThat(vector).hasSize(3));
                    testContext.completeNow();
                })));
    }

    @Test
    void countsTheInputsWhenTheUpstreamReportsNoUsage(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().omitUsage());

        embed(request(INPUTS, 0, null, 5_000, Promise.<Void>promise().future()))
                .onComplete(testContext.succeeding(embeddings -> testContext.verify(() -> {
                    int counted = Tokens.counter().count(INPUTS.get(0)) + Tokens.counter().count(INPUTS.get(1));
                    assertThat(embeddings.usage()).isEqualTo(new Usage(counted, 0, 0, 0, true));
                    testContext.completeNow();
                })));
    }

    @ParameterizedTest(name = "HTTP {0} is {1}")
    @CsvSource({"400, BAD_REQUEST", "401, AUTH", "429, RATE_LIMITED", "500, UPSTREAM_ERROR", "503, OVERLOADED"})
    void mapsErrorStatusesLikeChat(int status, Kind kind, VertxTestContext testContext) {
        upstream.behave(Behaviour.error(status).errorMessage("echo of the quick brown fox"));

        embed(request(INPUTS, 0, null, 5_000, Promise.<Void>promise().future()))
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertThat(failure).isInstanceOf(ProviderException.class);
                    assertThat(((ProviderException) failure).kind()).isEqualTo(kind);
                    assertThat(((ProviderException) failure).upstreamStatus()).isEqualTo(status);
                    assertThat(failure.getMessage()).doesNotContain("fox");
                    testContext.completeNow();
                })));
    }

    @Test
    void failsWithBadResponseOnAnUnparseableAnswer(VertxTestContext testContext) {
        upstream.behave(Behaviour.normal().malformedBody());

        embed(request(INPUTS, 0, null, 5_000, Promise.<Void>promise().future()))
                .onComplete(testContext.failing(failure -> testContext.verify(() -> {
                    assertThat(((ProviderException) failure).kind()).isEqualTo(Kind.BAD_RESPONSE);
                    testContext.completeNow();
                })));
    }

    @Test
    void timesOutWithinTheBudgetAndFreesTheConnection(VertxTestContext testContext) {
        upstream.behave(Behaviour.hang());
        long started = System.nanoTime();

        embed(request(INPUTS, 0, null, 300, Promise.<Void>promise().future()))
                .transform(result -> {
                    long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                    testContext.verify(() -> {
                        assertThat(((ProviderException) result.cause()).kind()).isEqualTo(Kind.TIMEOUT);
                        assertThat(elapsedMs).isBetween(290L, 2_000L);
                    });
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
    }

    @Test
    void resetsTheUpstreamRequestWhenTheHostCancels(VertxTestContext testContext) {
        upstream.behave(Behaviour.hang());
        Promise<Void> cancelled = Promise.promise();

        embed(request(INPUTS, 0, null, 5_000, cancelled.future()))
                .transform(result -> {
                    testContext.verify(() -> assertThat(((ProviderException) result.cause()).kind())
                            .isEqualTo(Kind.CANCELLED));
                    return upstream.lastRequest().connectionClosed();
                })
                .onComplete(testContext.succeedingThenComplete());
        vertx.setPeriodic(10, id -> {
            if (upstream.requestCount() == 1) {
                vertx.cancelTimer(id);
                cancelled.complete();
            }
        });
    }

    private static EmbeddingRequest request(List<String> inputs, int dimensions, String encoding, long timeoutMillis,
                                            Future<Void> cancelled) {
        JsonObject body = new JsonObject().put("model", "openai/text-embedding-3-small")
                .put("input", new JsonArray(inputs));
        if (dimensions > 0) {
            body.put("dimensions", dimensions);
        }
        if (encoding != null) {
            body.put("encoding_format", encoding);
        }
        return new EmbeddingRequest("gen-test", "text-embedding-3-small", inputs, dimensions, body.toBuffer(),
                timeoutMillis, cancelled);
    }

    private Future<Embeddings> embed(EmbeddingRequest request) {
        return onEventLoop(() -> endpoint.embed(request));
    }

    private <T> Future<T> onEventLoop(Supplier<Future<T>> call) {
        Promise<T> result = Promise.promise();
        vertx.runOnContext(v -> call.get().onComplete(result));
        return result.future();
    }
}
