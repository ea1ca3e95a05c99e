package dev.agenttasks.examples;

import dev.agenttasks.TaskMessage;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnResult;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class DemoAgentRunnerTest {

    private final DemoAgentRunner runner = new DemoAgentRunner(new AgentDescriptor("demo", "Demo", "demo-1"), Duration.ZERO);

    private static Turn turn(int number, String session, String text) {
        return new Turn("task_test", "demo", number, session, text == null ? null : TaskMessage.text(text), Map.of(),
                null, false);
    }

    @Test
    void describesOnlyItsOwnAgent() {
        assertThat(runner.describe("demo")).map(AgentDescriptor::model).contains("demo-1");
        assertThat(runner.describe("other")).isEmpty();
    }

    @Test
    void streamsAMultiStepAnswerTokenByTokenAndCompletes() throws Exception {
        RecordingContext ctx = new RecordingContext();
        TurnResult result = runner.runTurn(turn(1, null, "summarise this"), ctx);
        assertThat(result.kind()).isEqualTo(TurnResult.Kind.COMPLETED);
        assertThat(ctx.sessionId).isEqualTo("demo-task_test");
        assertThat(ctx.types().get(0)).isEqualTo("thinking");
        assertThat(ctx.types()).filteredOn("text_delta"::equals).hasSizeGreaterThan(30);
        assertThat(ctx.types().get(ctx.types().size() - 1)).isEqualTo("result");
        assertThat(ctx.text()).contains("Step 1:").contains("Step 4:");
    }

    @Test
    void asksAQuestionOnTheFirstTurnThenUsesTheAnswer() throws Exception {
        RecordingContext first = new RecordingContext();
        TurnResult asked = runner.runTurn(turn(1, null, "Please ask me first"), first);
        assertThat(asked.kind()).isEqualTo(TurnResult.Kind.AWAITING_INPUT);
        assertThat(asked.data().get("question")).asString().contains("format");
        assertThat(first.types()).contains("ask_user_question").doesNotContain("result");

        RecordingContext second = new RecordingContext();
        TurnResult done = runner.runTurn(turn(2, "demo-task_test", "short summary"), second);
        assertThat(done.kind()).isEqualTo(TurnResult.Kind.COMPLETED);
        assertThat(second.text()).contains("you said: short summary");
        assertThat(second.sessionId).isNull();
    }

    @Test
    void failsWhenTold() {
        RecordingContext ctx = new RecordingContext();
        assertThatThrownBy(() -> runner.runTurn(turn(1, null, "now FAIL please"), ctx))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("failed on purpose");
        assertThat(ctx.types()).contains("text_delta");
    }

    @Test
    void longAnswersAreInterruptible() throws Exception {
        DemoAgentRunner slow = new DemoAgentRunner(new AgentDescriptor("demo", "Demo", null), Duration.ofMillis(20));
        RecordingContext ctx = new RecordingContext();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        CountDownLatch ended = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try {
                slow.runTurn(turn(1, null, "a long one"), ctx);
            } catch (Throwable e) {
                thrown.set(e);
            } finally {
                ended.countDown();
            }
        });
        t.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> ctx.events.size() > 3);
        t.interrupt();
        assertThat(ended.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
    }

    @Test
    void stopsWhenTheCancellationFlagIsSet() {
        RecordingContext ctx = new RecordingContext();
        ctx.cancelled = true;
        assertThatThrownBy(() -> runner.runTurn(turn(1, null, "anything"), ctx)).isInstanceOf(CancellationException.class);
        assertThat(CompletableFuture.completedFuture(ctx.types().size()).join()).isLessThanOrEqualTo(1);
    }

    @Test
    void runsWithoutAMessage() throws Exception {
        RecordingContext ctx = new RecordingContext();
        assertThat(runner.runTurn(turn(1, null, null), ctx).kind()).isEqualTo(TurnResult.Kind.COMPLETED);
    }
}
