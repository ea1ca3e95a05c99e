package dev.agenttasks.spi;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;

import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
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
 *
 * <p>Several managers (hosts) may share one store: each heartbeats ({@link #heartbeat}), claims
 * queued tasks ({@link #claim}), takes over the tasks of dead hosts ({@link #orphans},
 * {@link #takeOver}) and conditions its writes on its claim ({@link StoreOp.Fence}); other hosts
 * reach a task's owner through {@link RemoteRequest requests}. The protocol is in
 * {@code docs/multi-host.md}; the testkit's {@code MultiHostContract} checks a store against it.
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
     * The last stored event seq of each of the given tasks, read together. The engine calls it once per
     * event-poll interval with every task that subscribers on this host follow from the store (tasks
     * running on another host; {@code docs/multi-host.md}, "Events on any host") and reads
     * {@link #events(String, long, int) events} only of the tasks whose seq moved past what their
     * subscribers have delivered; a task missing from the result ends its subscribers as deleted.
     *
     * <p>The result maps each given task that exists to its {@link TaskRecord#lastSeq()} (0 if it has no
     * events); a task that does not exist (deleted, or never created) is left out, which is not an
     * error. Each value is at least the seq of every event whose write completed before the call
     * began: a read-committed view, one statement or several, is enough.
     *
     * <p>The default calls {@link #task(String)} once per id, so every store works unchanged. A store that
     * can answer in one query (an {@code IN} list or an array parameter, in bounded chunks) should
     * override it: with many remote subscribers, per-task reads are most of an idle host's store load.
     *
     * @param taskIds the tasks, without nulls; may be empty
     * @return a new map from the id of each existing task to its last stored event seq
     */
    default Map<String, Long> lastSeqs(Collection<String> taskIds) {
        Map<String, Long> out = new HashMap<>();
        for (String id : taskIds) {
            task(id).ifPresent(r -> out.put(id, r.lastSeq()));
        }
        return out;
    }

    /**
     * @param taskId the task
     * @return its pending messages in the order they were added
     */
    List<PendingMessage> pendingMessages(String taskId);

    /** @return the number of tasks per status (statuses without tasks may be missing) */
    Map<TaskStatus, Long> countByStatus();

    /**
     * Removes a task, its events, its messages, its requests and its idempotency keys.
     *
     * @param taskId the task
     * @return true if it existed
     */
    boolean delete(String taskId);

    /**
     * Retention: removes up to {@code limit} terminal tasks completed before {@code completedBefore},
     * with their events, messages, requests and idempotency keys.
     *
     * @param completedBefore the cut-off
     * @param limit           most tasks to remove in this call
     * @return how many tasks were removed
     */
    int purgeTerminal(Instant completedBefore, int limit);

    // ------------------------------------------------------------------ several hosts

    /**
     * Records that a host is alive: creates its row, or sets its last heartbeat to {@code now}. The
     * engine calls it once when the manager starts and then once per heartbeat interval (one write per
     * host per interval, never per task).
     *
     * @param hostId the host
     * @param now    the host's clock
     */
    void heartbeat(String hostId, Instant now);

    /**
     * Removes a host's row (the host closed cleanly). Its unfinished tasks become
     * {@link #orphans orphans} at once, so a live host takes them over at its next sweep instead of
     * after the dead-host timeout. Removing a missing host is not an error.
     *
     * @param hostId the host
     */
    void removeHost(String hostId);

    /**
     * Finds tasks whose claim is held by a dead host: {@code PENDING} or {@code RUNNING} tasks with a
     * non-null owner whose host row is missing or has a last heartbeat before {@code heartbeatBefore}.
     *
     * @param heartbeatBefore hosts not heard of since before this are dead
     * @param limit           most tasks to return
     * @return the tasks, oldest first ({@code createdAt}, then id)
     */
    List<TaskRecord> orphans(Instant heartbeatBefore, int limit);

    /**
     * Claims queued work atomically: takes up to {@code max} {@code PENDING} tasks without an owner,
     * oldest first ({@code createdAt}, then id), sets their owner to {@code hostId} and increments their
     * epoch, and returns them as stored after the change. Two concurrent claims never return the same
     * task. PostgreSQL: {@code UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT ?)
     * RETURNING …}; SQLite: inside {@code BEGIN IMMEDIATE}.
     *
     * @param hostId the claiming host
     * @param max    most tasks to claim (at least 1)
     * @return the claimed tasks, oldest first; empty if none is queued
     */
    List<TaskRecord> claim(String hostId, int max);

    /**
     * Changes a task's owner if, and only if, it still has {@code expectedOwner} and
     * {@code expectedEpoch} (compare-and-set); the epoch is incremented. Used to take over a dead
     * host's task, to release one ({@code newOwner == null}), and by a host that needs to act on a task
     * no live host owns. The status and the event log are untouched.
     *
     * @param taskId        the task
     * @param expectedOwner the owner it must have, or {@code null} for an unowned task
     * @param expectedEpoch the epoch it must have
     * @param newOwner      the new owner, or {@code null} to release the task
     * @return the task as stored after the change, or empty if it is missing or its owner or epoch
     *         differed (nothing changed)
     */
    Optional<TaskRecord> takeOver(String taskId, String expectedOwner, long expectedEpoch, String newOwner);

    /**
     * The requests for tasks the host owns now ({@link TaskRecord#owner()} equals {@code hostId}), in
     * the order they were added. Requests of tasks the host does not own are not returned: they wait
     * for whoever owns the task next.
     *
     * @param hostId the host
     * @param limit  most requests to return
     * @return the requests
     */
    List<RemoteRequest> requests(String hostId, int limit);

    /**
     * @param key an idempotency key as written by {@link StoreOp.PutKey}
     * @return the stored key, or empty
     */
    Optional<IdempotencyKey> idempotencyKey(String key);

    /**
     * Registers a listener for wake-ups about other hosts' writes (PostgreSQL: {@code LISTEN/NOTIFY}
     * carrying ids only). Optional: the default does nothing and returns false; the engine polls the
     * store in any case, so wake-ups only shorten latency.
     *
     * @param listener the listener
     * @return true if the store will call it
     */
    default boolean addChangeListener(StoreChangeListener listener) {
        return false;
    }

    /**
     * Unregisters a listener; unknown listeners are ignored.
     *
     * @param listener the listener
     */
    default void removeChangeListener(StoreChangeListener listener) {
    }

    /** Releases the store's resources. Idempotent. */
    @Override
    void close();

    /** @return a new, empty, thread-safe store that keeps everything in memory (no durability) */
    static TaskStore inMemory() {
        return new InMemoryTaskStore();
    }
}
