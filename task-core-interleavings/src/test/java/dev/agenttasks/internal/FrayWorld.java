package dev.agenttasks.internal;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * The engine and its threads for one explored run of {@link EngineFrayTest}: ids from a counting source,
 * time from a {@link SettableClock} and {@link ManualScheduler} (advanced by a test thread, as a timeout
 * would), turns and subscription signals on threads the test starts and joins, so that Fray controls every
 * thread and every run is repeatable from its recording. Also the invariants the scenarios check.
 */
final class FrayWorld {
    static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

    private FrayWorld() {
    }

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

        /** Threads started so far. */
        int started() {
            synchronized (threads) {
                return threads.size();
            }
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
                FrayWorld.join(next);
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
        final Spawner claiming = new Spawner();
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
            // claims of queued tasks (the multi-host protocol) run on tracked threads too; the claim the engine
            // scheduled at its start on its own executor is waited for, so no untracked thread holds the claim lock
            java.util.concurrent.ExecutorService started = engine.claims.async;
            engine.claims.async = claiming;
            started.shutdown();
            try {
                while (!started.awaitTermination(1, java.util.concurrent.TimeUnit.SECONDS)) {
                    // keep waiting: the job is a single store read
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
            engine.ids = Ids.counting();
        }

        /**
         * Waits until nothing runs: every turn returned, every write committed, every signal delivered. The
         * writer completes a flush before it signals the subscribers of the batch it belongs to, so a
         * second flush (taken by the writer only after that) is what makes sure the signals went out; and a
         * commit can start a turn, so this repeats until no new turn started.
         */
        void quiesce() {
            int seen;
            do {
                seen = turns.started() + claiming.started();
                claiming.joinAll();
                turns.joinAll();
                if (!engine.closed) {
                    engine.writer.flush();
                    engine.writer.flush();
                    // the poll tick (every pollInterval) that backs up the claim wake-ups, once all is still
                    engine.claims.claimNow();
                }
            } while (turns.started() + claiming.started() != seen);
            delivery.joinAll();
        }

        void close() {
            engine.close();
            claiming.joinAll();
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

    static Thread fork(Runnable r) {
        Thread t = new Thread(r);
        t.start();
        return t;
    }

    /** Joins the threads; a join that never returns is a deadlock Fray reports. */
    static void join(Thread... threads) {
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while joining " + t.getName(), e);
            }
        }
    }
}
