package dev.agenttasks.testkit;

import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.RecoveryPolicy;
import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskDeletedException;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskNotAcceptingMessagesException;
import dev.agenttasks.TaskPage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import dev.agenttasks.testkit.ScriptedAgentRunner.TurnOutcome;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

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
 * Awaitility, never sleeps.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class TaskEngineContract {

    /** The longest any single wait of the suite takes before the test fails. */
    protected static final Duration WAIT = Duration.ofSeconds(10);

    /** The scripted runner, fresh for each test. */
    protected ScriptedAgentRunner runner;
    /** The store of the current manager. */
    protected TaskStore store;
    /** The current manager, built on first use by {@link #manager()} or by {@link #start(UnaryOperator)}. */
    protected TaskManager manager;

    private final List<Gate> gates = new ArrayList<>();
    private final List<TaskManager> managers = new ArrayList<>();

    /** Subclasses have a no-argument constructor. */
    protected TaskEngineContract() {
    }

    /**
     * @return a new, empty store; called once per test, before the first manager is built
     * @throws Exception if it cannot be opened
     */
    protected abstract TaskStore newStore() throws Exception;

    /**
     * @return a new store instance on the data of the last store returned (after the manager using it was
     *         closed, which closed it)
     * @throws Exception if it cannot be opened
     */
    protected abstract TaskStore reopenStore() throws Exception;

    /**
     * A hook to adjust every manager the suite builds (for example a store-specific commit delay).
     * Called after the suite's own settings.
     *
     * @param builder the builder
     * @return the builder
     */
    protected TaskManager.Builder configure(TaskManager.Builder builder) {
        return builder;
    }

    /** Creates the runner and the store. @throws Exception if the store cannot be opened */
    @BeforeEach
    void setUpEngineContract() throws Exception {
        runner = new ScriptedAgentRunner().agent("coder", "Coder", "model-1").agent("helper", "Helper", null);
        store = newStore();
    }

    /** Releases every gate and closes every manager the test built. */
    @AfterEach
    void tearDownEngineContract() {
        synchronized (gates) {
            gates.forEach(Gate::release);
        }
        for (TaskManager m : managers) {
            m.close();
        }
    }

    /** @return a new gate, released automatically after the test */
    protected Gate gate() {
        Gate g = new Gate();
        synchronized (gates) {
            gates.add(g);
        }
        return g;
    }

    /** @return the current manager, building one with the default settings if there is none */
    protected TaskManager manager() {
        if (manager == null) {
            start(b -> b);
        }
        return manager;
    }

    /**
     * Builds a manager on {@link #store} with the suite's settings (500 ms cancel grace and shutdown
     * timeout), then the test's, then {@link #configure(TaskManager.Builder)}.
     *
     * @param settings the test's settings
     * @return the manager, also in {@link #manager}
     */
    protected TaskManager start(UnaryOperator<TaskManager.Builder> settings) {
        TaskManager.Builder b = TaskManager.builder().store(store).runner(runner)
                .cancelGrace(Duration.ofMillis(500)).shutdownTimeout(Duration.ofMillis(500));
        manager = configure(settings.apply(b)).build();
        managers.add(manager);
        return manager;
    }

    /**
     * Waits until a task has a status.
     *
     * @param taskId the task
     * @param status the status
     * @return the task in that status
     */
    protected Task awaitStatus(String taskId, TaskStatus status) {
        Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(5))
                .until(() -> manager.get(taskId).map(Task::status).orElse(null) == status);
        return manager.get(taskId).orElseThrow();
    }

    /**
     * Subscribes with unbounded demand and waits for completion.
     *
     * @param taskId   the task
     * @param afterSeq the seq to start after
     * @return the events
     */
    protected List<TaskEvent> events(String taskId, long afterSeq) {
        RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
        manager.events(taskId, afterSeq).subscribe(sub);
        List<TaskEvent> events = sub.awaitCompletion(WAIT);
        sub.assertNoViolations();
        return events;
    }

    /**
     * @param taskId the task
     * @return its whole log, once it has finished
     */
    protected List<TaskEvent> events(String taskId) {
        return events(taskId, 0);
    }

    /**
     * The events of the given types, in order: the runner's own events, without the status events and
     * whatever other events the engine records (for example the user messages of each turn).
     *
     * @param events events
     * @param types  the types to keep
     * @return the matching events
     */
    protected static List<TaskEvent> ofTypes(List<TaskEvent> events, String... types) {
        Set<String> wanted = Set.of(types);
        return events.stream().filter(e -> wanted.contains(e.type())).toList();
    }

    // ------------------------------------------------------------------------------------------------

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
