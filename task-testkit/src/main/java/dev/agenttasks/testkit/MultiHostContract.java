package dev.agenttasks.testkit;

import dev.agenttasks.SendOptions;
import dev.agenttasks.IdempotencyKeyMismatchException;
import dev.agenttasks.RecoveryPolicy;
import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskDeletedException;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.MessageStrategy;
import dev.agenttasks.TaskBusyException;
import dev.agenttasks.spi.ForwardingTaskStore;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.TurnResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The multi-writer contract (docs/multi-host.md): several managers ("hosts") on one store. Implement
 * {@link #newHostStore(int)}: host 0's call opens fresh, empty data; every later call of the same test
 * opens another store object on that data (for example another SQLite store on the same file, or a
 * {@link StoreHandle} on a shared in-memory store). Each host has its own {@link ScriptedAgentRunner},
 * so a test knows which host ran which turn.
 *
 * <p>Hosts poll every 50 ms here so the tests are quick. The takeover of a host that stops heartbeating
 * runs on a manual clock and scheduler shared by the hosts (their timestamps and heartbeats are written
 * with it), so its bound (dead-host timeout plus one heartbeat interval) is checked exactly, not against
 * real time.
 */
public abstract class MultiHostContract {
    /** The longest any await waits. */
    protected static final Duration WAIT = Duration.ofSeconds(30);
    private static final String AGENT = "agent";

    private final List<TaskManager> managers = new ArrayList<>();
    private final List<ScriptedAgentRunner> runners = new ArrayList<>();
    private final List<TaskStore> stores = new ArrayList<>();

    /** Subclasses have a no-argument constructor. */
    protected MultiHostContract() {
    }

    /**
     * @param host the host number, from 0
     * @return a store object for that host; host 0's opens fresh data, later ones the same data
     * @throws Exception if it cannot be opened
     */
    protected abstract TaskStore newHostStore(int host) throws Exception;

    @BeforeEach
    void reset() {
        managers.clear();
        runners.clear();
        stores.clear();
    }

    @AfterEach
    void closeAll() {
        for (int i = managers.size() - 1; i >= 0; i--) {
            try {
                managers.get(i).close();
            } catch (RuntimeException e) {
                // closing the others matters more
            }
        }
    }

    /**
     * Starts the next host.
     *
     * @param configure changes to the builder (after the contract's defaults)
     * @return the host's manager
     * @throws Exception if its store cannot be opened
     */
    protected TaskManager startHost(UnaryOperator<TaskManager.Builder> configure) throws Exception {
        return startHost(configure, UnaryOperator.identity());
    }

    private TaskManager startHost(UnaryOperator<TaskManager.Builder> configure, UnaryOperator<TaskStore> wrap)
            throws Exception {
        int n = managers.size();
        ScriptedAgentRunner runner = new ScriptedAgentRunner().agent(AGENT, "Agent", "model-1");
        TaskStore store = wrap.apply(newHostStore(n));
        stores.add(store);
        TaskManager.Builder b = TaskManager.builder().store(store).runner(runner).hostId("host-" + n)
                .pollInterval(Duration.ofMillis(50)).eventPollInterval(Duration.ofMillis(20))
                .heartbeatInterval(Duration.ofMillis(200)).hostDeadAfter(Duration.ofSeconds(20));
        TaskManager m = configure.apply(b).build();
        managers.add(m);
        runners.add(runner);
        return m;
    }

    /**
     * @param i the host number
     * @return the runner of host {@code i}
     */
    protected ScriptedAgentRunner runner(int i) {
        return runners.get(i);
    }

    private static Task awaitStatus(TaskManager m, String id, TaskStatus status) {
        return await().atMost(WAIT).until(() -> m.get(id).orElseThrow(), t -> t.status() == status);
    }

    private static List<Long> seqs(List<TaskEvent> events) {
        List<Long> out = new ArrayList<>();
        events.forEach(e -> out.add(e.seq()));
        return out;
    }

    @Test
    @Timeout(120)
    void claimsNeverExceedAnyHostsLimitAndEveryTurnRunsOnce() throws Exception {
        int hosts = 3;
        int perHost = 2;
        int tasks = 18;
        Map<Integer, AtomicInteger> running = new ConcurrentHashMap<>();
        Map<Integer, AtomicInteger> peak = new ConcurrentHashMap<>();
        ScriptedAgentRunner.Gate gate = new ScriptedAgentRunner.Gate();
        AtomicInteger started = new AtomicInteger();
        List<TaskManager> ms = new ArrayList<>();
        for (int h = 0; h < hosts; h++) {
            ms.add(startHost(b -> b.maxConcurrentTasks(perHost)));
            int host = h;
            running.put(h, new AtomicInteger());
            peak.put(h, new AtomicInteger());
            runner(h).defaultScript((turn, ctx) -> {
                int now = running.get(host).incrementAndGet();
                peak.get(host).accumulateAndGet(now, Math::max);
                started.incrementAndGet();
                try {
                    gate.awaitRelease(WAIT);
                    ctx.emit("text", Map.of("host", (long) host));
                    return TurnResult.completed(Map.of());
                } finally {
                    running.get(host).decrementAndGet();
                }
            });
        }
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < tasks; i++) {
            ids.add(ms.get(i % hosts).create(TaskRequest.of(AGENT, "task " + i)).id());
        }
        await().atMost(WAIT).until(() -> started.get() >= hosts * perHost);
        gate.release();
        for (String id : ids) {
            awaitStatus(ms.get(0), id, TaskStatus.COMPLETED);
        }
        int turns = 0;
        for (int h = 0; h < hosts; h++) {
            assertThat(peak.get(h).get()).as("host %d's peak of running turns", h).isLessThanOrEqualTo(perHost);
            turns += runner(h).turns().size();
        }
        assertThat(turns).as("turns run across hosts").isEqualTo(tasks);
        List<String> ran = new ArrayList<>();
        for (int h = 0; h < hosts; h++) {
            runner(h).turns().forEach(t -> ran.add(t.taskId()));
        }
        assertThat(ran).containsExactlyInAnyOrderElementsOf(ids);
    }

    @Test
    @Timeout(60)
    void aSecondHostDoesNotFailTheFirstsRunningTaskAndBothServe() throws Exception {
        TaskManager a = startHost(b -> b);
        ScriptedAgentRunner.Gate gate = new ScriptedAgentRunner.Gate();
        runner(0).defaultScript(ScriptedAgentRunner.steps().await(gate).thenComplete());
        String id = a.create(TaskRequest.of(AGENT, "long")).id();
        gate.awaitReached(WAIT);
        TaskManager b = startHost(x -> x);
        runner(1).defaultScript(ScriptedAgentRunner.steps().thenComplete());
        awaitStatus(b, id, TaskStatus.RUNNING); // the turn may start before its RUNNING status is committed
        String other = b.create(TaskRequest.of(AGENT, "quick")).id();
        awaitStatus(a, other, TaskStatus.COMPLETED);
        gate.release();
        awaitStatus(b, id, TaskStatus.COMPLETED);
        assertThat(runner(0).turns(id)).hasSize(1);
        assertThat(runner(1).turns(id)).isEmpty();
    }

    @Test
    @Timeout(60)
    void cancelOnAnotherHostStopsTheOwnersTurn() throws Exception {
        TaskManager a = startHost(b -> b);
        TaskManager b = startHost(x -> x);
        ScriptedAgentRunner.Gate gate = new ScriptedAgentRunner.Gate();
        runner(0).defaultScript(ScriptedAgentRunner.steps().await(gate).thenComplete());
        String id = a.create(TaskRequest.of(AGENT, "to cancel")).id();
        gate.awaitReached(WAIT);
        assertThat(b.cancel(id)).isTrue();
        awaitStatus(a, id, TaskStatus.CANCELLED);
        ScriptedAgentRunner.TurnOutcome outcome = runner(0).awaitTurnFinished(id, 1, WAIT);
        assertThat(outcome.interrupted()).isTrue();
        assertThat(b.cancel(id)).isFalse();
    }

    @Test
    @Timeout(60)
    void aMessageOnAnotherHostAnswersAWaitingTaskAndFollowsARunningOne() throws Exception {
        TaskManager a = startHost(b -> b);
        TaskManager b = startHost(x -> x);
        for (int h = 0; h < 2; h++) {
            runner(h).script(AGENT, 1, ScriptedAgentRunner.steps().thenAskForInput(Map.of("q", "name?")));
            runner(h).script(AGENT, 2, ScriptedAgentRunner.steps().emit("text", Map.of("turn", 2L)).thenComplete());
        }
        String id = a.create(TaskRequest.of(AGENT, "ask me")).id();
        awaitStatus(a, id, TaskStatus.WAITING_FOR_INPUT);
        assertThat(b.sendMessage(id, TaskMessage.text("Ada"))).isEqualTo(SendResult.STARTED_TURN);
        awaitStatus(a, id, TaskStatus.COMPLETED);
        assertThat(runner(0).turns(id).size() + runner(1).turns(id).size()).isEqualTo(2);

        // a message to a task running on host 0 is stored and runs there as the next turn
        ScriptedAgentRunner.Gate gate = new ScriptedAgentRunner.Gate();
        runner(0).script(AGENT, 1, ScriptedAgentRunner.steps().await(gate).thenAskForInput(Map.of("q", "next?")));
        String running = a.create(TaskRequest.of(AGENT, "busy")).id();
        gate.awaitReached(WAIT);
        assertThat(b.sendMessage(running, TaskMessage.text("and then"))).isEqualTo(SendResult.QUEUED);
        gate.release();
        await().atMost(WAIT).until(() -> runner(0).turns(running).size() + runner(1).turns(running).size() == 2);
        List<String> second = new ArrayList<>();
        runner(0).turns(running).stream().skip(1).forEach(t -> second.add(t.message().text()));
        runner(1).turns(running).forEach(t -> second.add(t.message().text()));
        assertThat(second).containsExactly("and then");
        awaitStatus(b, running, TaskStatus.COMPLETED);
    }

    @Test
    @Timeout(60)
    void deleteOnAnotherHostRemovesARunningTask() throws Exception {
        TaskManager a = startHost(b -> b);
        TaskManager b = startHost(x -> x);
        ScriptedAgentRunner.Gate gate = new ScriptedAgentRunner.Gate();
        runner(0).defaultScript(ScriptedAgentRunner.steps().await(gate).thenComplete());
        String id = a.create(TaskRequest.of(AGENT, "to delete")).id();
        gate.awaitReached(WAIT);
        RecordingSubscriber<TaskEvent> onA = RecordingSubscriber.unbounded();
        a.events(id).subscribe(onA);
        assertThat(b.delete(id)).isTrue();
        assertThat(b.get(id)).isEmpty();
        await().atMost(WAIT).until(() -> a.get(id).isEmpty());
        assertThat(runner(0).awaitTurnFinished(id, 1, WAIT).interrupted()).isTrue();
        await().atMost(WAIT).until(onA::isTerminated);
        assertThat(onA.error()).containsInstanceOf(TaskDeletedException.class);
    }

    @Test
    @Timeout(60)
    void subscribersOnEveryHostSeeTheSameGaplessLog() throws Exception {
        TaskManager a = startHost(b -> b);
        TaskManager b = startHost(x -> x);
        TaskManager c = startHost(x -> x);
        ScriptedAgentRunner.Gate gate = new ScriptedAgentRunner.Gate();
        runner(0).defaultScript(ScriptedAgentRunner.steps().emitMany(50, "text", i -> Map.of("i", (long) i))
                .await(gate).emitMany(150, "text", i -> Map.of("j", (long) i)).thenComplete(Map.of("ok", true)));
        String id = a.create(TaskRequest.of(AGENT, "chatty")).id();
        gate.awaitReached(WAIT);
        List<RecordingSubscriber<TaskEvent>> subs = new ArrayList<>();
        for (TaskManager m : List.of(a, b, c)) {
            RecordingSubscriber<TaskEvent> s = RecordingSubscriber.unbounded();
            m.events(id).subscribe(s);
            subs.add(s);
        }
        RecordingSubscriber<TaskEvent> late = RecordingSubscriber.<TaskEvent>requesting(7).requestOnEachItem(3);
        c.events(id, 20).subscribe(late);
        gate.release();
        List<TaskEvent> reference = subs.get(0).awaitCompletion(WAIT);
        assertThat(seqs(reference)).isEqualTo(java.util.stream.LongStream.rangeClosed(1, reference.size()).boxed().toList());
        assertThat(reference.get(reference.size() - 1).isTerminal()).isTrue();
        for (RecordingSubscriber<TaskEvent> s : subs) {
            assertThat(s.awaitCompletion(WAIT)).isEqualTo(reference);
            s.assertNoViolations();
        }
        assertThat(late.awaitCompletion(WAIT)).isEqualTo(reference.subList(20, reference.size()));
    }

    @Test
    @Timeout(90)
    void aHostThatStopsHeartbeatingIsTakenOverAndFencedOut() throws Exception {
        // both hosts on one manual clock (clocks that agree), with the documented defaults; host 0 heartbeats
        // once, at start, and never again (paused, partitioned): host 1 must take it for dead exactly when its
        // last heartbeat is more than hostDeadAfter old, at its next beat
        Duration beat = Duration.ofSeconds(5);
        Duration deadAfter = Duration.ofSeconds(30);
        ManualTime time = new ManualTime(Instant.parse("2026-03-01T12:00:00Z"));
        Instant start = time.now();
        UnaryOperator<TaskManager.Builder> onManualTime = b -> b.clock(time.clock()).scheduler(time.scheduler())
                .pollInterval(Duration.ofSeconds(1)).eventPollInterval(Duration.ofMillis(150));
        TaskManager a = startHost(b -> onManualTime.apply(b).heartbeatInterval(Duration.ofHours(1))
                .hostDeadAfter(Duration.ofHours(2)));
        ScriptedAgentRunner.Gate gate = new ScriptedAgentRunner.Gate();
        runner(0).defaultScript(ScriptedAgentRunner.steps().emit("text", Map.of("before", true))
                .awaitIgnoringInterrupts(gate, WAIT).emit("text", Map.of("after", true)).thenComplete());
        String id = a.create(TaskRequest.of(AGENT, "orphan")).id();
        gate.awaitReached(WAIT);
        TaskManager b = startHost(x -> onManualTime.apply(x).heartbeatInterval(beat).hostDeadAfter(deadAfter)
                .recoveryPolicy(RecoveryPolicy.failInterrupted()));
        // committed state may trail the turn's start; nothing here needs a timer, so time stands still
        await().atMost(WAIT).until(() -> b.get(id).orElseThrow().status() == TaskStatus.RUNNING);

        // host 1 beats (and sweeps) at +5 s … +30 s: host 0's heartbeat (at +0 s) is not yet older than 30 s
        time.advance(deadAfter);
        assertThat(b.get(id).orElseThrow().status()).as("host 0's task while host 0 may be alive").isEqualTo(TaskStatus.RUNNING);
        assertThat(runner(1).turns(id)).isEmpty();
        // host 1's beat at +35 s (dead-host timeout + one interval) finds it dead and takes its task over
        time.advance(beat.minusMillis(1));
        assertThat(b.get(id).orElseThrow().status()).as("one millisecond before the beat").isEqualTo(TaskStatus.RUNNING);
        time.advance(Duration.ofMillis(1));
        Task failed = b.get(id).orElseThrow();
        assertThat(failed.status()).isEqualTo(TaskStatus.FAILED);
        assertThat(failed.error()).isEqualTo(RecoveryPolicy.INTERRUPTED);
        assertThat(failed.completedAt()).isEqualTo(start.plus(deadAfter).plus(beat));

        RecordingSubscriber<TaskEvent> log = RecordingSubscriber.unbounded();
        b.events(id).subscribe(log);
        awaitTicking(time, log::isTerminated);
        List<TaskEvent> atTakeover = log.awaitCompletion(WAIT);
        assertThat(atTakeover.get(atTakeover.size() - 1).isTerminal()).isTrue();
        gate.release(); // host 0's turn goes on: every write it makes now is fenced out
        runner(0).awaitTurnFinished(id, 1, WAIT);
        awaitTicking(time, () -> a.get(id).orElseThrow().status() == TaskStatus.FAILED);
        RecordingSubscriber<TaskEvent> after = RecordingSubscriber.unbounded();
        b.events(id).subscribe(after);
        awaitTicking(time, after::isTerminated);
        assertThat(after.awaitCompletion(WAIT)).isEqualTo(atTakeover);
        assertThat(atTakeover).anyMatch(e -> Boolean.TRUE.equals(e.data().get("before")))
                .noneMatch(e -> Boolean.TRUE.equals(e.data().get("after")));
        // (that host 0 rejoins once it heartbeats again is checked with real processes: a host here that never
        // heartbeats again stays dead to host 1, which would rightly take over any new task it started)
    }

    /**
     * Awaits a condition that background work reaches, moving manual time on by a little at each check,
     * so that timers the engine sets meanwhile (a retry's backoff, a remote subscriber's poll) fire.
     */
    private static void awaitTicking(ManualTime time, java.util.concurrent.Callable<Boolean> condition) {
        await().atMost(WAIT).until(() -> {
            time.advance(Duration.ofMillis(200));
            return condition.call();
        });
    }

    @Test
    @Timeout(60)
    void concurrentCreatesWithOneKeyOnTwoHostsMakeOneTask() throws Exception {
        TaskManager a = startHost(b -> b);
        TaskManager b = startHost(x -> x);
        runner(0).defaultScript(ScriptedAgentRunner.steps().thenComplete());
        runner(1).defaultScript(ScriptedAgentRunner.steps().thenComplete());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 5; round++) {
                TaskRequest request = TaskRequest.builder(AGENT).text("once").idempotencyKey("key-" + round).build();
                CyclicBarrier start = new CyclicBarrier(2);
                List<Future<Task>> fs = new ArrayList<>();
                for (TaskManager m : List.of(a, b)) {
                    fs.add(pool.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        return m.create(request);
                    }));
                }
                String first = fs.get(0).get(30, TimeUnit.SECONDS).id();
                assertThat(fs.get(1).get(30, TimeUnit.SECONDS).id()).isEqualTo(first);
                assertThat(a.create(request).id()).isEqualTo(first);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(a.list(TaskQuery.all()).tasks()).hasSize(5);
        assertThatThrownBy(() -> b.create(TaskRequest.builder(AGENT).text("other").idempotencyKey("key-0").build()))
                .isInstanceOf(IdempotencyKeyMismatchException.class);
    }

    @Test
    @Timeout(60)
    void aRetriedMessageRunsOnceOnAnyHost() throws Exception {
        TaskManager a = startHost(b -> b);
        TaskManager b = startHost(x -> x);
        for (int h = 0; h < 2; h++) {
            runner(h).script(AGENT, 1, ScriptedAgentRunner.steps().thenAskForInput(Map.of("q", "?")));
            runner(h).script(AGENT, 2, ScriptedAgentRunner.steps().thenAskForInput(Map.of("q", "more?")));
        }
        String id = a.create(TaskRequest.of(AGENT, "ask")).id();
        awaitStatus(a, id, TaskStatus.WAITING_FOR_INPUT);
        assertThat(a.sendMessage(id, TaskMessage.text("yes"), SendOptions.idempotencyKey("m-1"))).isEqualTo(SendResult.STARTED_TURN);
        assertThat(b.sendMessage(id, TaskMessage.text("yes"), SendOptions.idempotencyKey("m-1"))).isEqualTo(SendResult.STARTED_TURN);
        await().atMost(WAIT).until(() -> runner(0).turns(id).size() + runner(1).turns(id).size() == 2
                && a.get(id).orElseThrow().status() == TaskStatus.WAITING_FOR_INPUT);
        assertThatThrownBy(() -> b.sendMessage(id, TaskMessage.text("no"), SendOptions.idempotencyKey("m-1")))
                .isInstanceOf(IdempotencyKeyMismatchException.class);
        Optional<Task> t = b.get(id);
        assertThat(t.orElseThrow().status()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);
        assertThat(runner(0).turns(id).size() + runner(1).turns(id).size()).isEqualTo(2);
    }

    @Test
    @Timeout(60)
    void aMessageStoredWhileTheOwnersTurnCompletesRunsAsTheNextTurn() throws Exception {
        messageStoredWhileTheOwnersTurnEnds(TaskStatus.COMPLETED);
    }

    @Test
    @Timeout(60)
    void aMessageStoredWhileTheOwnersTurnStartsWaitingRunsAsTheNextTurn() throws Exception {
        messageStoredWhileTheOwnersTurnEnds(TaskStatus.WAITING_FOR_INPUT);
    }

    /**
     * Host 1 stores a message (as {@code sendMessage} on it does) just before host 0 writes the batch that ends
     * turn 1 with {@code ending}: the message was acknowledged, so it must run as turn 2 instead of being left
     * pending on a task that no longer runs; nothing of the failed end is published.
     */
    private void messageStoredWhileTheOwnersTurnEnds(TaskStatus ending) throws Exception {
        AtomicReference<TaskManager> other = new AtomicReference<>();
        AtomicReference<SendResult> sent = new AtomicReference<>();
        AtomicReference<RuntimeException> failed = new AtomicReference<>();
        AtomicBoolean fired = new AtomicBoolean();
        TaskManager a = startHost(x -> x, store -> new ForwardingTaskStore(store) {
            @Override
            public void write(List<StoreOp> ops) {
                for (StoreOp op : ops) {
                    if (op instanceof StoreOp.UpdateTask u && u.record().task().status() == ending
                            && other.get() != null && fired.compareAndSet(false, true)) {
                        try {
                            sent.set(other.get().sendMessage(u.record().id(), TaskMessage.text("late")));
                        } catch (RuntimeException e) {
                            failed.set(e);
                        }
                    }
                }
                super.write(ops);
            }
        });
        other.set(startHost(x -> x));
        ScriptedAgentRunner.Gate gate = new ScriptedAgentRunner.Gate();
        for (int h = 0; h < 2; h++) {
            ScriptedAgentRunner.Steps first = ScriptedAgentRunner.steps().await(gate).emit("text", Map.of("turn", 1L));
            runner(h).script(AGENT, 1, ending == TaskStatus.COMPLETED ? first.thenComplete(Map.of("answer", 1L))
                    : first.thenAskForInput(Map.of("q", "?")));
            runner(h).script(AGENT, 2, ScriptedAgentRunner.steps().thenComplete(Map.of("answer", 2L)));
        }
        String id = a.create(TaskRequest.of(AGENT, "ends while a message comes")).id();
        gate.awaitReached(WAIT);
        awaitStatus(other.get(), id, TaskStatus.RUNNING); // stored as running before the turn ends
        gate.release();
        awaitStatus(a, id, TaskStatus.COMPLETED);
        assertThat(failed.get()).isNull();
        assertThat(fired).isTrue();
        assertThat(sent.get()).isEqualTo(SendResult.QUEUED);
        List<String> messages = new ArrayList<>();
        for (int h = 0; h < 2; h++) {
            runner(h).turns(id).stream().filter(t -> t.number() == 2).forEach(t -> messages.add(t.message().text()));
        }
        assertThat(messages).as("turn 2 runs the late message").containsExactly("late");
        assertThat(stores.get(1).pendingMessages(id)).isEmpty();
        RecordingSubscriber<TaskEvent> log = RecordingSubscriber.unbounded();
        other.get().events(id).subscribe(log);
        List<TaskEvent> events = log.awaitCompletion(WAIT);
        assertThat(seqs(events)).isEqualTo(java.util.stream.LongStream.rangeClosed(1, events.size()).boxed().toList());
        List<Object> statuses = new ArrayList<>();
        events.stream().filter(TaskEvent::isStatus).forEach(e -> statuses.add(e.data().get("status")));
        assertThat(statuses).as("turn 1's end was never recorded")
                .doesNotContain(TaskStatus.WAITING_FOR_INPUT.wireName()).containsOnlyOnce(TaskStatus.COMPLETED.wireName());
        assertThat(events.get(events.size() - 1).data().get("result")).isEqualTo(Map.of("answer", 2L));
    }

    @Test
    @Timeout(60)
    void interruptFromAnotherHostStopsTheOwnersTurnAndTheMessageRunsNext() throws Exception {
        TaskManager a = startHost(x -> x);
        TaskManager b = startHost(x -> x);
        ScriptedAgentRunner.Gate gate = new ScriptedAgentRunner.Gate();
        for (int h = 0; h < 2; h++) {
            runner(h).script(AGENT, 1, ScriptedAgentRunner.steps().await(gate).thenComplete(Map.of("answer", 1L)));
            runner(h).script(AGENT, 2, ScriptedAgentRunner.steps().thenComplete(Map.of("answer", 2L)));
        }
        String id = a.create(TaskRequest.of(AGENT, "long")).id();
        gate.awaitReached(WAIT);
        awaitStatus(b, id, TaskStatus.RUNNING); // the answer says what the task was doing in the store
        assertThat(b.sendMessage(id, TaskMessage.text("stop"), SendOptions.strategy(MessageStrategy.INTERRUPT)))
                .isEqualTo(SendResult.INTERRUPTED_TURN);
        assertThat(runner(0).awaitTurnFinished(id, 1, WAIT).interrupted()).as("turn 1 was interrupted").isTrue();
        awaitStatus(b, id, TaskStatus.COMPLETED);
        List<String> second = new ArrayList<>();
        for (int h = 0; h < 2; h++) {
            runner(h).turns(id).stream().filter(t -> t.number() == 2).forEach(t -> second.add(t.message().text()));
        }
        assertThat(second).containsExactly("stop");
        RecordingSubscriber<TaskEvent> log = RecordingSubscriber.unbounded();
        b.events(id).subscribe(log);
        List<TaskEvent> events = log.awaitCompletion(WAIT);
        assertThat(events).filteredOn(e -> e.type().equals("turn_interrupted")).hasSize(1);
        assertThat(events.get(events.size() - 1).data().get("result")).isEqualTo(Map.of("answer", 2L));
    }

    @Test
    @Timeout(60)
    void rejectFromAnotherHostOnARunningTaskThrowsAndStoresNothing() throws Exception {
        TaskManager a = startHost(x -> x);
        TaskManager b = startHost(x -> x);
        ScriptedAgentRunner.Gate gate = new ScriptedAgentRunner.Gate();
        runner(0).script(AGENT, 1, ScriptedAgentRunner.steps().await(gate).thenComplete());
        String id = a.create(TaskRequest.of(AGENT, "busy")).id();
        gate.awaitReached(WAIT);
        assertThatThrownBy(() -> b.sendMessage(id, TaskMessage.text("no"), SendOptions.strategy(MessageStrategy.REJECT)))
                .isInstanceOf(TaskBusyException.class);
        assertThat(stores.get(1).pendingMessages(id)).isEmpty();
        assertThat(stores.get(1).requests("host-0", 10)).isEmpty();
        gate.release();
        awaitStatus(b, id, TaskStatus.COMPLETED);
        assertThat(runner(0).turns(id)).hasSize(1);
        assertThat(runner(1).turns(id)).isEmpty();
    }
}
