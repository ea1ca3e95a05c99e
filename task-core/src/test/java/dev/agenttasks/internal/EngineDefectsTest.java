package dev.agenttasks.internal;

import dev.agenttasks.ManagerClosedException;
import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TransientStoreException;
import dev.agenttasks.spi.TurnResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.agenttasks.internal.Harness.WAIT;
import static dev.agenttasks.internal.Harness.await;
import static dev.agenttasks.internal.Harness.awaitStatus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Regression tests for the engine defects of issue 7, part 1. Each opens its race window on purpose
 * through {@link EngineHooks} (or drives the sequence directly), so it fails on the code that had the
 * defect every time, not by luck.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EngineDefectsTest {
    private final Harness.Runner runner = new Harness.Runner();
    private final Harness.Store store = new Harness.Store();
    private final List<Engine> engines = new ArrayList<>();
    private final List<Harness.Gate> gates = new ArrayList<>();

    @AfterEach
    void tearDown() {
        gates.forEach(Harness.Gate::open);
        engines.forEach(Engine::close);
    }

    private Engine start(java.util.function.Function<dev.agenttasks.TaskManager.Builder, dev.agenttasks.TaskManager.Builder> s) {
        Engine e = Harness.engine(store, runner, s);
        engines.add(e);
        return e;
    }

    private Engine restart(java.util.function.Function<dev.agenttasks.TaskManager.Builder, dev.agenttasks.TaskManager.Builder> s) {
        Engine e = Harness.engine(store.reopen(), runner, s);
        engines.add(e);
        return e;
    }

    private Harness.Gate gate() {
        Harness.Gate g = new Harness.Gate();
        gates.add(g);
        return g;
    }

    /** Defect 1: the terminal status event is delivered before onComplete, whatever the writer's progress. */
    @Test
    void d01_subscriberGetsTheTerminalEventBeforeCompletion() throws Exception {
        Engine m = start(b -> b.deliveryThreads(1));
        Harness.Gate turn = gate();
        runner.script = (t, c) -> {
            turn.pass();
            return TurnResult.completed();
        };
        Task task = m.create(TaskRequest.of("a", "go"));
        turn.awaitEntered();
        Harness.Sub sub = new Harness.Sub(0);
        m.events(task.id()).subscribe(sub);
        sub.subscribed.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        CountDownLatch paused = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        m.hooks = new EngineHooks() {
            @Override
            public void afterApply(TaskState s, StoreOp op) {
                if (op instanceof StoreOp.UpdateTask && ((StoreOp.UpdateTask) op).record().task().status().isTerminal()) {
                    paused.countDown();
                    try {
                        resume.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        turn.open();
        assertThat(paused.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        // the writer has applied the finished task but not yet its status event: a subscriber asking now
        sub.subscription.request(100);
        Harness.deliveryIdle(m);
        resume.countDown();
        sub.done.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(sub.events).isNotEmpty();
        TaskEvent last = sub.events.get(sub.events.size() - 1);
        assertThat(last.isTerminal()).as("last event %s", last).isTrue();
        assertThat(last.data()).containsEntry("status", "completed");
    }

    /** Defect 2: a cancel between a turn's end and the launch of its queued follow-up releases the slot once. */
    @Test
    void d02_cancelBetweenTurnsReleasesTheSlotOnce() throws Exception {
        Engine m = start(b -> b.maxConcurrentTasks(1).cancelGrace(Duration.ZERO));
        Harness.Gate first = gate();
        runner.script = (t, c) -> {
            if (t.number() == 1) {
                first.pass();
            }
            return TurnResult.completed();
        };
        Task task = m.create(TaskRequest.of("a", "go"));
        first.awaitEntered();
        assertThat(m.sendMessage(task.id(), TaskMessage.text("more"))).isEqualTo(SendResult.QUEUED);
        CountDownLatch turnThreadDone = new CountDownLatch(1);
        m.hooks = new EngineHooks() {
            @Override
            public void betweenTurns(TaskState s) {
                m.cancel(task.id());
                Harness.timerIdle(m); // the grace (zero) has passed
            }

            @Override
            public void turnThreadDone(TaskState s) {
                turnThreadDone.countDown();
            }
        };
        first.open();
        assertThat(turnThreadDone.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        Harness.timerIdle(m);
        assertThat(m.get(task.id()).orElseThrow().status()).isEqualTo(TaskStatus.CANCELLED);
        await(() -> m.stats().runningTurns() <= 0);
        Harness.timerIdle(m);
        assertThat(m.stats().runningTurns()).isZero();
    }

    /** Defect 3: a cancelled turn that ignores interrupts keeps its slot: the queued task waits. */
    @Test
    void d03_cancelledTurnIgnoringInterruptsKeepsItsSlot() {
        Engine m = start(b -> b.maxConcurrentTasks(1).cancelGrace(Duration.ofHours(1)));
        Harness.Gate stubborn = gate();
        runner.script = (t, c) -> {
            if (t.message() != null && t.message().text().equals("stubborn")) {
                stubborn.passIgnoringInterrupts();
            }
            return TurnResult.completed();
        };
        Task a = m.create(TaskRequest.of("a", "stubborn"));
        stubborn.awaitEntered();
        Task b = m.create(TaskRequest.of("a", "next")); // queued in the store for the first free slot
        assertThat(m.cancel(a.id())).isTrue();
        assertThat(m.get(a.id()).orElseThrow().status()).isEqualTo(TaskStatus.CANCELLED);
        assertThat(m.stats().runningTurns()).as("the queued task must wait for the slot").isEqualTo(1);
        assertThat(m.stats().queuedTurns()).isZero();
        assertThat(m.get(b.id()).orElseThrow().status()).isEqualTo(TaskStatus.PENDING);
        stubborn.open(); // the turn's thread returns: now the slot passes on
        awaitStatus(m, b.id(), TaskStatus.COMPLETED);
        await(() -> m.stats().runningTurns() == 0);
    }

    /** Defect 5: a call racing close() ends with ManagerClosedException, it does not hang. */
    @Test
    void d05_callRacingCloseDoesNotHang() throws Exception {
        Engine m = start(b -> b);
        runner.script = (t, c) -> TurnResult.awaitingInput(Map.of("q", "?"));
        Task task = m.create(TaskRequest.of("a", "go"));
        awaitStatus(m, task.id(), TaskStatus.WAITING_FOR_INPUT);
        // the first turn must be gone entirely (its slot released) before the hook holds the task's lock:
        // otherwise close() waits for that turn, which waits for the lock, and the window never closes
        await(() -> m.stats().runningTurns() == 0);
        AtomicBoolean armed = new AtomicBoolean(true);
        CountDownLatch inWindow = new CountDownLatch(1);
        m.hooks = new EngineHooks() {
            @Override
            public void beforeEnqueue() {
                if (armed.compareAndSet(true, false)) {
                    inWindow.countDown();
                    try {
                        m.writer.thread.join(WAIT.toMillis()); // close() stops the writer meanwhile
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        // one thread each: the common pool may have a single worker (2 CPUs), which would run close()
        // only after the blocked call
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            CompletableFuture<Object> call = CompletableFuture.supplyAsync(() -> {
                try {
                    return m.sendMessage(task.id(), TaskMessage.text("hello"));
                } catch (RuntimeException e) {
                    return e;
                }
            }, threads);
            assertThat(inWindow.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(m::close, threads);
            Object outcome = call.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            closing.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(outcome).isInstanceOf(ManagerClosedException.class);
        } finally {
            threads.shutdownNow();
        }
    }

    /** Defect 6: a message acknowledged while no slot was free leads to a turn after a restart. */
    @Test
    void d06_acknowledgedMessageRunsAfterRestart() {
        Engine m = start(b -> b.maxConcurrentTasks(1));
        Harness.Gate busy = gate();
        runner.script = (t, c) -> {
            if (t.message() != null && t.message().text().equals("busy")) {
                busy.pass();
                return TurnResult.completed();
            }
            if (t.number() == 1) {
                return TurnResult.awaitingInput(Map.of("q", "?"));
            }
            return TurnResult.completed(Map.of("answer", t.message().text()));
        };
        Task asking = m.create(TaskRequest.of("a", "ask"));
        awaitStatus(m, asking.id(), TaskStatus.WAITING_FOR_INPUT);
        Task blocker = m.create(TaskRequest.of("a", "busy"));
        busy.awaitEntered();
        SendResult r = m.sendMessage(asking.id(), TaskMessage.text("the answer"));
        assertThat(r).isIn(SendResult.STARTED_TURN, SendResult.QUEUED);
        m.close();
        busy.open();
        Engine m2 = restart(b -> b.maxConcurrentTasks(1));
        Task done = awaitStatus(m2, asking.id(), TaskStatus.COMPLETED);
        assertThat(done.status()).isEqualTo(TaskStatus.COMPLETED);
        assertThat(m2.get(blocker.id()).orElseThrow().status()).isEqualTo(TaskStatus.FAILED);
        List<TaskEvent> log = store.data.events(asking.id(), 0, 1000);
        assertThat(log).filteredOn(e -> e.type().equals("user_message"))
                .extracting(e -> e.data().get("text")).containsExactly("ask", "the answer");
    }

    /** Defect 7: tasks queued (never started) when the host closed cleanly are queued again, not failed. */
    @Test
    void d07_cleanCloseKeepsTheQueue() {
        Engine m = start(b -> b.maxConcurrentTasks(1));
        Harness.Gate busy = gate();
        runner.script = (t, c) -> {
            if (t.message().text().equals("busy")) {
                busy.pass();
            }
            return TurnResult.completed();
        };
        Task running = m.create(TaskRequest.of("a", "busy"));
        busy.awaitEntered();
        Task queued = m.create(TaskRequest.of("a", "queued"));
        m.close();
        busy.open();
        Engine m2 = restart(b -> b.maxConcurrentTasks(1));
        assertThat(awaitTerminal(m2, queued.id()).status()).isEqualTo(TaskStatus.COMPLETED);
        assertThat(m2.get(running.id()).orElseThrow().status()).isEqualTo(TaskStatus.FAILED);
    }

    private static Task awaitTerminal(Engine m, String id) {
        await(() -> m.get(id).map(t -> t.status().isTerminal()).orElse(false));
        return m.get(id).orElseThrow();
    }

    /** Defect 8a: a transient store failure is retried; the task is not failed. */
    @Test
    void d08a_transientStoreFailureIsRetried() {
        Engine m = start(b -> b);
        AtomicInteger failures = new AtomicInteger();
        store.writeFault = ops -> failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0
                ? new TransientStoreException("database is locked", null) : null;
        runner.script = (t, c) -> {
            c.emit("before", Map.of("i", 1L));
            failures.set(3);
            c.emit("during", Map.of("i", 2L));
            return TurnResult.completed();
        };
        Task task = m.create(TaskRequest.of("a", "go"));
        Task done = awaitTerminal(m, task.id());
        assertThat(done.status()).isEqualTo(TaskStatus.COMPLETED);
        assertThat(store.data.events(task.id(), 0, 100)).extracting(TaskEvent::type).contains("before", "during");
    }

    /** Defect 8b: when recording the failure fails too, the final status is retried; the task never stays RUNNING. */
    @Test
    void d08b_failedTaskNeverStaysRunning() {
        Engine m = start(b -> b);
        AtomicInteger failures = new AtomicInteger();
        store.writeFault = ops -> failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0
                ? new TaskStoreException("disk I/O error") : null;
        runner.script = (t, c) -> {
            failures.set(3);
            c.emit("lost", Map.of("i", 1L));
            return TurnResult.completed();
        };
        Task task = m.create(TaskRequest.of("a", "go"));
        await(() -> store.data.task(task.id()).orElseThrow().task().status().isTerminal());
        assertThat(store.data.task(task.id()).orElseThrow().task().status()).isEqualTo(TaskStatus.FAILED);
        await(() -> m.stats().activeTasks() == 0);
    }

    /** Defect 8c: a listener throwing an Error does not fail writes that committed. */
    @Test
    void d08c_listenerErrorDoesNotReachTheWriter() {
        Engine m = start(b -> b.listener(new TaskListener() {
            @Override
            public void taskCreated(Task task) {
                throw new AssertionError("listener bug");
            }
        }));
        Task task = m.create(TaskRequest.of("a", "go"));
        assertThat(awaitTerminal(m, task.id()).status()).isEqualTo(TaskStatus.COMPLETED);
    }

    /** Defect 9: a cancel between the store read and the load into memory leaves no stale waiting state. */
    @Test
    void d09_loadAfterConcurrentCancelIsNotStale() throws Exception {
        Engine m = start(b -> b);
        runner.script = (t, c) -> TurnResult.awaitingInput(Map.of("q", "?"));
        Task task = m.create(TaskRequest.of("a", "go"));
        awaitStatus(m, task.id(), TaskStatus.WAITING_FOR_INPUT);
        m.close();
        Engine m2 = restart(b -> b); // the waiting task is not in memory
        AtomicBoolean armed = new AtomicBoolean(true);
        m2.hooks = new EngineHooks() {
            @Override
            public void afterStoreRead(String taskId) {
                if (armed.compareAndSet(true, false)) {
                    // a cancel from another thread either completes now (the window is open) or blocks
                    // until this load is done (the window is closed)
                    Thread canceller = new Thread(() -> m2.cancel(taskId));
                    canceller.start();
                    await(() -> canceller.getState() == Thread.State.BLOCKED || !canceller.isAlive());
                }
            }
        };
        Harness.Sub sub = new Harness.Sub(Long.MAX_VALUE); // resolving the subscription loads the task
        m2.events(task.id()).subscribe(sub);
        sub.done.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(sub.events.get(sub.events.size() - 1).data()).containsEntry("status", "cancelled");
        assertThat(m2.get(task.id()).orElseThrow().status()).isEqualTo(TaskStatus.CANCELLED);
    }

    /** Defect 10: cancel racing delete of the same task ends with a documented result. */
    @Test
    void d10_cancelRacingDeleteHasADocumentedResult() throws Exception {
        Engine m = start(b -> b);
        runner.script = (t, c) -> TurnResult.awaitingInput(Map.of("q", "?"));
        Task task = m.create(TaskRequest.of("a", "go"));
        awaitStatus(m, task.id(), TaskStatus.WAITING_FOR_INPUT);
        CountDownLatch writerHeld = new CountDownLatch(1);
        CountDownLatch releaseWriter = new CountDownLatch(1);
        AtomicBoolean holdNext = new AtomicBoolean(true);
        AtomicBoolean flushSeen = new AtomicBoolean();
        m.hooks = new EngineHooks() {
            @Override
            public void beforeCommit() {
                if (holdNext.compareAndSet(true, false)) {
                    writerHeld.countDown();
                    try {
                        releaseWriter.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }

            @Override
            public void beforeFlush() {
                if (flushSeen.compareAndSet(false, true)) {
                    releaseWriter.countDown();
                }
            }
        };
        CompletableFuture<Object> cancel = CompletableFuture.supplyAsync(() -> {
            try {
                return m.cancel(task.id());
            } catch (RuntimeException e) {
                return e;
            }
        });
        assertThat(writerHeld.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        boolean deleted = m.delete(task.id());
        Object cancelled = cancel.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertThat(deleted).isTrue();
        assertThat(cancelled).isEqualTo(Boolean.TRUE);
        assertThat(m.get(task.id())).isEmpty();
    }

    /** Defect 11: subscribing through a closed manager signals ManagerClosedException. */
    @Test
    void d11_subscribingToAClosedManagerSignalsManagerClosed() {
        Engine m = start(b -> b);
        Task task = m.create(TaskRequest.of("a", "go"));
        m.close();
        Harness.Sub sub = new Harness.Sub(10);
        m.events(task.id()).subscribe(sub);
        assertThat(sub.awaitError()).isInstanceOf(ManagerClosedException.class);
        assertThatThrownBy(() -> m.create(TaskRequest.of("a", "x"))).isInstanceOf(ManagerClosedException.class);
        assertThatThrownBy(() -> m.cancel(task.id())).isInstanceOf(ManagerClosedException.class);
        assertThatThrownBy(() -> m.delete(task.id())).isInstanceOf(ManagerClosedException.class);
        assertThatThrownBy(() -> m.sendMessage(task.id(), TaskMessage.text("x"))).isInstanceOf(ManagerClosedException.class);
        assertThatThrownBy(() -> m.get(task.id())).isInstanceOf(ManagerClosedException.class);
        assertThatThrownBy(() -> m.list(dev.agenttasks.TaskQuery.all())).isInstanceOf(ManagerClosedException.class);
        assertThatThrownBy(m::runningCount).isInstanceOf(ManagerClosedException.class);
    }
}
