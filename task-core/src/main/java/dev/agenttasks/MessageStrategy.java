package dev.agenttasks;

/**
 * What {@link TaskManager#sendMessage(String, TaskMessage, SendOptions)} does with a message that
 * arrives while the task is busy: a turn runs, the task is queued for one ({@code PENDING}), or it waits
 * for a retry. A task waiting for input ({@code WAITING_FOR_INPUT}) is not busy: every strategy starts
 * its next turn with the message. Set per manager with {@link TaskManager.Builder#messageStrategy}
 * (default {@link #ENQUEUE}) or per call. Like LangGraph's multitask strategies.
 */
public enum MessageStrategy {
    /**
     * The message is stored and runs as a turn of its own after the turns before it
     * ({@link SendResult#QUEUED}). The default.
     */
    ENQUEUE,
    /**
     * A busy task refuses the message with {@link TaskBusyException}; nothing is stored.
     */
    REJECT,
    /**
     * A running turn is interrupted (recorded as a {@code turn_interrupted} event; the task is not
     * cancelled) and the message is stored to run as a new turn, after any messages queued before it;
     * a pending retry is dropped the same way ({@link SendResult#INTERRUPTED_TURN}). A task merely queued
     * for a slot has nothing to interrupt: the message is queued ({@link SendResult#QUEUED}). On a task
     * another host runs, the message is stored with an interrupt request and the owning host interrupts
     * the turn at its next poll or wake-up (docs/multi-host.md); the call returns at once with
     * {@link SendResult#INTERRUPTED_TURN} if the task was {@code RUNNING} when the message was stored.
     */
    INTERRUPT
}
