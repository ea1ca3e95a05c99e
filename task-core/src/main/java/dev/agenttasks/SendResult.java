package dev.agenttasks;

/** What {@link TaskManager#sendMessage(String, TaskMessage)} did with a message. */
public enum SendResult {
    /** The task was waiting for input; the message starts (or is queued to start) its next turn. */
    STARTED_TURN,
    /**
     * The task is running (or pending); the message is stored and becomes the next turn when the
     * current one ends.
     */
    QUEUED,
    /**
     * Sent with {@link MessageStrategy#INTERRUPT}: the running turn (or the pending retry of a failed
     * one) was interrupted; the message is stored and becomes a new turn. For a task running on another
     * host the interrupt is requested: that host stops the turn at its next poll or wake-up.
     */
    INTERRUPTED_TURN
}
