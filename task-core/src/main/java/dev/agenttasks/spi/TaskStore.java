package dev.agenttasks.spi;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where tasks, their event logs and their pending messages live.
 *
 * <p>A store is deliberately simple: the engine holds every rule (seq assignment, status machine,
 * batching, commit-then-publish) and gives the store ordered batches of writes. Every store must pass
 * the contract suite in {@code task-testkit} ({@code TaskStoreContract}). Implementations must be
 * thread-safe; {@link #write(List)} is called by one engine thread at a time, reads from many.
 * Failures are thrown as {@link dev.agenttasks.TaskStoreException} (or a subclass).
 */
public interface TaskStore extends AutoCloseable {

    /**
     * Applies the ops in order, atomically and durably (as durable as the store promises).
     *
     * @param ops the writes, in order; may concern several tasks
     * @throws StoreConflictException if an op's condition fails (nothing of the batch is applied)
     * @throws dev.agenttasks.TaskStoreException on any other failure (nothing of the batch is applied)
     */
    void write(List<StoreOp> ops);

    /**
     * @param taskId a task id
     * @return the task with its current {@link TaskRecord#lastSeq()}, or empty
     */
    Optional<TaskRecord> task(String taskId);

    /**
     * Lists tasks matching the query's filters (statuses, agent id, case-insensitive title substring),
     * newest first ({@code createdAt} descending, then id descending), strictly after {@code after}.
     * The query's {@code cursor} string is ignored; the engine decodes it into {@code after}.
     *
     * @param query the filters
     * @param after the position to start after, or {@code null} for the start
     * @param limit most tasks to return
     * @return the tasks
     */
    List<TaskRecord> list(TaskQuery query, TaskCursor after, int limit);

    /**
     * @param statuses statuses to find
     * @return every task in one of them, oldest first (used by recovery and queueing)
     */
    List<TaskRecord> findByStatus(Set<TaskStatus> statuses);

    /**
     * @param taskId   the task
     * @param afterSeq return events with a seq greater than this
     * @param limit    most events to return
     * @return the events in seq order
     */
    List<TaskEvent> events(String taskId, long afterSeq, int limit);

    /**
     * @param taskId the task
     * @return its pending messages in the order they were added
     */
    List<PendingMessage> pendingMessages(String taskId);

    /** @return the number of tasks per status (statuses without tasks may be missing) */
    Map<TaskStatus, Long> countByStatus();

    /**
     * Removes a task, its events and its messages.
     *
     * @param taskId the task
     * @return true if it existed
     */
    boolean delete(String taskId);

    /**
     * Retention: removes up to {@code limit} terminal tasks completed before {@code completedBefore},
     * with their events and messages.
     *
     * @param completedBefore the cut-off
     * @param limit           most tasks to remove in this call
     * @return how many tasks were removed
     */
    int purgeTerminal(Instant completedBefore, int limit);

    /** Releases the store's resources. Idempotent. */
    @Override
    void close();

    /** @return a new, empty, thread-safe store that keeps everything in memory (no durability) */
    static TaskStore inMemory() {
        return new InMemoryTaskStore();
    }
}
