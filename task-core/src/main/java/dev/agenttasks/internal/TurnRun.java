package dev.agenttasks.internal;

import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.agenttasks.spi.TurnContext;

/** One turn in progress: the handle the engine keeps and the context the runner gets. */
final class TurnRun implements TurnContext {
    final Engine engine;
    final TaskState state;
    final int number;
    /** Set when the turn is cancelled, timed out or abandoned at shutdown; the runner may poll it. */
    volatile boolean cancelled;
    /** Set once the engine stops listening to this turn (it ended, or was cancelled). */
    volatile boolean closed;
    volatile ScheduledFuture<?> timeout;
    /** The thread running the turn, while it runs; guarded by this object's monitor. */
    private Thread thread;
    private boolean stopRequested;
    private boolean returned;
    final AtomicBoolean slotReleased = new AtomicBoolean();
    /** The message of this turn, or null. */
    dev.agenttasks.TaskMessage message;
    /** True if this turn resumes one a previous host was running. */
    boolean resumed;
    /** Which attempt of the turn this is, from 1 (above 1: a retry, see {@link Retries}). */
    int attempt = 1;
    /** The seq of this turn's {@code user_message} event, or 0 (turn 1's, or none). */
    long messageSeq;

    TurnRun(Engine engine, TaskState state, int number) {
        this.engine = engine;
        this.state = state;
        this.number = number;
    }

    /** Turn thread: the turn starts. @return false if it was stopped before it started */
    synchronized boolean enter() {
        if (stopRequested) {
            returned = true;
            return false;
        }
        thread = Thread.currentThread();
        return true;
    }

    /** Turn thread: the runner returned; an interrupt sent for this turn does not reach the next job of the thread. */
    synchronized void exit() {
        thread = null;
        returned = true;
        Thread.interrupted();
    }

    /** Interrupts the turn's thread if it runs, or keeps it from starting. */
    synchronized void interrupt() {
        stopRequested = true;
        if (thread != null) {
            thread.interrupt();
        }
    }

    /** @return true once the turn's thread has returned (or will never run it) */
    synchronized boolean hasReturned() {
        return returned;
    }

    @Override
    public String taskId() {
        return state.id;
    }

    @Override
    public void emit(String type, Map<String, ?> data) {
        engine.callbacks.emit(this, type, data);
    }

    @Override
    public void sessionId(String sessionId) {
        engine.callbacks.reportSession(this, sessionId);
    }

    @Override
    public java.util.List<dev.agenttasks.TaskEvent> events(long afterSeq, int limit) {
        return engine.callbacks.events(this, afterSeq, limit);
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }
}
