package dev.agenttasks.testkit;

import dev.agenttasks.spi.Turn;
import dev.agenttasks.testkit.ScriptedAgentRunner.TurnOutcome;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * What a {@link ScriptedAgentRunner} records: the turns it started and how each ended, with the waits for them
 * behind the runner's {@code await…} methods. Thread-safe.
 */
final class TurnLog {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final List<Turn> started = new ArrayList<>();
    private final List<TurnOutcome> finished = new ArrayList<>();

    void started(Turn turn) {
        locked(() -> started.add(turn));
    }

    void finished(TurnOutcome outcome) {
        locked(() -> finished.add(outcome));
    }

    List<Turn> turns() {
        return locked(() -> List.copyOf(started));
    }

    List<Turn> turns(String taskId) {
        return locked(() -> started.stream().filter(t -> t.taskId().equals(taskId)).toList());
    }

    List<TurnOutcome> outcomes() {
        return locked(() -> List.copyOf(finished));
    }

    /** Runs {@code action} under the lock and wakes the waits, which re-check what they wait for. */
    private <T> T locked(Supplier<T> action) {
        lock.lock();
        try {
            T result = action.get();
            changed.signalAll();
            return result;
        } finally {
            lock.unlock();
        }
    }

    Turn awaitStarted(String taskId, int number, Duration timeout) {
        return awaitValue(timeout, () -> started.stream()
                .filter(t -> t.taskId().equals(taskId) && t.number() == number).findFirst().orElse(null),
                "turn " + number + " of task " + taskId + " to start");
    }

    Turn awaitStarted(int n, Duration timeout) {
        return awaitValue(timeout, () -> started.size() >= n ? started.get(n - 1) : null,
                n + " turns to start (started: " + started.size() + ")");
    }

    TurnOutcome awaitFinished(String taskId, int number, Duration timeout) {
        return awaitValue(timeout, () -> finished.stream()
                .filter(o -> o.turn().taskId().equals(taskId) && o.turn().number() == number).findFirst()
                .orElse(null), "turn " + number + " of task " + taskId + " to end");
    }

    void awaitFinished(int n, Duration timeout) {
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
}
