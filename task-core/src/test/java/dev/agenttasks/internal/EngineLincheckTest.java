package dev.agenttasks.internal;

import dev.agenttasks.ManagerClosedException;
import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskNotAcceptingMessagesException;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * The whole engine (in-memory store, a scripted runner) under the interleavings Lincheck explores (issue
 * 7, part 3): small combinations of create, cancel, sendMessage, a turn's end, a timeout, subscribe,
 * unsubscribe, delete and close, each followed by the invariants: a subscriber gets exactly one terminal
 * event, last, before {@code onComplete}; turns running never exceed the limit; a slot is released
 * exactly once (none held, none owed at the end); an acknowledged message is run or its task ended; a
 * task's log is gapless with one terminal event, last. Every call must return: a wait without end is a
 * deadlock Lincheck reports.
 *
 * <p>Lincheck replays interleavings, so each run is deterministic: ids come from a counting source,
 * time from a {@link SettableClock} and {@link ManualScheduler} (advanced by a test thread, as a timeout
 * would), turns and subscription signals run on threads the test starts and joins.
 */
class EngineLincheckTest {
    private static final int INVOCATIONS = Integer.getInteger("lincheck.engine.invocations", 150);
    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

    /** Starts a thread per job and remembers it, so the test can wait for every turn and delivery to end. */
    static final class Spawner extends AbstractExecutorService {
        private final List<Thread> threads = new ArrayList<>();
        private volatile boolean shutdown;

        @Override
        public void execute(Runnable job) {
            Thread t = new Thread(job);
            synchronized (threads) {
                threads.add(t);
            }
            t.start();
        }

        /** Joins every thread started so far, and those they start, until none is left. */
        void joinAll() {
            int joined = 0;
            while (true) {
                Thread next;
                synchronized (threads) {
                    if (joined == threads.size()) {
                        return;
                    }
                    next = threads.get(joined);
                }
                LincheckSupport.join(next);
                joined++;
            }
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return true; // the test joins the threads itself
        }
    }

    /** A runner whose turns follow a script and that counts the turns running at once. */
    static final class Runner implements AgentRunner {
        final AtomicInteger inTurn = new AtomicInteger();
        final AtomicInteger maxInTurn = new AtomicInteger();
        final List<String> ran = new CopyOnWriteArrayList<>();
        volatile BiFunction<Turn, TurnContext, TurnResult> script = (t, c) -> TurnResult.completed();

        @Override
        public Optional<AgentDescriptor> describe(String agentId) {
            return Optional.of(new AgentDescriptor(agentId, "Agent", "m"));
        }

        @Override
        public TurnResult runTurn(Turn turn, TurnContext ctx) {
            int now = inTurn.incrementAndGet();
            maxInTurn.accumulateAndGet(now, Math::max);
            try {
                ran.add(turn.taskId() + "#" + turn.number() + ":" + (turn.message() == null ? "" : turn.message().text()));
                return script.apply(turn, ctx);
            } finally {
                inTurn.decrementAndGet();
            }
        }
    }

    /** Records signals; asks for everything at once, or cancels when told. */
    static final class Sub implements Flow.Subscriber<TaskEvent> {
        final List<TaskEvent> events = new CopyOnWriteArrayList<>();
        final List<String> signals = new CopyOnWriteArrayList<>();
        volatile Flow.Subscription subscription;
        volatile Throwable error;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(TaskEvent item) {
            if (!signals.isEmpty()) {
                signals.add("onNext after " + signals);
            }
            events.add(item);
        }

        @Override
        public void onError(Throwable t) {
            error = t;
            signals.add("onError");
        }

        @Override
        public void onComplete() {
            signals.add("onComplete");
        }
    }

    /** One engine and the threads it runs on, for one invocation. */
    static final class World {
        final SettableClock clock = new SettableClock(START);
        final ManualScheduler scheduler = new ManualScheduler(clock);
        final Spawner turns = new Spawner();
        final Spawner delivery = new Spawner();
        final Runner runner = new Runner();
        final Harness.Store store = new Harness.Store(); // its close() keeps the data readable
        final Engine engine;
        final int limit;

