package dev.agenttasks.testkit;

import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.RecoveryPolicy;
import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskDeletedException;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskPage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import dev.agenttasks.testkit.ScriptedAgentRunner.TurnOutcome;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An end-to-end suite that drives the real engine ({@link TaskManager#builder()}) over a store, so a
 * store can prove itself with the engine and not only with the SPI ({@link TaskStoreContract}).
 *
 * <p>Implement {@link #newStore()} (a fresh, empty store per test) and {@link #reopenStore()} (a new
 * store instance on the same data, used after the manager was closed, to test recovery). The manager
 * closes its store when it closes. Agents are played by a {@link ScriptedAgentRunner} with two agents,
 * {@code coder} ("Coder", model {@code model-1}) and {@code helper} ("Helper", no model).
 *
 * <p>Every test finishes in a few seconds at most; waits use the runner's and subscriber's awaits and
 * Awaitility, never sleeps. *
 * <p>The tests live in a chain of classes: {@link TaskEngineContractSupport} (the fixture and helpers),
 * {@link TaskEngineTurnsContract} (runs, events, messages) and this class (cancellation, deletion, queries,
 * recovery and the concurrency limit). Extending this class runs them all.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class TaskEngineContract extends TaskEngineTurnsContract {

    /** Subclasses have a no-argument constructor. */
    protected TaskEngineContract() {
    }

    @Test
    void cancelInterruptsARunningTurn() {
        Gate gate = gate();
        runner.script("coder", ScriptedAgentRunner.steps().emit("text", Map.of("text", "working")).await(gate)
                .emit("text", Map.of("text", "never")).thenComplete());
        Task t = manager().create(TaskRequest.of("coder", "go"));
        gate.awaitReached(WAIT);
        RecordingSubscriber<TaskEvent> live = RecordingSubscriber.unbounded();
        manager.events(t.id()).subscribe(live);

        assertThat(manager.cancel(t.id())).isTrue();
        assertThat(manager.get(t.id()).orElseThrow().status()).isEqualTo(TaskStatus.CANCELLED);
        TurnOutcome outcome = runner.awaitTurnFinished(t.id(), 1, WAIT);
        assertThat(outcome.interrupted() || outcome.cancelledFlag()).isTrue();

        List<TaskEvent> events = live.awaitCompletion(WAIT);
        live.assertNoViolations();
        EventLogs.assertCompleteLog(events, TaskStatus.CANCELLED);
        assertThat(ofTypes(events, "text")).extracting(e -> e.data().get("text")).containsExactly("working");
        assertThat(manager.cancel(t.id())).isFalse();
        assertThat(events(t.id())).isEqualTo(events);
    }

    @Test
    void cancelOfAPendingOrWaitingTaskIsImmediate() {
        Gate gate = gate();
        runner.script("coder", ScriptedAgentRunner.steps().await(gate).thenComplete());
        runner.script("helper", ScriptedAgentRunner.steps().thenAskForInput(Map.of("question", "?")));
        start(b -> b.maxConcurrentTasks(1));
        Task blocker = manager.create(TaskRequest.of("coder", "blocker"));
        gate.awaitReached(WAIT);
        Task pending = manager.create(TaskRequest.of("coder", "queued"));
        assertThat(manager.get(pending.id()).orElseThrow().status()).isEqualTo(TaskStatus.PENDING);

        assertThat(manager.cancel(pending.id())).isTrue();
        assertThat(manager.get(pending.id()).orElseThrow().status()).isEqualTo(TaskStatus.CANCELLED);
        EventLogs.assertCompleteLog(events(pending.id()), TaskStatus.CANCELLED);

        gate.release();
        awaitStatus(blocker.id(), TaskStatus.COMPLETED);
        Task waiting = manager.create(TaskRequest.of("helper", "ask me"));
        awaitStatus(waiting.id(), TaskStatus.WAITING_FOR_INPUT);
        assertThat(manager.cancel(waiting.id())).isTrue();
        assertThat(manager.get(waiting.id()).orElseThrow().status()).isEqualTo(TaskStatus.CANCELLED);
        assertThat(EventLogs.statuses(events(waiting.id()))).containsExactly(TaskStatus.PENDING, TaskStatus.RUNNING,
                TaskStatus.WAITING_FOR_INPUT, TaskStatus.CANCELLED);
        assertThat(runner.turns(pending.id())).isEmpty();
        assertThatThrownBy(() -> manager.cancel("task_does_not_exist")).isInstanceOf(NoSuchTaskException.class);
    }

    @Test
    void deleteRemovesTheTaskAndEndsOpenSubscriptions() {
        Gate gate = gate();
        runner.script("coder", ScriptedAgentRunner.steps().emit("text", Map.of("text", "x")).await(gate).thenComplete());
        Task t = manager().create(TaskRequest.of("coder", "go"));
        gate.awaitReached(WAIT);
        manager.sendMessage(t.id(), TaskMessage.text("queued follow-up"));
        // one subscriber has asked for a single event: it cannot have reached the end when the task goes
        RecordingSubscriber<TaskEvent> slow = RecordingSubscriber.requesting(1);
        manager.events(t.id()).subscribe(slow);
        slow.awaitItems(1, WAIT);
        RecordingSubscriber<TaskEvent> live = RecordingSubscriber.unbounded();
        manager.events(t.id()).subscribe(live);
        live.awaitItem(e -> e.type().equals("text"), WAIT);

        assertThat(manager.delete(t.id())).isTrue();
        assertThat(slow.awaitError(WAIT)).isInstanceOf(TaskDeletedException.class);
        slow.assertNoViolations();
        // a subscriber that kept up may have seen the cancellation end the log before the removal
        live.awaitTerminal(WAIT);
        live.assertNoViolations();
        if (live.isCompleted()) {
            assertThat(live.lastItem().orElseThrow().status()).isEqualTo(TaskStatus.CANCELLED);
        } else {
            assertThat(live.error().orElseThrow()).isInstanceOf(TaskDeletedException.class);
        }
        assertThat(manager.get(t.id())).isEmpty();
        assertThat(manager.delete(t.id())).isFalse();
        assertThat(manager.list(TaskQuery.all()).tasks()).extracting(Task::id).doesNotContain(t.id());

        RecordingSubscriber<TaskEvent> after = RecordingSubscriber.unbounded();
        manager.events(t.id()).subscribe(after);
        assertThat(after.awaitError(WAIT)).isInstanceOf(NoSuchTaskException.class);
        assertThatThrownBy(() -> manager.sendMessage(t.id(), TaskMessage.text("hi")))
                .isInstanceOf(NoSuchTaskException.class);
        // the queued follow-up never runs
        runner.awaitTurnFinished(t.id(), 1, WAIT);
        assertThat(runner.turns(t.id())).hasSize(1);
        assertThat(manager.delete("task_does_not_exist")).isFalse();
    }

    @Test
    void eventsOfAnUnknownTaskSignalNoSuchTask() {
        RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
        manager().events("task_unknown").subscribe(sub);
        assertThat(sub.awaitError(WAIT)).isInstanceOf(NoSuchTaskException.class);
        sub.assertNoViolations();
        assertThat(manager.get("task_unknown")).isEmpty();
    }

    @Test
    void listFiltersAndPagesNewestFirst() {
        Gate gate = gate();
        runner.script("helper", ScriptedAgentRunner.steps().await(gate).thenComplete());
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            created.add(manager().create(TaskRequest.of("coder", "Coder task " + i)).id());
        }
        for (int i = 0; i < 3; i++) {
            created.add(manager.create(TaskRequest.of("helper", "Helper job " + i)).id());
        }
        for (String id : created.subList(0, 7)) {
            awaitStatus(id, TaskStatus.COMPLETED);
        }

        List<Task> seen = new ArrayList<>();
        TaskQuery q = TaskQuery.all().withLimit(3);
        for (int guard = 0; guard < 10; guard++) {
            TaskPage page = manager.list(q);
            assertThat(page.tasks().size()).isLessThanOrEqualTo(3);
            seen.addAll(page.tasks());
            if (page.nextCursor() == null) {
                break;
            }
            q = q.withCursor(page.nextCursor());
        }
        assertThat(seen).extracting(Task::id).containsExactlyInAnyOrderElementsOf(created);
        assertThat(new HashSet<>(seen.stream().map(Task::id).toList())).hasSize(created.size());
        for (int i = 1; i < seen.size(); i++) {
            assertThat(seen.get(i).createdAt()).isBeforeOrEqualTo(seen.get(i - 1).createdAt());
        }

        assertThat(manager.list(TaskQuery.all().withAgentId("helper")).tasks()).extracting(Task::id)
                .containsExactlyInAnyOrderElementsOf(created.subList(7, 10));
        assertThat(manager.list(TaskQuery.all().withTitleContains("CODER TASK 3")).tasks()).extracting(Task::id)
                .containsExactly(created.get(3));
        assertThat(manager.list(TaskQuery.all().withStatus(TaskStatus.COMPLETED)).tasks()).extracting(Task::id)
                .containsExactlyInAnyOrderElementsOf(created.subList(0, 7));
        assertThat(manager.list(TaskQuery.all().withStatus(TaskStatus.RUNNING, TaskStatus.PENDING)).tasks())
                .extracting(Task::id).containsExactlyInAnyOrderElementsOf(created.subList(7, 10));
    }

    @Test
    void countsAndRunningCount() {
        Gate gate = gate();
        runner.script("helper", ScriptedAgentRunner.steps().await(gate).thenComplete());
        runner.script("coder", 1, ScriptedAgentRunner.steps().thenAskForInput(Map.of("question", "?")));
        Task waiting = manager().create(TaskRequest.of("coder", "ask"));
        Task running = manager.create(TaskRequest.of("helper", "run"));
        awaitStatus(waiting.id(), TaskStatus.WAITING_FOR_INPUT);
        gate.awaitReached(WAIT);
        awaitStatus(running.id(), TaskStatus.RUNNING);
        runner.script("helper", ScriptedAgentRunner.steps().thenFail(new RuntimeException("no")));
        Task failed = manager.create(TaskRequest.of("helper", "fail"));
        awaitStatus(failed.id(), TaskStatus.FAILED);

        assertThat(manager.runningCount()).isEqualTo(2);
        Map<TaskStatus, Long> counts = manager.countByStatus();
        assertThat(counts.keySet()).containsExactlyInAnyOrder(TaskStatus.values());
        assertThat(counts.get(TaskStatus.RUNNING)).isEqualTo(1);
        assertThat(counts.get(TaskStatus.WAITING_FOR_INPUT)).isEqualTo(1);
        assertThat(counts.get(TaskStatus.FAILED)).isEqualTo(1);
        assertThat(counts.get(TaskStatus.COMPLETED)).isZero();
        assertThat(counts.get(TaskStatus.PENDING)).isZero();

        gate.release();
        awaitStatus(running.id(), TaskStatus.COMPLETED);
        assertThat(manager.runningCount()).isEqualTo(1);
        assertThat(manager.countByStatus().get(TaskStatus.COMPLETED)).isEqualTo(1);
    }

    @Test
    void recoveryAfterARestartFailsInterruptedTasksQueuesQueuedOnesAndKeepsWaitingOnes() throws Exception {
        Gate stuck = gate();
        runner.script("coder", ScriptedAgentRunner.steps().emit("text", Map.of("text", "started")).await(stuck)
                .thenComplete());
        runner.script("helper", 1, ScriptedAgentRunner.steps().sessionId("s-wait")
                .thenAskForInput(Map.of("question", "?")));
        runner.scriptWhen(turn -> turn.message() != null && "answer".equals(turn.message().text()),
                ScriptedAgentRunner.steps().emit("text", Map.of("text", "resumed")).thenComplete());
        start(b -> b.maxConcurrentTasks(1));
        Task waiting = manager.create(TaskRequest.of("helper", "wait for me"));
        awaitStatus(waiting.id(), TaskStatus.WAITING_FOR_INPUT);
        Task interrupted = manager.create(TaskRequest.of("coder", "long job"));
        stuck.awaitReached(WAIT);
        Task queued = manager.create(TaskRequest.of("coder", "queued job"));
        assertThat(manager.get(queued.id()).orElseThrow().status()).isEqualTo(TaskStatus.PENDING);

        // closing interrupts the turn that does not end within the shutdown timeout; it stays RUNNING
        manager.close();
        runner.awaitTurnFinished(interrupted.id(), 1, WAIT);

        store = reopenStore();
        start(b -> b);
        Task failed = manager.get(interrupted.id()).orElseThrow();
        assertThat(failed.status()).isEqualTo(TaskStatus.FAILED);
        assertThat(failed.error()).isEqualTo(RecoveryPolicy.INTERRUPTED);
        List<TaskEvent> failedLog = events(interrupted.id());
        EventLogs.assertCompleteLog(failedLog, TaskStatus.FAILED);
        assertThat(ofTypes(failedLog, "text")).extracting(e -> e.data().get("text")).containsExactly("started");

        // a task that was only queued when the host stopped cleanly is queued again, not failed
        assertThat(manager.get(queued.id()).orElseThrow().status()).isIn(TaskStatus.PENDING, TaskStatus.RUNNING);
        stuck.release();
        EventLogs.assertCompleteLog(events(queued.id()), TaskStatus.COMPLETED);
        assertThat(runner.turns(queued.id())).hasSize(1);

        assertThat(manager.get(waiting.id()).orElseThrow().status()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);
        assertThat(manager.runningCount()).isEqualTo(1);
        assertThat(manager.sendMessage(waiting.id(), TaskMessage.text("answer"))).isEqualTo(SendResult.STARTED_TURN);
        List<TaskEvent> waitLog = events(waiting.id());
        EventLogs.assertCompleteLog(waitLog, TaskStatus.COMPLETED);
        assertThat(runner.turns(waiting.id())).hasSize(2);
        Turn resumed = runner.turns(waiting.id()).get(1);
        assertThat(resumed.sessionId()).isEqualTo("s-wait");
        assertThat(resumed.message().text()).isEqualTo("answer");
        assertThat(resumed.resumed()).isFalse();
        assertThat(resumed.number()).as("turn numbers go on across a restart").isEqualTo(2);
    }

    @Test
    void theConcurrencyLimitQueuesTasksAndStartsThemInCreationOrder() {
        List<Gate> perTask = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Gate g = gate();
            perTask.add(g);
            String text = "job " + i;
            runner.scriptWhen(turn -> turn.message() != null && text.equals(turn.message().text()),
                    ScriptedAgentRunner.steps().await(g).thenComplete());
        }
        start(b -> b.maxConcurrentTasks(2));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(manager.create(TaskRequest.of("coder", "job " + i)).id());
        }
        runner.awaitTurnsStarted(2, WAIT);
        assertThat(manager.countByStatus().get(TaskStatus.PENDING)).isEqualTo(3);
        assertThat(manager.runningCount()).isEqualTo(2);
        for (String id : ids.subList(2, 5)) {
            assertThat(manager.get(id).orElseThrow().status()).isEqualTo(TaskStatus.PENDING);
        }
        for (int i = 0; i < 5; i++) {
            perTask.get(i).release();
            awaitStatus(ids.get(i), TaskStatus.COMPLETED);
        }
        List<String> startOrder = runner.turns().stream().map(Turn::taskId).toList();
        // the first two start together; every later one only when a slot frees, in creation order
        assertThat(startOrder.subList(0, 2)).containsExactlyInAnyOrderElementsOf(ids.subList(0, 2));
        assertThat(startOrder.subList(2, 5)).containsExactlyElementsOf(ids.subList(2, 5));
        Set<String> done = new HashSet<>();
        for (String id : ids) {
            EventLogs.assertCompleteLog(events(id), TaskStatus.COMPLETED);
            done.add(id);
        }
        assertThat(done).hasSize(5);
        assertThat(manager.list(TaskQuery.all().withStatuses(EnumSet.of(TaskStatus.COMPLETED))).tasks()).hasSize(5);
    }
}
