package dev.agenttasks.testkit;

import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntFunction;
import java.util.function.Predicate;

/**
 * A fake {@link AgentRunner} scripted in code, for tests of the engine and of hosts.
 *
 * <p>Register agents with {@link #agent(String, String, String)}, then say what their turns do with
 * {@link TurnScript}s: a default for every turn, one per agent, one per agent and turn number, or one
 * chosen by a predicate on the {@link Turn}. {@link #steps()} builds the common scripts: emit events,
 * report a session id, wait for a {@link Gate} the test releases (honouring interruption, polling the
 * cancellation flag, or ignoring both), then complete, ask for input or fail.
 *
 * <pre>{@code
 * ScriptedAgentRunner runner = new ScriptedAgentRunner().agent("coder", "Coder", "model-1");
 * Gate gate = new Gate();
 * runner.script("coder", 1, ScriptedAgentRunner.steps()
 *         .sessionId("s-1").emit("text", Map.of("text", "hello")).await(gate)
 *         .thenAskForInput(Map.of("question", "Which file?")));
 * runner.script("coder", 2, ScriptedAgentRunner.steps().emit("text", Map.of("text", "done")).thenComplete());
 * }</pre>
 *
 * <p>The runner records every turn it starts and how each ended, and lets a test wait for them
 * ({@link #awaitTurnStarted(String, int, Duration)}, {@link #awaitTurnFinished(String, int, Duration)}).
 * A turn without a script completes at once with no events. Thread-safe.
 */
public final class ScriptedAgentRunner implements AgentRunner {

    /** Default wait of the awaits without an explicit timeout: 10 seconds. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<String, AgentDescriptor> agents = new LinkedHashMap<>();
    private final Map<String, TurnScript> perAgent = new LinkedHashMap<>();
    private final Map<String, TurnScript> perAgentTurn = new LinkedHashMap<>();
    private final List<Map.Entry<Predicate<Turn>, TurnScript>> conditional = new ArrayList<>();
    private TurnScript defaultScript = (turn, context) -> TurnResult.completed();
    private final List<Turn> started = new ArrayList<>();
    private final List<TurnOutcome> finished = new ArrayList<>();
    private final AtomicInteger describeCalls = new AtomicInteger();

    /** Creates a runner with no agents. */
    public ScriptedAgentRunner() {
    }

    /**
     * What a turn does. It may emit through the context, block, return a result or throw.
     */
    @FunctionalInterface
    public interface TurnScript {
        /**
         * Runs the turn.
         *
         * @param turn    the turn
         * @param context the engine's context
         * @return how the turn ended
         * @throws Exception to fail the task
         */
        TurnResult run(Turn turn, TurnContext context) throws Exception;
    }

    /**
     * How one turn ended, as the runner saw it.
     *
     * @param turn        the turn
     * @param result      what it returned, or {@code null} if it threw
     * @param failure     what it threw, or {@code null}
     * @param interrupted true if the turn's thread was interrupted while the turn ran (seen by a wait
     *                    step, or still set when the turn ended)
     * @param cancelledFlag the value of {@link TurnContext#isCancelled()} when the turn ended
     */
    public record TurnOutcome(Turn turn, TurnResult result, Throwable failure, boolean interrupted,
                              boolean cancelledFlag) {
    }

    /**
     * A one-shot latch a test releases to let blocked turns go on.
     */
    public static final class Gate {
        private final CountDownLatch latch = new CountDownLatch(1);
        private final CountDownLatch reached = new CountDownLatch(1);

        /** Creates a closed gate. */
        public Gate() {
        }

        /** Opens the gate; every turn waiting for it goes on. Idempotent. */
        public void release() {
            latch.countDown();
        }

        /** @return true once released */
        public boolean isReleased() {
            return latch.getCount() == 0;
        }