        World(int limit) {
            this.limit = limit;
            engine = (Engine) TaskManager.builder().store(store).runner(runner).hostId("h").clock(clock)
                    .scheduler(scheduler).executor(turns).maxConcurrentTasks(limit).deliveryThreads(1)
                    .cancelGrace(Duration.ofHours(1)).shutdownTimeout(Duration.ofSeconds(5)).build();
            engine.deliveryExecutor.shutdown();
            engine.deliveryExecutor = delivery;
            engine.ids = Ids.counting();
        }

        /** Waits until nothing runs: every turn returned, every write committed, every signal delivered. */
        void quiesce() {
            turns.joinAll();
            if (!engine.closed) {
                engine.writer.flush();
            }
            turns.joinAll();
            delivery.joinAll();
        }

        void close() {
            engine.close();
            turns.joinAll();
            delivery.joinAll();
        }

        /** The invariants of a task's stored log: seqs 1..n, at most one terminal event and it is last. */
        List<TaskEvent> checkLog(String taskId) {
            List<TaskEvent> log = store.data.events(taskId, 0, 10_000);
            for (int i = 0; i < log.size(); i++) {
                if (log.get(i).seq() != i + 1) {
                    throw new AssertionError("log of " + taskId + " not gapless: " + log);
                }
                if (log.get(i).isTerminal() && i != log.size() - 1) {
                    throw new AssertionError("terminal event not last in " + log);
                }
            }
            return log;
        }

        /** After quiescence: no slot held or queued, no turn tracked, never more turns than the limit. */
        void checkSlots() {
            if (engine.turns.slots.running() != 0 || engine.turns.slots.queued() != 0 || !engine.turns.runningTurns.isEmpty()) {
                throw new AssertionError("slots after all turns ended: running " + engine.turns.slots.running()
                        + ", queued " + engine.turns.slots.queued() + ", turns tracked " + engine.turns.runningTurns.size());
            }
            if (runner.maxInTurn.get() > limit) {
                throw new AssertionError(runner.maxInTurn.get() + " turns ran at once with a limit of " + limit);
            }
        }
    }

    /**
     * A subscriber that completed got exactly one terminal event, as its last; a subscriber ended by an
     * error got no event after a terminal one; nothing follows the end.
     */
    static void checkSubscriber(Sub sub, boolean mustComplete) {
        List<String> signals = sub.signals;
        if (signals.size() > 1 || signals.stream().anyMatch(s -> s.startsWith("onNext after"))) {
            throw new AssertionError("signals after the end: " + signals);
        }
        long terminal = sub.events.stream().filter(TaskEvent::isTerminal).count();
        boolean completed = signals.equals(List.of("onComplete"));
        if (mustComplete && !completed) {
            throw new AssertionError("subscriber of a finished task did not complete: " + signals + " " + sub.error
                    + " after " + sub.events);
        }
        if (completed && (terminal != 1 || !sub.events.get(sub.events.size() - 1).isTerminal())) {
            throw new AssertionError("completed without the terminal event last: " + sub.events);
        }
        if (terminal > 1) {
            throw new AssertionError("more than one terminal event: " + sub.events);
        }
        for (int i = 1; i < sub.events.size(); i++) {
            if (sub.events.get(i).seq() != sub.events.get(i - 1).seq() + 1) {
                throw new AssertionError("gap or duplicate in delivered events: " + sub.events);
            }
        }
    }

    /** Instruments the engine's classes (create, turns, delivery, cancel, close) before the tests explore. */
    @org.junit.jupiter.api.BeforeAll
    static void warmUp() {
        LincheckSupport.warmUp(() -> {
            World w = new World(1);
            w.runner.script = (t, c) -> {
                c.emit("step", Map.of("i", 1L));
                return t.number() == 1 ? TurnResult.awaitingInput(Map.of("q", "?")) : TurnResult.completed();
            };
            Task task = w.engine.create(TaskRequest.of("a", "go"));
            w.engine.events(task.id()).subscribe(new Sub());
            w.quiesce();
            w.engine.sendMessage(task.id(), TaskMessage.text("more"));
            w.engine.cancel(task.id());
            w.engine.delete(task.id());
            w.quiesce();
            w.close();
        });
    }

