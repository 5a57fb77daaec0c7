package co.corouter.server.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.common.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pipeline's contract: forward stages in order until one fails or the client leaves; end stages exactly once. */
class PipelineTest {

    final List<String> ran = new ArrayList<>();

    Stage named(String name) {
        return exchange -> {
            ran.add(name);
            return Stage.DONE;
        };
    }

    static Exchange exchange() {
        return new Exchange("gen-test", null, null);
    }

    @Test
    void synchronousStagesRunInOrderAndTheEndStagesOnceAfterThem() {
        Pipeline pipeline = new Pipeline(List.of(named("a"), named("b"), named("c")), List.of(named("x"), named("y")));
        Exchange exchange = exchange();
        Future<Void> done = pipeline.run(exchange);
        assertThat(done.succeeded()).as("completed without a callback hop").isTrue();
        assertThat(ran).containsExactly("a", "b", "c", "x", "y");
        assertThat(exchange.failure()).isNull();
    }

    @Test
    void aFailedStageSkipsTheRestOfTheForwardStagesButNotTheEndStages() {
        Stage failing = exchange -> {
            ran.add("fail");
            return Future.failedFuture(new ApiException(402, "no credit"));
        };
        Stage throwing = exchange -> {
            throw new IllegalStateException("a buggy stage");
        };
        Exchange first = exchange();
        new Pipeline(List.of(named("a"), failing, named("never")), List.of(named("end"))).run(first);
        assertThat(ran).containsExactly("a", "fail", "end");
        assertThat(first.failureView().code()).isEqualTo(402);

        ran.clear();
        Exchange second = exchange();
        new Pipeline(List.of(throwing, named("never")), List.of(named("end"))).run(second);
        assertThat(ran).containsExactly("end");
        assertThat(second.failure()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aClientThatLeftWhileAStageWaitedStopsTheRunBeforeTheNextStage() {
        Promise<Void> slow = Promise.promise();
        Stage waiting = exchange -> {
            ran.add("waiting");
            return slow.future();
        };
        Exchange exchange = exchange();
        Future<Void> done = new Pipeline(List.of(waiting, named("call")), List.of(named("end"))).run(exchange);
        assertThat(done.isComplete()).isFalse();
        exchange.clientClosed();
        slow.complete();
        assertThat(done.succeeded()).isTrue();
        assertThat(ran).containsExactly("waiting", "end");
        assertThat(exchange.failureView().code()).isEqualTo(499);
        assertThat(exchange.cancelled()).as("no provider was called").isFalse();
    }

    @Test
    void anEndStageThatFailsDoesNotStopTheOthers() {
        Stage broken = exchange -> Future.failedFuture(new IllegalStateException("bug"));
        Exchange exchange = exchange();
        new Pipeline(List.of(named("a")), List.of(broken, named("after"))).run(exchange);
        assertThat(ran).containsExactly("a", "after");
        assertThat(exchange.failure()).as("the request's own outcome is kept").isNull();
    }

    @Test
    void abortListenersHearEachEarlyStopOnce() {
        Exchange exchange = exchange();
        List<Exchange.Abort> heard = new ArrayList<>();
        exchange.onAbort(heard::add);
        exchange.clientClosed();
        exchange.clientClosed();
        exchange.deadline();
        assertThat(heard).containsExactly(Exchange.Abort.CLIENT_GONE, Exchange.Abort.DEADLINE);
    }
}
