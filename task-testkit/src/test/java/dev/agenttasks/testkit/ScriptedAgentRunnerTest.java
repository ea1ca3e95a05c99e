package dev.agenttasks.testkit;

import dev.agenttasks.TaskMessage;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The scripted runner, driven directly (without an engine). */
class ScriptedAgentRunnerTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    /** A context that records what the runner does. */
    private static final class Context implements TurnContext {
        final List<String> log = new CopyOnWriteArrayList<>();
        volatile boolean cancelled;

        @Override
        public String taskId() {
            return "t1";
        }

        @Override
        public void emit(String type, Map<String, ?> data) {
            log.add(type + data);
        }

        @Override
        public void sessionId(String sessionId) {
            log.add("session " + sessionId);
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }
    }

    private static Turn turn(int number, String text) {
        return new Turn("t1", "coder", number, number == 1 ? null : "s-1", TaskMessage.text(text), Map.of(), null, false);
    }

    @Test
    void describesRegisteredAgentsOnly() {
        ScriptedAgentRunner runner = new ScriptedAgentRunner().agent("coder", "Coder", "m");
        assertThat(runner.describe("coder")).hasValueSatisfying(d -> assertThat(d.name()).isEqualTo("Coder"));
        assertThat(runner.describe("nobody")).isEmpty();
        assertThat(runner.describeCalls()).isEqualTo(2);
    }

    @Test
    void runsPerTurnScriptsAndRecordsTurnsAndOutcomes() throws Exception {
        ScriptedAgentRunner runner = new ScriptedAgentRunner().agent("coder", "Coder", null);
        runner.script("coder", 1, ScriptedAgentRunner.steps().sessionId("s-1").emit("text", Map.of("t", 1))
                .thenAskForInput(Map.of("question", "?")));
        runner.script("coder", ScriptedAgentRunner.steps().thenFail(new IllegalStateException("boom")));
        Context ctx = new Context();
        assertThat(runner.runTurn(turn(1, "hi"), ctx).kind()).isEqualTo(TurnResult.Kind.AWAITING_INPUT);
        assertThatThrownBy(() -> runner.runTurn(turn(2, "more"), ctx)).hasMessage("boom");
        assertThat(ctx.log).containsExactly("session s-1", "text{t=1}");
        assertThat(runner.turns("t1")).extracting(Turn::number).containsExactly(1, 2);
        assertThat(runner.outcomes()).hasSize(2);
        assertThat(runner.outcomes().get(1).failure()).isInstanceOf(IllegalStateException.class);
        assertThat(runner.awaitTurnFinished("t1", 2, WAIT).result()).isNull();
    }

    @Test
    void aConditionalScriptWins() throws Exception {
        ScriptedAgentRunner runner = new ScriptedAgentRunner().agent("coder", "Coder", null);
        runner.script("coder", ScriptedAgentRunner.steps().thenComplete(Map.of("which", "agent")));
        runner.scriptWhen(t -> t.message().text().equals("special"),
                ScriptedAgentRunner.steps().thenComplete(Map.of("which", "special")));
        assertThat(runner.runTurn(turn(1, "special"), new Context()).data()).containsEntry("which", "special");
        assertThat(runner.runTurn(turn(1, "plain"), new Context()).data()).containsEntry("which", "agent");
    }

    @Test
    void awaitHonoursInterruptsAndAwaitIgnoringInterruptsDoesNot() throws Exception {
        ScriptedAgentRunner runner = new ScriptedAgentRunner().agent("coder", "Coder", null);
        Gate polite = new Gate();
        Gate stubborn = new Gate();
        runner.scriptWhen(t -> t.message().text().equals("polite"), ScriptedAgentRunner.steps().await(polite).thenComplete());
        runner.scriptWhen(t -> t.message().text().equals("stubborn"),
                ScriptedAgentRunner.steps().awaitIgnoringInterrupts(stubborn).thenComplete());

        Thread[] threads = new Thread[2];
        CompletableFuture<Object> politeRun = new CompletableFuture<>();
        threads[0] = new Thread(() -> {
            try {
                politeRun.complete(runner.runTurn(turn(1, "polite"), new Context()));
            } catch (Exception e) {
                politeRun.complete(e);
            }
        });
        CompletableFuture<Object> stubbornRun = new CompletableFuture<>();
        threads[1] = new Thread(() -> {
            try {
                stubbornRun.complete(runner.runTurn(turn(1, "stubborn"), new Context()));
            } catch (Exception e) {
                stubbornRun.complete(e);
            }
        });
        threads[0].start();
        threads[1].start();
        polite.awaitReached(WAIT);
        stubborn.awaitReached(WAIT);
        threads[0].interrupt();
        threads[1].interrupt();
        assertThat(politeRun.get(5, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        assertThat(stubbornRun).isNotDone();
        stubborn.release();
        assertThat(stubbornRun.get(5, TimeUnit.SECONDS)).isInstanceOf(TurnResult.class);
        assertThat(runner.outcomes()).allSatisfy(o -> assertThat(o.interrupted()).isTrue());
    }

    @Test
    void awaitOrCancelledReturnsWhenTheFlagIsSet() throws Exception {
        ScriptedAgentRunner runner = new ScriptedAgentRunner().agent("coder", "Coder", null);
        Gate never = new Gate();
        runner.script("coder", ScriptedAgentRunner.steps().awaitOrCancelled(never).emit("after", Map.of()).thenComplete());
        Context ctx = new Context();
        CompletableFuture<TurnResult> run = CompletableFuture.supplyAsync(() -> {
            try {
                return runner.runTurn(turn(1, "x"), ctx);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, r -> {
            Thread t = new Thread(r, "test-turn"); // not the common pool, which may have a single busy worker
            t.setDaemon(true);
            t.start();
        });
        never.awaitReached(WAIT);
        ctx.cancelled = true;
        assertThat(run.get(5, TimeUnit.SECONDS).kind()).isEqualTo(TurnResult.Kind.COMPLETED);
        assertThat(ctx.log).containsExactly("after{}");
        assertThat(runner.awaitTurnFinished("t1", 1, WAIT).cancelledFlag()).isTrue();
    }
}
