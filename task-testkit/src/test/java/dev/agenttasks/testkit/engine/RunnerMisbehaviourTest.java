package dev.agenttasks.testkit.engine;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TurnResult;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

/** Whatever a runner does, no task stays running forever and the log stays well formed. */
class RunnerMisbehaviourTest extends EngineTestBase {

    private Task runToEnd(ScriptedAgentRunner.TurnScript script) {
        runner.script("coder", script);
        if (manager == null) {
            start();
        }
        Task t = manager.create(TaskRequest.of("coder", "misbehave"));
        Task end = awaitTerminal(t.id());
        EventLogs.assertCompleteLog(events(t.id()), end.status());
        return end;
    }

    @Test
    void aTurnThatThrowsAnErrorFailsTheTask() {
        Task end = runToEnd((turn, ctx) -> {
            throw new AssertionError("an Error, not an Exception");
        });
        assertThat(end.status()).isEqualTo(TaskStatus.FAILED);
        assertThat(end.error()).contains("an Error, not an Exception");
    }

    @Test
    void aTurnThatReturnsNullEndsTheTask() {
        Task end = runToEnd((turn, ctx) -> null);
        assertThat(end.status().isTerminal()).isTrue();
    }

    @Test
    void aResultThatIsNotJsonCompatibleEndsTheTask() {
        Map<String, Object> bad = new HashMap<>();
        bad.put("thread", Thread.currentThread());
        Task end = runToEnd((turn, ctx) -> TurnResult.completed(bad));
        assertThat(end.status().isTerminal()).isTrue();
    }

    @Test
    void aQuestionThatIsNotJsonCompatibleDoesNotLeaveTheTaskRunning() {
        Map<String, Object> bad = new HashMap<>();
        bad.put("object", new Object());
        runner.script("coder", (turn, ctx) -> TurnResult.awaitingInput(bad));
        start();
        Task t = manager.create(TaskRequest.of("coder", "bad question"));
        org.awaitility.Awaitility.await().atMost(WAIT).until(() -> {
            TaskStatus s = manager.get(t.id()).orElseThrow().status();
            return s.isTerminal() || s == TaskStatus.WAITING_FOR_INPUT;
        });
        if (manager.get(t.id()).orElseThrow().status() == TaskStatus.WAITING_FOR_INPUT) {
            manager.cancel(t.id());
        }
        Task end = awaitTerminal(t.id());
        EventLogs.assertCompleteLog(events(t.id()), end.status());
    }

    @Test
    void aRunnerEmittingFromSeveralThreadsGetsEveryEventLoggedOnceInPerThreadOrder() {
        int threads = 4;
        int each = 1_000;
        Task end = runToEnd((turn, ctx) -> {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> workers = new ArrayList<>();
            for (int w = 0; w < threads; w++) {
                int worker = w;
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    for (int i = 0; i < each; i++) {
                        ctx.emit("n", Map.of("worker", worker, "i", i));
                    }
                });
                workers.add(th);
                th.start();
            }
            go.countDown();
            for (Thread th : workers) {
                th.join();
            }
            return TurnResult.completed();
        });
        assertThat(end.status()).isEqualTo(TaskStatus.COMPLETED);
        List<TaskEvent> log = ofTypes(events(end.id()), "n");
        assertThat(log).hasSize(threads * each);
        for (int w = 0; w < threads; w++) {
            int worker = w;
            List<Integer> order = log.stream()
                    .filter(e -> ((Number) e.data().get("worker")).intValue() == worker)
                    .map(e -> ((Number) e.data().get("i")).intValue()).toList();
            assertThat(order).as("events of worker %d in emit order", w).isSortedAccordingTo(Comparator.naturalOrder())
                    .hasSize(each);
        }
    }

    @Test
    void aSessionIdReportedAgainReplacesTheOldOne() {
        runner.script("coder", 1, ScriptedAgentRunner.steps().sessionId("s-1").sessionId("s-2")
                .thenAskForInput(Map.of("question", "?")));
        runner.script("coder", 2, ScriptedAgentRunner.steps().sessionId("s-3").thenComplete());
        start();
        Task t = manager.create(TaskRequest.of("coder", "sessions"));
        assertThat(awaitStatus(t.id(), TaskStatus.WAITING_FOR_INPUT).sessionId()).isEqualTo("s-2");
        manager.sendMessage(t.id(), dev.agenttasks.TaskMessage.text("go on"));
        assertThat(runner.awaitTurnStarted(t.id(), 2, WAIT).sessionId()).isEqualTo("s-2");
        assertThat(awaitStatus(t.id(), TaskStatus.COMPLETED).sessionId()).isEqualTo("s-3");
    }
}
