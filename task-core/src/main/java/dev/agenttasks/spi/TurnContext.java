package dev.agenttasks.spi;

import dev.agenttasks.TaskEvent;

import java.util.List;
import java.util.Map;

/**
 * The runner's handle on its task during a turn. Thread-safe: a runner may emit from several threads.
 */
public interface TurnContext {

    /** @return the task id */
    String taskId();

    /**
     * Appends an event to the task's log. Returns without waiting for the store; the event is
     * committed before any subscriber sees it. Blocks only if the store falls far behind.
     *
     * @param type the event type, not blank and not {@code "status"} (reserved for the engine)
     * @param data JSON-compatible data (strings, numbers, booleans, null, lists, maps with string keys);
     *             {@code null} is recorded as an empty object
     * @throws dev.agenttasks.InvalidRequestException   if the type or data is invalid
     * @throws dev.agenttasks.PayloadTooLargeException if the data is over the event size limit
     */
    void emit(String type, Map<String, ?> data);

    /**
     * Records the agent's session id on the task, so a follow-up turn or a resume can continue the
     * same conversation.
     *
     * @param sessionId the session id
     */
    void sessionId(String sessionId);

    /** @return true once the task has been cancelled (or timed out); the runner should stop promptly */
    boolean isCancelled();

    /**
     * Reads this task's own event log, oldest first, so a runner can rebuild its state (for example a
     * chat memory) from the log instead of holding it in memory across turns and restarts.
     *
     * <p>Everything recorded before the call is committed first and therefore visible: the events of
     * earlier turns, this turn's {@code status} and {@code user_message} events, and the events this
     * turn emitted. Page through a long log by passing the last seq read as {@code afterSeq}.
     *
     * <p>The default implementation throws {@link UnsupportedOperationException}; the manager's
     * contexts implement it.
     *
     * @param afterSeq return events with a seq greater than this, {@code >= 0}
     * @param limit    most events to return, {@code >= 1}; a context may return fewer (a page), but
     *                 returns none only at the end of the log
     * @return the events in seq order
     * @throws dev.agenttasks.InvalidRequestException if {@code afterSeq} is negative or {@code limit} below 1
     * @throws dev.agenttasks.TaskStoreException      if the store can not be read
     * @throws UnsupportedOperationException          if this context can not read the log
     */
    default List<TaskEvent> events(long afterSeq, int limit) {
        throw new UnsupportedOperationException("this TurnContext can not read the task's event log");
    }
}
