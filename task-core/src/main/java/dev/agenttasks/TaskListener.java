package dev.agenttasks;

/**
 * Callbacks for metrics and auditing. Every method has an empty default. Listeners run on engine
 * threads and must be quick; an exception thrown by a listener is caught and logged and never
 * affects a task.
 */
public interface TaskListener {

    /** @param task the task just created (status {@code PENDING}) */
    default void taskCreated(Task task) {
    }

    /**
     * @param task the task whose turn just started (status {@code RUNNING})
     * @param turn the turn number, from 1
     */
    default void turnStarted(Task task, int turn) {
    }

    /**
     * @param task the task after the change
     * @param from its previous status
     */
    default void statusChanged(Task task, TaskStatus from) {
    }

    /**
     * A turn failed transiently and will run again (see {@link RetryPolicy}); called once its
     * {@code retry} event is committed.
     *
     * @param task          the task, now {@code PENDING}
     * @param turn          the turn that failed
     * @param failedAttempt the attempt that failed, from 1
     * @param nextAttemptAt when the next attempt starts (or later, if no slot is free then)
     * @param error         the failure's message
     */
    default void turnRetrying(Task task, int turn, int failedAttempt, java.time.Instant nextAttemptAt, String error) {
    }

    /** @param task the task that just reached a terminal status */
    default void taskFinished(Task task) {
    }

    /** @param event an event that has just been committed to the store */
    default void eventAppended(TaskEvent event) {
    }

    /**
     * Called while the manager starts, once for every task a previous host left {@code PENDING} or
     * {@code RUNNING}.
     *
     * @param task   the task as it was found
     * @param action what the {@link RecoveryPolicy} decided
     */
    default void taskRecovered(Task task, RecoveryPolicy.Action action) {
    }

    /**
     * @param taskId the task whose write failed, or {@code null} if no single task was concerned
     * @param error  the store failure
     */
    default void storeFailed(String taskId, Throwable error) {
    }
}
