package dev.agenttasks.spi;

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
}
