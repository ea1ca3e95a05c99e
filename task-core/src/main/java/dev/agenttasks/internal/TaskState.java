package dev.agenttasks.internal;

import dev.agenttasks.Task;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.TaskRecord;

import java.util.ArrayDeque;

/**
 * The engine's in-memory state of one unfinished task. Fields are guarded by the object's monitor,
 * except the {@code committed*} fields and the tail, which the writer thread publishes.
 */
final class TaskState {
    final String id;
    /** The engine's current view (may be ahead of the store by the writes in flight). */
    TaskRecord record;
    /** The next seq to assign. */
    long nextSeq;
    /** Messages stored and not yet handed to a turn, in order. */
    final ArrayDeque<PendingMessage> inbox = new ArrayDeque<>();
    /** Ids of the messages this host handed to turns (their removal may not be committed yet). */
    final java.util.Set<String> consumed = new java.util.HashSet<>(4);
    /** The message of the first turn, recorded at creation as a {@code user_message} event; null after it ran. */
    dev.agenttasks.TaskMessage firstMessage;
    /** The unit ending the last turn's task ({@link Finishing}); in flight until it is done. */
    java.util.concurrent.CompletableFuture<Void> finishing;
    /** The turn in progress, or null. */
    TurnRun turn;
    /** True while waiting in the engine's queue for a concurrency slot. */
    boolean queued;
    /** True if the next turn resumes a turn a previous host was running. */
    boolean resumeNext;
    /** Turns started so far. */
    int turns;
    /** Incremented when a write failed: queued writes of older generations are dropped. */
    int writeGeneration;
    /** True once the task could not even record its failure; it is given up. */
    boolean dead;
    boolean deleted;
    /** The retry this task waits for (status PENDING, no slot), or null; see {@link Retries}. */
    Retries.Pending retry;
    /** The task's own retry policy from its request, or null for the manager's; valid once {@code retryPolicyKnown}. */
    dev.agenttasks.RetryPolicy retryPolicy;
    boolean retryPolicyKnown;

    /**
     * The claim the store holds for the task as far as this host knows: the owner and epoch its next
     * batch is fenced on ({@link Fences}). Set when the task is inserted, claimed, taken over or loaded;
     * the writer thread updates the owner after a committed row update changes it.
     */
    volatile String fenceOwner;
    volatile long fenceEpoch;
    /** True once this host let go of the task (it waits, another host took it, it was deleted elsewhere). */
    volatile boolean detached;

    // published by the writer thread
    volatile Task committedTask;
    volatile long committedSeq;
    final EventTail tail;

    TaskState(TaskRecord record, int tailCapacity, long tailBytes) {
        this.id = record.id();
        this.record = record;
        this.committedTask = record.task();
        this.committedSeq = record.lastSeq();
        this.nextSeq = record.lastSeq() + 1;
        this.fenceOwner = record.owner();
        this.fenceEpoch = record.epoch();
        this.tail = new EventTail(tailCapacity, tailBytes);
    }

    Task task() {
        return record.task();
    }
}
