package dev.agenttasks.testkit.engine;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import dev.agenttasks.testkit.ScriptedAgentRunner.TurnOutcome;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Cancel (issue 2, point 4): interrupt, flag, runners that ignore both, and the grace time. */
class CancellationTest extends EngineTestBase {

    @Test
    void aRunnerThatIgnoresInterruptsEndsCancelledAndItsLaterEmitsAreDropped() {
        Gate stuck = gate();
        runner.script("coder", ScriptedAgentRunner.steps().emit("text", Map.of("text", "before"))
                .awaitIgnoringInterrupts(stuck)
                .emit("text", Map.of("text", "late 1")).emit("text", Map.of("text", "late 2"))
                .thenComplete(Map.of("ignored", true)));
        start(b -> b.cancelGrace(Duration.ofMillis(300)).maxConcurrentTasks(1));
        Task t = manager.create(TaskRequest.of("coder", "stubborn"));
        stuck.awaitReached(WAIT);
        RecordingSubscriber<TaskEvent> live = RecordingSubscriber.unbounded();
        manager.events(t.id()).subscribe(live);
        live.awaitItem(e -> "before".equals(e.data().get("text")), WAIT);

        assertThat(manager.cancel(t.id())).isTrue();
        // recorded at once, subscribers completed, while the turn still spins
        assertThat(manager.get(t.id()).orElseThrow().status()).isEqualTo(TaskStatus.CANCELLED);
        List<TaskEvent> seen = live.awaitCompletion(WAIT);
        live.assertNoViolations();
        EventLogs.assertCompleteLog(seen, TaskStatus.CANCELLED);
        assertThat(stuck.isReleased()).isFalse();

        // within the grace the slot is handed on: a new task runs although the stubborn turn has not ended
        runner.script("helper", ScriptedAgentRunner.steps().thenComplete());
        Task next = manager.create(TaskRequest.of("helper", "next in line"));
        awaitStatus(next.id(), TaskStatus.COMPLETED);
        assertThat(runner.outcomes()).extracting(o -> o.turn().taskId()).doesNotContain(t.id());

        List<TaskEvent> logBefore = storedEvents(t.id());
        long droppedBefore = manager.stats().eventsDropped();
        stuck.release();
        TurnOutcome outcome = runner.awaitTurnFinished(t.id(), 1, WAIT);
        assertThat(outcome.interrupted()).as("the turn was interrupted").isTrue();
        assertThat(outcome.cancelledFlag()).as("the turn saw the cancellation flag").isTrue();
        assertThat(storedEvents(t.id())).isEqualTo(logBefore);
        assertThat(events(t.id())).isEqualTo(seen);
        Task after = manager.get(t.id()).orElseThrow();
        assertThat(after.status()).isEqualTo(TaskStatus.CANCELLED);
        assertThat(outcome.failure()).as("late emits are dropped, not thrown at the runner").isNull();
        // once the turn has ended, its late emits have been dropped and counted
        assertThat(manager.stats().eventsDropped()).as("events dropped").isGreaterThanOrEqualTo(droppedBefore + 2);
    }

    @Test
    void aRunnerThatSwallowsInterruptsHasItsLateEmitsDroppedAndCounted() {
        Gate stuck = gate();
        runner.script("coder", ScriptedAgentRunner.steps().awaitIgnoringInterrupts(stuck)
                .then((turn, ctx) -> Thread.interrupted()) // clears the flag, as a runner that swallows it would
                .emit("text", Map.of("text", "late 1")).emit("text", Map.of("text", "late 2"))
                .thenComplete());
        start(b -> b.cancelGrace(Duration.ofMillis(200)));
        Task t = manager.create(TaskRequest.of("coder", "swallower"));
        stuck.awaitReached(WAIT);
        assertThat(manager.cancel(t.id())).isTrue();
        List<TaskEvent> seen = events(t.id());
        EventLogs.assertCompleteLog(seen, TaskStatus.CANCELLED);
        long droppedBefore = manager.stats().eventsDropped();
        stuck.release();
        TurnOutcome outcome = runner.awaitTurnFinished(t.id(), 1, WAIT);
        assertThat(storedEvents(t.id())).isEqualTo(seen);
        assertThat(manager.get(t.id()).orElseThrow().status()).isEqualTo(TaskStatus.CANCELLED);
        assertThat(outcome.failure()).as("late emits are dropped, not thrown at the runner").isNull();
        assertThat(manager.stats().eventsDropped()).as("events dropped").isGreaterThanOrEqualTo(droppedBefore + 2);
    }

    @Test
    void aRunnerThatOnlyPollsTheFlagSeesItAndWhatItReturnsIsIgnored() {
        Gate never = gate();
        runner.script("coder", ScriptedAgentRunner.steps().awaitOrCancelled(never)
                .emit("text", Map.of("text", "after cancel")).thenComplete(Map.of("done", true)));
        start();
        Task t = manager.create(TaskRequest.of("coder", "poller"));
        never.awaitReached(WAIT);
        assertThat(manager.cancel(t.id())).isTrue();
        TurnOutcome outcome = runner.awaitTurnFinished(t.id(), 1, WAIT);
        assertThat(outcome.cancelledFlag()).isTrue();
        List<TaskEvent> log = events(t.id());
        EventLogs.assertCompleteLog(log, TaskStatus.CANCELLED);
        assertThat(ofTypes(log, "text")).isEmpty();
        assertThat(manager.get(t.id()).orElseThrow().status()).isEqualTo(TaskStatus.CANCELLED);
    }

    @Test
    void cancellingTwiceOrAfterTheEndReturnsFalse() {
        start();
        Task t = manager.create(TaskRequest.of("coder", "quick"));
        events(t.id());
        assertThat(manager.cancel(t.id())).isFalse();
        assertThat(manager.get(t.id()).orElseThrow().status()).isEqualTo(TaskStatus.COMPLETED);
    }

    @Test
    void cancelRacingWithTheTurnsEndYieldsOneTerminalStatus() {
        start(b -> b.maxConcurrentTasks(8));
        for (int i = 0; i < 100; i++) {
            Task t = manager.create(TaskRequest.of("coder", "race " + i));
            boolean cancelled = manager.cancel(t.id());
            Task end = awaitTerminal(t.id());
            List<TaskEvent> log = events(t.id());
            EventLogs.assertCompleteLog(log, end.status());
            if (cancelled) {
                assertThat(end.status()).isEqualTo(TaskStatus.CANCELLED);
            } else {
                assertThat(end.status()).isEqualTo(TaskStatus.COMPLETED);
            }
        }
    }
}
