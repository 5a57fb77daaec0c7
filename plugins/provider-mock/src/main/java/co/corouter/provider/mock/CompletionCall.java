package co.corouter.provider.mock;

import co.corouter.plugin.api.ChatCompletion;
import co.corouter.plugin.api.ChatRequest;
import co.corouter.plugin.api.Usage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/** One simulated whole completion: the answer arrives in one piece after the configured latency. */
final class CompletionCall extends SimulatedCall<ChatCompletion> {

    private final ChatRequest request;
    private final MockBehaviour behaviour;
    private final AnswerGenerator generator;

    CompletionCall(Vertx vertx, ChatRequest request, AnswerGenerator generator) {
        super(vertx, request);
        this.request = request;
        this.behaviour = MockBehaviour.of(request.upstreamModel());
        this.generator = generator;
    }

    Future<ChatCompletion> start(long latencyMs) {
        long answerAfter = behaviour == MockBehaviour.HANG ? NEVER : latencyMs;
        return start(answerAfter, answerAfter, 0);
    }

    @Override
    protected void step() {
        if (behaviour != MockBehaviour.ANSWER) {
            fail(behaviour.failure());
            return;
        }
        MockAnswer answer = generator.answer(request, 1);
        Usage usage = Usage.of(answer.promptTokens(), answer.completionTokens());
        JsonObject message = new JsonObject()
                .put("role", "assistant")
                .put("content", answer.text())
                .putNull("refusal");
        JsonObject choice = new JsonObject()
                .put("index", 0)
                .put("message", message)
                .putNull("logprobs")
                .put("finish_reason", answer.finishReason());
        JsonObject body = new JsonObject()
                .put("id", request.generationId())
                .put("object", "chat.completion")
                .put("created", System.currentTimeMillis() / 1000)
                .put("model", request.responseModel())
                .put("choices", new JsonArray().add(choice))
                .put("usage", new JsonObject()
                        .put("prompt_tokens", usage.promptTokens())
                        .put("completion_tokens", usage.completionTokens())
                        .put("total_tokens", usage.totalTokens()));
        succeed(new ChatCompletion(body, usage));
    }
}
