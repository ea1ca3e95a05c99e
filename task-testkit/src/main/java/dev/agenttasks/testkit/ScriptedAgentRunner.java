package dev.agenttasks.testkit;

import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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

    private final ScriptTable scripts = new ScriptTable();
    private final TurnLog log = new TurnLog();
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
        scripts.agent(id, name, model);
        return this;
    }

    /**
     * Sets the script of every turn that has no more specific one (by default: complete at once).
     *
     * @param script the script
     * @return this
     */
    public ScriptedAgentRunner defaultScript(TurnScript script) {
        scripts.defaultScript(script);
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
        scripts.script(agentId, script);
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
        scripts.script(agentId, number, script);
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
        scripts.scriptWhen(when, script);
        return this;
    }

    @Override
    public Optional<AgentDescriptor> describe(String agentId) {
        describeCalls.incrementAndGet();
        return scripts.agent(agentId);
    }

    @Override
    public TurnResult runTurn(Turn turn, TurnContext context) throws Exception {
        TurnScript script = scripts.resolve(turn);
        log.started(turn);
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
            log.finished(new TurnOutcome(turn, result, failure, interrupted, context.isCancelled()));
        }
    }

    /** @return how many times {@link #describe(String)} was called */
    public int describeCalls() {
        return describeCalls.get();
    }

    /** @return every turn started so far, in start order */
    public List<Turn> turns() {
        return log.turns();
    }

    /**
     * @param taskId a task
     * @return the turns of that task started so far, in start order
     */
    public List<Turn> turns(String taskId) {
        return log.turns(taskId);
    }

    /** @return every turn that ended so far, in the order they ended */
    public List<TurnOutcome> outcomes() {
        return log.outcomes();
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
        return log.awaitStarted(taskId, number, timeout);
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
        return log.awaitStarted(n, timeout);
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
        return log.awaitFinished(taskId, number, timeout);
    }

    /**
     * Waits until {@code n} turns (over every task) have ended.
     *
     * @param n       how many
     * @param timeout the longest wait
     * @throws AssertionError if fewer ended in time
     */
    public void awaitTurnsFinished(int n, Duration timeout) {
        log.awaitFinished(n, timeout);
    }

    /**
     * Starts a step-by-step script.
     *
     * @return an empty script that completes at once
     */
    public static Steps steps() {
        return new Steps();
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
            return then(GateWaits.await(gate));
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
            return then(GateWaits.awaitOrCancelled(gate));
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
            return then(GateWaits.awaitIgnoringInterrupts(gate, maxWait));
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