    static Thread fork(Runnable r) {
        Thread t = new Thread(r);
        t.start();
        return t;
    }

    /**
     * A turn emitting and completing, a cancel and a new subscriber at once: the subscriber gets one
     * terminal event, last, then onComplete (defect 1), and the slot is free after.
     */
    @Test
    void cancelRacingTheTurnsEndWithANewSubscriber() {
        LincheckSupport.exploreProjectCode(INVOCATIONS, () -> {
            World w = new World(1);
            w.runner.script = (t, c) -> {
                c.emit("step", Map.of("i", 1L));
                return TurnResult.completed();
            };
            Task task = w.engine.create(TaskRequest.of("a", "go"));
            Sub sub = new Sub();
            Thread subscribe = fork(() -> w.engine.events(task.id()).subscribe(sub));
            Thread cancel = fork(() -> w.engine.cancel(task.id()));
            LincheckSupport.join(subscribe, cancel);
            w.quiesce();
            List<TaskEvent> log = w.checkLog(task.id());
            if (!log.get(log.size() - 1).isTerminal()) {
                throw new AssertionError("the task did not end: " + log);
            }
            checkSubscriber(sub, true);
            if (sub.events.size() != log.size()) {
                throw new AssertionError("subscriber from seq 0 got " + sub.events + " of " + log);
            }
            w.checkSlots();
            w.close();
        });
    }

    /**
     * Limit 1: a message to a running task, a cancel of it, and a second task queued behind it. The
     * follow-up turn begun at the first turn's end and the cancel must release the one slot once (defect
     * 2), the queued task runs after, never two turns at once, and an acknowledged message runs unless
     * its task was cancelled.
     */
    @Test
    void messageAndCancelAtATurnsEndWithAQueuedTask() {
        LincheckSupport.exploreProjectCode(INVOCATIONS, () -> {
            World w = new World(1);
            w.runner.script = (t, c) -> TurnResult.completed();
            Task a = w.engine.create(TaskRequest.of("a", "first"));
            Task b = w.engine.create(TaskRequest.of("a", "queued"));
            SendResult[] sent = new SendResult[1];
            Thread send = fork(() -> {
                try {
                    sent[0] = w.engine.sendMessage(a.id(), TaskMessage.text("more"));
                } catch (TaskNotAcceptingMessagesException e) {
                    // the task had ended: a documented answer
                }
            });
            Thread cancel = fork(() -> w.engine.cancel(a.id()));
            LincheckSupport.join(send, cancel);
            w.quiesce();
            w.checkSlots();
            TaskStatus sa = w.engine.get(a.id()).orElseThrow().status();
            TaskStatus sb = w.engine.get(b.id()).orElseThrow().status();
            if (sb != TaskStatus.COMPLETED || !sa.isTerminal()) {
                throw new AssertionError("a " + sa + ", b " + sb + "; turns " + w.runner.ran);
            }
            boolean more = w.runner.ran.contains(a.id() + "#2:more");
            if (sent[0] != null && sa != TaskStatus.CANCELLED && !more) {
                throw new AssertionError("acknowledged message (" + sent[0] + ") lost; a " + sa + ", turns " + w.runner.ran);
            }
            w.checkLog(a.id());
            w.checkLog(b.id());
            w.close();
        });
    }

