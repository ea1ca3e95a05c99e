package dev.agenttasks.spi;

/**
 * Wake-ups from a store that can push changes made by other hosts (PostgreSQL {@code LISTEN/NOTIFY}),
 * registered with {@link TaskStore#addChangeListener(StoreChangeListener)}. A wake-up is a hint that
 * carries ids only: the engine always reads the store for the facts and keeps polling as the
 * fallback, so a lost, late or duplicated wake-up costs latency, never correctness. A store may call
 * the listener for its own host's writes too.
 *
 * <p>Methods are called on a store thread and must return quickly; the engine only schedules work.
 */
public interface StoreChangeListener {

    /**
     * Events were appended to a task (its status may have changed too).
     *
     * @param taskId the task
     */
    default void eventsAppended(String taskId) {
    }

    /**
     * A task became claimable: a {@code PENDING} task without an owner was inserted or released.
     *
     * @param taskId the task, or {@code null} if the store does not know which
     */
    default void taskQueued(String taskId) {
    }

    /**
     * A {@link RemoteRequest} was written for a task.
     *
     * @param taskId the task
     */
    default void requestAdded(String taskId) {
    }
}
