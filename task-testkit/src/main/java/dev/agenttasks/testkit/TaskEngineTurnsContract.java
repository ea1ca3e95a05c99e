package dev.agenttasks.testkit;

import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskNotAcceptingMessagesException;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The part of the {@link TaskEngineContract} about a task's turns: the whole story of a run, live and replayed
 * events, follow-up messages and a failing turn. Store tests extend {@link TaskEngineContract}, which runs these
 * tests with the others.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class TaskEngineTurnsContract extends TaskEngineContractSupport {

    /** Subclasses have a no-argument constructor. */
    protected TaskEngineTurnsContract() {
    }

    @Test
    void createRunAndCompleteRecordsTheWholeStory() {
        runner.script("coder", ScriptedAgentRunner.steps().sessionId("s-1")
                .emit("text", Map.of("text", "hello"))
                .emit("tool", Map.of("name", "ls", "args", List.of("-l")))
                .emit("text", Map.of("text", "bye"))
                .thenComplete(Map.of("answer", 42)));
        Task created = manager().create(TaskRequest.builder("coder").text("Write a haiku")
                .metadata("user", "ann").workDir("/tmp/w").option("enable_skills", true).build());
        assertThat(created.status()).isEqualTo(TaskStatus.PENDING);
        assertThat(created.agentId()).isEqualTo("coder");
        assertThat(created.model()).isEqualTo("model-1");
        assertThat(created.title()).isEqualTo("Write a haiku");
        assertThat(created.metadata()).containsEntry("user", "ann");
        assertThat(created.workDir()).isEqualTo("/tmp/w");

        List<TaskEvent> events = events(created.id());
        EventLogs.assertCompleteLog(events, TaskStatus.COMPLETED);
        assertThat(EventLogs.statuses(events)).containsExactly(TaskStatus.PENDING, TaskStatus.RUNNING,
                TaskStatus.COMPLETED);
        assertThat(ofTypes(events, "text", "tool")).extracting(TaskEvent::type).containsExactly("text", "tool", "text");
        assertThat(ofTypes(events, "text").get(0).data()).containsEntry("text", "hello");

        Task done = awaitStatus(created.id(), TaskStatus.COMPLETED);
        assertThat(done.sessionId()).isEqualTo("s-1");
        assertThat(done.startedAt()).isNotNull();
        assertThat(done.completedAt()).isNotNull();
        assertThat(done.completedAt()).isAfterOrEqualTo(done.startedAt());
        assertThat(done.error()).isNull();

        Turn turn = runner.turns(created.id()).get(0);
        assertThat(turn.number()).isEqualTo(1);
        assertThat(turn.message().text()).isEqualTo("Write a haiku");
        assertThat(turn.sessionId()).isNull();
        assertThat(turn.options()).containsEntry("enable_skills", true);
        assertThat(turn.workDir()).isEqualTo("/tmp/w");
        assertThat(turn.resumed()).isFalse();
    }

    @Test
    void subscribersGetTheReplayThenLiveEventsFromAnyPoint() {
        Gate gate = gate();
        runner.script("coder", ScriptedAgentRunner.steps()
                .emitMany(5, "before", i -> Map.of("i", i)).await(gate)
                .emitMany(5, "after", i -> Map.of("i", i)).thenComplete());
        Task t = manager().create(TaskRequest.of("coder", "go"));
        gate.awaitReached(WAIT);

        RecordingSubscriber<TaskEvent> fromStart = RecordingSubscriber.unbounded();
        RecordingSubscriber<TaskEvent> fromThree = RecordingSubscriber.unbounded();
        manager.events(t.id()).subscribe(fromStart);
        manager.events(t.id(), 3).subscribe(fromThree);
        TaskEvent lastBefore = fromStart.awaitItem(e -> e.type().equals("before") && ((Number) e.data().get("i")).intValue() == 4, WAIT);
        fromThree.awaitItem(e -> e.seq() == lastBefore.seq(), WAIT);
        assertThat(fromStart.isTerminated()).isFalse();
        assertThat(fromStart.items()).noneMatch(e -> e.type().equals("after"));
        gate.release();

        List<TaskEvent> all = fromStart.awaitCompletion(WAIT);
        List<TaskEvent> tail = fromThree.awaitCompletion(WAIT);
        fromStart.assertNoViolations();
        fromThree.assertNoViolations();
        EventLogs.assertCompleteLog(all, TaskStatus.COMPLETED);
        assertThat(ofTypes(all, "before", "after")).extracting(TaskEvent::type)
                .containsExactly("before", "before", "before", "before", "before", "after", "after", "after", "after",
                        "after");
        EventLogs.assertGapless(tail, 3);
        assertThat(tail).isEqualTo(all.subList(3, all.size()));
    }

    @Test
    void eventsOfAFinishedTaskReplayFromAnyPointAndCompleteAfterTheTerminalEvent() {
        runner.script("coder", ScriptedAgentRunner.steps().emitMany(20, "n", i -> Map.of("i", i)).thenComplete());
        Task t = manager().create(TaskRequest.of("coder", "go"));
        List<TaskEvent> all = events(t.id());
        EventLogs.assertCompleteLog(all, TaskStatus.COMPLETED);
        long last = all.get(all.size() - 1).seq();
        for (long after : new long[] {1, 10, last - 1}) {
            List<TaskEvent> part = events(t.id(), after);
            assertThat(part).isEqualTo(all.subList((int) after, all.size()));
        }
        assertThat(events(t.id(), last)).isEmpty();
        assertThat(events(t.id(), last + 100)).isEmpty();
    }

    @Test
    void liveAndReplayedEventsAreIdenticalEvenAfterARestart() throws Exception {
        Map<String, Object> rich = new java.util.LinkedHashMap<>();
        rich.put("int", 7);
        rich.put("long", 10_000_000_000L);
        rich.put("double", 2.5);
        rich.put("bool", true);
        rich.put("null", null);
        rich.put("text", "日本語 🚀 \"q\"");
        rich.put("list", List.of(1, "two", List.of(3.0)));
        rich.put("map", Map.of("nested", Map.of("deeper", List.of(false))));
        runner.script("coder", ScriptedAgentRunner.steps().sessionId("s-1").emit("rich", rich)
                .emitMany(20, "n", i -> Map.of("i", i)).thenComplete(Map.of("answer", 42)));
        Task t = manager().create(TaskRequest.of("coder", "identical"));
        RecordingSubscriber<TaskEvent> live = RecordingSubscriber.unbounded();
        manager.events(t.id()).subscribe(live);
        List<TaskEvent> seenLive = live.awaitCompletion(WAIT);
        List<TaskEvent> replayed = events(t.id());
        assertThat(replayed).isEqualTo(seenLive);

        manager.close();
        store = reopenStore();
        start(b -> b);
        List<TaskEvent> afterRestart = events(t.id());
        assertThat(afterRestart).as("events replayed by a new manager from the store only").isEqualTo(seenLive);
        assertThat(afterRestart.get(afterRestart.size() - 1).timestamp()).isEqualTo(
                seenLive.get(seenLive.size() - 1).timestamp());
        Task restored = manager.get(t.id()).orElseThrow();
        assertThat(restored.status()).isEqualTo(TaskStatus.COMPLETED);
        assertThat(restored.sessionId()).isEqualTo("s-1");
    }

    @Test
    void aFollowUpMessageResumesTheSessionOfAWaitingTask() {
        runner.script("coder", 1, ScriptedAgentRunner.steps().sessionId("s-42")
                .emit("text", Map.of("text", "which file?")).thenAskForInput(Map.of("question", "Which file?")));
        runner.script("coder", 2, ScriptedAgentRunner.steps().emit("text", Map.of("text", "ok")).thenComplete());
        Task t = manager().create(TaskRequest.of("coder", "Fix the bug"));
        Task waiting = awaitStatus(t.id(), TaskStatus.WAITING_FOR_INPUT);
        assertThat(waiting.sessionId()).isEqualTo("s-42");
        assertThat(manager.runningCount()).isEqualTo(1);

        assertThat(manager.sendMessage(t.id(), TaskMessage.text("main.py"))).isEqualTo(SendResult.STARTED_TURN);
        Turn second = runner.awaitTurnStarted(t.id(), 2, WAIT);
        assertThat(second.message().text()).isEqualTo("main.py");
        assertThat(second.sessionId()).isEqualTo("s-42");

        List<TaskEvent> events = events(t.id());
        EventLogs.assertCompleteLog(events, TaskStatus.COMPLETED);
        // the message and PENDING are recorded together, so a message is never stranded by a restart
        assertThat(EventLogs.statuses(events)).containsExactly(TaskStatus.PENDING, TaskStatus.RUNNING,
                TaskStatus.WAITING_FOR_INPUT, TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.COMPLETED);
        assertThat(manager.runningCount()).isZero();
    }

    @Test
    void aMessageSentWhileRunningBecomesTheNextTurn() {
        Gate gate = gate();
        runner.script("coder", 1, ScriptedAgentRunner.steps().sessionId("s-1").await(gate).thenComplete());
        runner.script("coder", 2, ScriptedAgentRunner.steps().thenComplete());
        Task t = manager().create(TaskRequest.of("coder", "first"));
        gate.awaitReached(WAIT);
        assertThat(manager.sendMessage(t.id(), TaskMessage.text("second"))).isEqualTo(SendResult.QUEUED);
        gate.release();

        Turn second = runner.awaitTurnStarted(t.id(), 2, WAIT);
        assertThat(second.message().text()).isEqualTo("second");
        assertThat(second.sessionId()).isEqualTo("s-1");
        EventLogs.assertCompleteLog(events(t.id()), TaskStatus.COMPLETED);
        assertThat(runner.turns(t.id())).hasSize(2);
    }

    @Test
    void severalQueuedMessagesRunAsTurnsInTheOrderSent() {
        Gate gate = gate();
        runner.script("coder", 1, ScriptedAgentRunner.steps().sessionId("s-1").await(gate).thenComplete());
        runner.script("coder", ScriptedAgentRunner.steps().thenComplete());
        Task t = manager().create(TaskRequest.of("coder", "first"));
        gate.awaitReached(WAIT);
        for (int i = 1; i <= 3; i++) {
            assertThat(manager.sendMessage(t.id(), TaskMessage.text("follow-up " + i))).isEqualTo(SendResult.QUEUED);
        }
        gate.release();
        EventLogs.assertCompleteLog(events(t.id()), TaskStatus.COMPLETED);
        assertThat(runner.turns(t.id())).extracting(turn -> turn.message().text())
                .containsExactly("first", "follow-up 1", "follow-up 2", "follow-up 3");
        assertThat(runner.turns(t.id())).extracting(Turn::number).containsExactly(1, 2, 3, 4);
        assertThat(runner.turns(t.id()).subList(1, 4)).allSatisfy(turn -> assertThat(turn.sessionId()).isEqualTo("s-1"));
    }

    @Test
    void messagesToFinishedOrUnknownTasksAreRefused() {
        Task t = manager().create(TaskRequest.of("coder", "quick"));
        events(t.id());
        assertThatThrownBy(() -> manager.sendMessage(t.id(), TaskMessage.text("late")))
                .isInstanceOf(TaskNotAcceptingMessagesException.class);
        assertThatThrownBy(() -> manager.sendMessage("task_does_not_exist", TaskMessage.text("hi")))
                .isInstanceOf(NoSuchTaskException.class);
        assertThat(runner.turns(t.id())).hasSize(1);
    }

    @Test
    void aFailingTurnFailsTheTaskWithItsMessage() {
        runner.script("coder", ScriptedAgentRunner.steps().emit("text", Map.of("text", "trying"))
                .thenFail(new IllegalStateException("disk on fire")));
        Task t = manager().create(TaskRequest.of("coder", "go"));
        List<TaskEvent> events = events(t.id());
        EventLogs.assertCompleteLog(events, TaskStatus.FAILED);
        Task failed = awaitStatus(t.id(), TaskStatus.FAILED);
        assertThat(failed.error()).contains("disk on fire");
        assertThat(failed.completedAt()).isNotNull();
    }
}
