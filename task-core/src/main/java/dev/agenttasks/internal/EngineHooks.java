package dev.agenttasks.internal;

import dev.agenttasks.spi.StoreOp;

/**
 * Points where tests pause the engine to open a race window on purpose. Production code runs the no-op
 * {@link #NONE}; each method is called on the thread named in its description and must not throw.
 */
interface EngineHooks {
    /** The hooks that do nothing. */
    EngineHooks NONE = new EngineHooks() {
    };

    /** Writer thread: one op of a committed unit was applied to the task's in-memory state. */
    default void afterApply(TaskState s, StoreOp op) {
    }

    /** Turn thread: a turn ended and the task's next turn was begun in the same slot, not yet launched. */
    default void betweenTurns(TaskState s) {
    }

    /** Turn thread: the turn's thread is about to return to the executor. */
    default void turnThreadDone(TaskState s) {
    }

    /** Caller thread: a task was read from the store to be loaded into memory. */
    default void afterStoreRead(String taskId) {
    }

    /** Caller thread: a unit passed the writer's open check and is about to be queued. */
    default void beforeEnqueue() {
    }

    /** Writer thread: a batch was taken from the queue and is about to be checked and written. */
    default void beforeCommit() {
    }

    /** Caller thread: a flush marker is about to be queued. */
    default void beforeFlush() {
    }

    /** Timer thread: a cancelled turn's grace ended while its thread still ran; its slot is about to be released. */
    default void graceExpired(TaskState s) {
    }
}
