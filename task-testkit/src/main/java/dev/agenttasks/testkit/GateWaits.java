package dev.agenttasks.testkit;

import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import dev.agenttasks.testkit.ScriptedAgentRunner.Steps.Step;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The wait steps of {@link ScriptedAgentRunner.Steps}: how a scripted turn waits for a {@link Gate}, honouring
 * interruption, polling {@link TurnContext#isCancelled()}, or ignoring both. An interrupt a step sees is noted in
 * {@link InterruptTracker}.
 */
final class GateWaits {

    private GateWaits() {
    }

    /** @return a step that waits for the gate; an interrupt ends the turn with {@link InterruptedException} */
    static Step await(Gate gate) {
        return (turn, context) -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                InterruptTracker.mark();
                throw e;
            }
        };
    }

    /** @return a step that waits for the gate or the cancellation flag, noting and otherwise ignoring interrupts */
    static Step awaitOrCancelled(Gate gate) {
        return (turn, context) -> {
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
        };
    }

    /** @return a step that waits for the gate up to {@code maxWait}, ignoring interrupts and then restoring them */
    static Step awaitIgnoringInterrupts(Gate gate, Duration maxWait) {
        return (turn, context) -> {
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
        };
    }
}