    /**
     * A waiting task: cancel, delete and a message at once (defect 10). Each call ends with a documented
     * result; the task is gone after; no subscriber is left registered.
     */
    @Test
    void cancelDeleteAndMessageOnAWaitingTask() {
        LincheckSupport.exploreProjectCode(INVOCATIONS, () -> {
            World w = new World(1);
            w.runner.script = (t, c) -> t.number() == 1 ? TurnResult.awaitingInput(Map.of("q", "?")) : TurnResult.completed();
            Task a = w.engine.create(TaskRequest.of("a", "first"));
            w.quiesce();
            Sub sub = new Sub();
            w.engine.events(a.id()).subscribe(sub);
            List<Throwable> odd = new CopyOnWriteArrayList<>();
            Thread cancel = fork(() -> {
                try {
                    w.engine.cancel(a.id());
                } catch (NoSuchTaskException e) {
                    // deleted first: documented
                } catch (RuntimeException e) {
                    odd.add(e);
                }
            });
            Thread delete = fork(() -> {
                try {
                    if (!w.engine.delete(a.id())) {
                        odd.add(new AssertionError("delete of an existing task returned false"));
                    }
                } catch (RuntimeException e) {
                    odd.add(e);
                }
            });
            Thread send = fork(() -> {
                try {
                    w.engine.sendMessage(a.id(), TaskMessage.text("more"));
                } catch (NoSuchTaskException | TaskNotAcceptingMessagesException e) { // TaskDeletedException is a NoSuchTaskException
                    // cancelled or deleted first: documented
                } catch (RuntimeException e) {
                    odd.add(e);
                }
            });
            LincheckSupport.join(cancel, delete, send);
            w.quiesce();
            if (!odd.isEmpty()) {
                throw new AssertionError("undocumented results: " + odd, odd.get(0));
            }
            if (w.store.data.task(a.id()).isPresent() || w.engine.stats().activeTasks() != 0) {
                throw new AssertionError("task still there after delete");
            }
            if (sub.signals.size() != 1 || w.engine.subscriptions.size() != 0) {
                throw new AssertionError("subscriber not ended exactly once: " + sub.signals + ", registered "
                        + w.engine.subscriptions.size());
            }
            w.checkSlots();
            w.close();
        });
    }

    /**
     * A turn's timeout firing, a subscriber unsubscribing and another subscribing, and close(), at
     * once: every call returns, the subscriber still there ends once (the terminal event last if it
     * completed, or ManagerClosedException), nothing stays registered, and the task is either finished
     * or left RUNNING for the next start's recovery.
     */
    @Test
    void timeoutUnsubscribeSubscribeAndClose() {
        LincheckSupport.exploreProjectCode(INVOCATIONS, () -> {
            World w = new World(1);
            AtomicInteger interrupted = new AtomicInteger();
            w.runner.script = (t, c) -> {
                c.emit("step", Map.of("i", 1L));
                if (Thread.interrupted() || c.isCancelled()) {
                    interrupted.incrementAndGet();
                }
                return TurnResult.completed();
            };
            Task a = w.engine.create(TaskRequest.builder("a").text("go").timeout(Duration.ofMinutes(1)).build());
            Sub leaving = new Sub();
            w.engine.events(a.id()).subscribe(leaving);
            Sub joining = new Sub();
            Thread timeout = fork(() -> w.scheduler.advance(Duration.ofMinutes(1)));
            Thread unsubscribe = fork(() -> {
                Flow.Subscription s = leaving.subscription;
                if (s != null) {
                    s.cancel();
                }
            });
            Thread subscribe = fork(() -> w.engine.events(a.id()).subscribe(joining));
            Thread close = fork(() -> {
                w.engine.close();
            });
            LincheckSupport.join(timeout, unsubscribe, subscribe, close);
            w.close();
            checkSubscriber(joining, false);
            if (joining.signals.size() != 1) {
                throw new AssertionError("subscriber ended " + joining.signals + " after " + joining.events);
            }
            if (joining.error != null && !(joining.error instanceof ManagerClosedException)) {
                throw new AssertionError("subscriber failed with " + joining.error);
            }
            checkSubscriber(leaving, false);
            if (w.engine.subscriptions.size() != 0) {
                throw new AssertionError(w.engine.subscriptions.size() + " subscriptions left after close");
            }
            List<TaskEvent> log = w.checkLog(a.id());
            TaskStatus stored = w.store.data.task(a.id()).orElseThrow().task().status();
            boolean ended = log.get(log.size() - 1).isTerminal();
            if (ended != stored.isTerminal() || !ended && stored != TaskStatus.RUNNING && stored != TaskStatus.PENDING) {
                throw new AssertionError("stored " + stored + " with log " + log);
            }
        });
    }
}
