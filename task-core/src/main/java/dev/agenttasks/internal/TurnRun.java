package dev.agenttasks.internal;

import java.util.Map;
import java.util.concurrent.Future;
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
    volatile Future<?> future;
    volatile ScheduledFuture<?> timeout;
    final AtomicBoolean slotReleased = new AtomicBoolean();
    /** The message of this turn, or null. */
    dev.agenttasks.TaskMessage message;
    /** True if this turn resumes one a previous host was running. */
    boolean resumed;

    TurnRun(Engine engine, TaskState state, int number) {
        this.engine = engine;
        this.state = state;
        this.number = number;
    }

    @Override
    public String taskId() {
        return state.id;
    }

    @Override
    public void emit(String type, Map<String, ?> data) {
        engine.emit(this, type, data);
    }

    @Override
    public void sessionId(String sessionId) {
        engine.reportSession(this, sessionId);
    }

    @Override
    public java.util.List<dev.agenttasks.TaskEvent> events(long afterSeq, int limit) {
        return engine.turnEvents(this, afterSeq, limit);
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }
}