        /**
         * Waits until some turn has reached the gate (started waiting for it).
         *
         * @param timeout the longest wait
         * @throws AssertionError if no turn reached it in time
         */
        public void awaitReached(Duration timeout) {
            try {
                if (!reached.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                    throw new AssertionError("no turn reached the gate within " + timeout.toMillis() + " ms");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }

        /** @return true once a turn has reached the gate */
        public boolean isReached() {
            return reached.getCount() == 0;
        }

        /**
         * Blocks the calling thread until the gate is released, for code outside a script (for example a
         * subscriber that should stall). Counts as reaching the gate.
         *
         * @param timeout the longest wait
         * @return true if released, false if the wait timed out
         * @throws InterruptedException if the thread is interrupted while waiting
         */
        public boolean awaitRelease(Duration timeout) throws InterruptedException {
            markReached();
            return latch.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        }

        void markReached() {
            reached.countDown();
        }

        void await() throws InterruptedException {
            markReached();
            latch.await();
        }

        boolean await(long nanos) throws InterruptedException {
            return latch.await(nanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * Registers an agent.
     *
     * @param id    the agent id
     * @param name  its display name
     * @param model its model, or {@code null}
     * @return this
     */
    public ScriptedAgentRunner agent(String id, String name, String model) {
        lock.lock();
        try {
            agents.put(id, new AgentDescriptor(id, name, model));
        } finally {
            lock.unlock();
        }
        return this;
    }

    /**
     * Sets the script of every turn that has no more specific one (by default: complete at once).
     *
     * @param script the script
     * @return this
     */
    public ScriptedAgentRunner defaultScript(TurnScript script) {
        lock.lock();
        try {
            defaultScript = Objects.requireNonNull(script, "script can not be null");
        } finally {
            lock.unlock();
        }
        return this;
    }

    /**
     * Sets the script of every turn of an agent that has no turn-specific one.
     *
     * @param agentId the agent
     * @param script  the script
     * @return this
     */
    public ScriptedAgentRunner script(String agentId, TurnScript script) {
        lock.lock();
        try {
            perAgent.put(agentId, Objects.requireNonNull(script, "script can not be null"));
        } finally {
            lock.unlock();
        }
        return this;
    }

    /**
     * Sets the script of turn {@code number} (from 1) of every task of an agent.
     *
     * @param agentId the agent
     * @param number  the turn number
     * @param script  the script
     * @return this
     */
    public ScriptedAgentRunner script(String agentId, int number, TurnScript script) {
        lock.lock();
        try {
            perAgentTurn.put(agentId + "#" + number, Objects.requireNonNull(script, "script can not be null"));
        } finally {
            lock.unlock();
        }
        return this;
    }

    /**
     * Sets the script of the turns matching a predicate (for example on the message text or the task
     * id). It takes precedence over every other kind of script; the latest matching registration wins.
     *
     * @param when   which turns
     * @param script the script
     * @return this
     */
    public ScriptedAgentRunner scriptWhen(Predicate<Turn> when, TurnScript script) {
        lock.lock();
        try {
            conditional.add(0, Map.entry(Objects.requireNonNull(when, "when can not be null"),
                    Objects.requireNonNull(script, "script can not be null")));
        } finally {
            lock.unlock();
        }
        return this;
    }

    @Override
    public Optional<AgentDescriptor> describe(String agentId) {
        describeCalls.incrementAndGet();
        lock.lock();
        try {
            return Optional.ofNullable(agents.get(agentId));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public TurnResult runTurn(Turn turn, TurnContext context) throws Exception {
        TurnScript script;
        lock.lock();
        try {
            started.add(turn);
            script = resolve(turn);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        TurnResult result = null;
        Throwable failure = null;
        try {
            result = script.run(turn, context);
            return result;
        } catch (Exception | Error e) {
            failure = e;
            throw e;
        } finally {
            boolean interrupted = Thread.currentThread().isInterrupted()
                    || failure instanceof InterruptedException
                    || InterruptTracker.consume();
            TurnOutcome outcome = new TurnOutcome(turn, result, failure, interrupted, context.isCancelled());
            lock.lock();
            try {
                finished.add(outcome);
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private TurnScript resolve(Turn turn) {
        for (Map.Entry<Predicate<Turn>, TurnScript> e : conditional) {
            if (e.getKey().test(turn)) {
                return e.getValue();
            }
        }
        TurnScript s = perAgentTurn.get(turn.agentId() + "#" + turn.number());
        if (s == null) {
            s = perAgent.get(turn.agentId());
        }
        return s != null ? s : defaultScript;
    }

    /** @return how many times {@link #describe(String)} was called */
    public int describeCalls() {
        return describeCalls.get();
    }

    /** @return every turn started so far, in start order */
    public List<Turn> turns() {
        lock.lock();
        try {
            return List.copyOf(started);
        } finally {
            lock.unlock();
        }
    }

    /**
     * @param taskId a task
     * @return the turns of that task started so far, in start order
     */
    public List<Turn> turns(String taskId) {
        lock.lock();
        try {
            return started.stream().filter(t -> t.taskId().equals(taskId)).toList();
        } finally {
            lock.unlock();
        }
    }

    /** @return every turn that ended so far, in the order they ended */
    public List<TurnOutcome> outcomes() {
        lock.lock();
        try {
            return List.copyOf(finished);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until turn {@code number} of a task has started.
     *
     * @param taskId  the task
     * @param number  the turn number, from 1
     * @param timeout the longest wait
     * @return the turn
     * @throws AssertionError if it did not start in time
     */
    public Turn awaitTurnStarted(String taskId, int number, Duration timeout) {
        return awaitValue(timeout, () -> started.stream()
                .filter(t -> t.taskId().equals(taskId) && t.number() == number).findFirst().orElse(null),
                "turn " + number + " of task " + taskId + " to start");
    }

    /**
     * Waits until the {@code n}-th turn (counted over every task, in start order) has started.
     *
     * @param n       how many turns must have started, from 1
     * @param timeout the longest wait
     * @return the {@code n}-th turn
     * @throws AssertionError if fewer started in time
     */
    public Turn awaitTurnsStarted(int n, Duration timeout) {
        return awaitValue(timeout, () -> started.size() >= n ? started.get(n - 1) : null,
                n + " turns to start (started: " + started.size() + ")");
    }

    /**
     * Waits until turn {@code number} of a task has ended (returned or thrown).
     *
     * @param taskId  the task
     * @param number  the turn number, from 1
     * @param timeout the longest wait
     * @return how it ended
     * @throws AssertionError if it did not end in time
     */
    public TurnOutcome awaitTurnFinished(String taskId, int number, Duration timeout) {
        return awaitValue(timeout, () -> finished.stream()
                .filter(o -> o.turn().taskId().equals(taskId) && o.turn().number() == number).findFirst()
                .orElse(null), "turn " + number + " of task " + taskId + " to end");
    }

    /**
     * Waits until {@code n} turns (over every task) have ended.
     *
     * @param n       how many
     * @param timeout the longest wait
     * @throws AssertionError if fewer ended in time
     */
    public void awaitTurnsFinished(int n, Duration timeout) {
        awaitValue(timeout, () -> finished.size() >= n ? Boolean.TRUE : null,
                n + " turns to end (ended: " + finished.size() + ")");
    }

    private interface Probe<T> {
        T get();
    }

    private <T> T awaitValue(Duration timeout, Probe<T> probe, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                T v = probe.get();
                if (v != null) {
                    return v;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + what, e);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Starts a step-by-step script.
     *
     * @return an empty script that completes at once
     */
    public static Steps steps() {
        return new Steps();
    }

    /** Remembers, per thread, that a wait step saw an interrupt it then ignored or handled. */
    private static final class InterruptTracker {
        private static final ThreadLocal<Boolean> SEEN = ThreadLocal.withInitial(() -> Boolean.FALSE);

        static void mark() {
            SEEN.set(Boolean.TRUE);
        }

        static boolean consume() {
            boolean seen = SEEN.get();
            SEEN.remove();
            return seen;
        }
    }

    /**
     * A script made of steps run in order, ended by completing (the default), asking for input or
     * failing. Build it once before the turns run; it can serve many turns.
     */
    public static final class Steps implements TurnScript {

        /** One step of a script. */
        @FunctionalInterface
        public interface Step {
            /**
             * Runs the step.
             *
             * @param turn    the turn
             * @param context the engine's context
             * @throws Exception to fail the turn
             */
            void run(Turn turn, TurnContext context) throws Exception;
        }

        /** The way a script ends. */
        @FunctionalInterface
        public interface Ending {
            /**
             * @param turn    the turn
             * @param context the engine's context
             * @return the turn's result
             * @throws Exception to fail the turn
             */
            TurnResult end(Turn turn, TurnContext context) throws Exception;
        }

        private final List<Step> steps = new ArrayList<>();
        private Ending ending = (turn, context) -> TurnResult.completed();

        private Steps() {
        }

        /**
         * Adds a custom step.
         *
         * @param step the step
         * @return this
         */
        public Steps then(Step step) {
            steps.add(Objects.requireNonNull(step, "step can not be null"));
            return this;
        }

        /**
         * Reports a session id.
         *
         * @param sessionId the session id
         * @return this
         */
        public Steps sessionId(String sessionId) {
            return then((turn, context) -> context.sessionId(sessionId));
        }

        /**
         * Emits one event.
         *
         * @param type the event type
         * @param data its data
         * @return this
         */
        public Steps emit(String type, Map<String, ?> data) {
            return then((turn, context) -> context.emit(type, data));
        }

        /**
         * Emits {@code n} events.
         *
         * @param n    how many
         * @param type their type
         * @param data the data of the i-th event (from 0)
         * @return this
         */
        public Steps emitMany(int n, String type, IntFunction<Map<String, ?>> data) {
            return then((turn, context) -> {
                for (int i = 0; i < n; i++) {
                    context.emit(type, data.apply(i));
                }
            });
        }

        /**
         * Waits until the gate is released, honouring interruption: an interrupt ends the turn with
         * {@link InterruptedException}, as a well-behaved runner does when cancelled.
         *
         * @param gate the gate
         * @return this
         */
        public Steps await(Gate gate) {
            return then((turn, context) -> {
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    InterruptTracker.mark();
                    throw e;
                }
            });
        }

        /**
         * Waits until the gate is released or the task is cancelled, polling
         * {@link TurnContext#isCancelled()} (every few milliseconds) and going on with the script either
         * way; an interrupt is noted and the wait continues until one of the two happens. This is a
         * runner that honours cancellation by the flag only.
         *
         * @param gate the gate
         * @return this
         */
        public Steps awaitOrCancelled(Gate gate) {
            return then((turn, context) -> {
                gate.markReached();
                while (!context.isCancelled()) {
                    try {
                        if (gate.await(TimeUnit.MILLISECONDS.toNanos(5))) {
                            return;
                        }
                    } catch (InterruptedException e) {
                        InterruptTracker.mark();
                    }
                }
            });
        }

        /**
         * Waits until the gate is released, ignoring interrupts and the cancellation flag, as a runner
         * stuck in uninterruptible I/O would. The thread's interrupt status is restored afterwards. As a
         * safety net for broken tests it gives up after {@code maxWait}, failing the turn.
         *
         * @param gate    the gate
         * @param maxWait the longest wait before failing the turn
         * @return this
         */
        public Steps awaitIgnoringInterrupts(Gate gate, Duration maxWait) {
            return then((turn, context) -> {
                gate.markReached();
                long deadline = System.nanoTime() + maxWait.toNanos();
                boolean interrupted = false;
                try {
                    while (true) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            throw new IllegalStateException("gate not released within " + maxWait);
                        }
                        try {
                            if (gate.await(left)) {
                                return;
                            }
                        } catch (InterruptedException e) {
                            interrupted = true;
                            InterruptTracker.mark();
                        }
                    }
                } finally {
                    if (interrupted) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
        }

        /**
         * Like {@link #awaitIgnoringInterrupts(Gate, Duration)} with a one-minute safety net.
         *
         * @param gate the gate
         * @return this
         */
        public Steps awaitIgnoringInterrupts(Gate gate) {
            return awaitIgnoringInterrupts(gate, Duration.ofMinutes(1));
        }

        /**
         * Ends the turn completed.
         *
         * @param result the result data
         * @return this, as a finished script
         */
        public Steps thenComplete(Map<String, Object> result) {
            ending = (turn, context) -> TurnResult.completed(result);
            return this;
        }

        /**
         * Ends the turn completed without result data.
         *
         * @return this, as a finished script
         */
        public Steps thenComplete() {
            ending = (turn, context) -> TurnResult.completed();
            return this;
        }

        /**
         * Ends the turn asking the user for input.
         *
         * @param question the question data
         * @return this, as a finished script
         */
        public Steps thenAskForInput(Map<String, Object> question) {
            ending = (turn, context) -> TurnResult.awaitingInput(question);
            return this;
        }

        /**
         * Ends the turn by throwing.
         *
         * @param failure what to throw (the same instance on every turn)
         * @return this, as a finished script
         */
        public Steps thenFail(Exception failure) {
            Objects.requireNonNull(failure, "failure can not be null");
            ending = (turn, context) -> {
                throw failure;
            };
            return this;
        }

        /**
         * Ends the turn with a custom ending.
         *
         * @param end the ending
         * @return this, as a finished script
         */
        public Steps thenEnd(Ending end) {
            ending = Objects.requireNonNull(end, "end can not be null");
            return this;
        }

        @Override
        public TurnResult run(Turn turn, TurnContext context) throws Exception {
            for (Step step : steps) {
                step.run(turn, context);
            }
            return ending.end(turn, context);
        }
    }
}
