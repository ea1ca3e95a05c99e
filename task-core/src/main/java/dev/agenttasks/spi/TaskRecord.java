package dev.agenttasks.spi;

import dev.agenttasks.Task;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A task as a store keeps it: the public snapshot plus what the engine needs to run it and to share
 * it between hosts (see {@code docs/multi-host.md}).
 *
 * <p>Ownership: {@code owner} is the host that holds the task's claim. It is set while the task is
 * claimed ({@code PENDING} claimed by a host, or {@code RUNNING}) and {@code null} while the task is
 * queued unclaimed, {@code WAITING_FOR_INPUT} or finished. {@code epoch} is the fencing token: the
 * store increments it on every {@link TaskStore#claim claim} and {@link TaskStore#takeOver takeover},
 * and writes conditioned by a {@link StoreOp.Fence} fail once it moved on.
 *
 * @param task       the snapshot; its {@link Task#lastSeq()} is set to {@code lastSeq}
 * @param options    the runner options of the request (JSON-compatible, immutable)
 * @param timeoutMillis the turn timeout of the request in milliseconds, or 0 for the manager default
 * @param owner      the host that holds the task's claim, or {@code null}
 * @param leaseUntil not used by the engine since the multi-host protocol (host liveness is by
 *                   heartbeat, {@link TaskStore#heartbeat}); stores keep what is written, usually
 *                   {@code null}
 * @param lastSeq    the highest event seq stored for the task (0 if none); maintained by the store,
 *                   ignored on writes
 * @param epoch      the fencing token: 0 for a task never claimed; maintained by the store on
 *                   {@link TaskStore#claim claim} and {@link TaskStore#takeOver takeover}, taken as
 *                   given by {@link StoreOp.InsertTask}, ignored by {@link StoreOp.UpdateTask}
 */
public record TaskRecord(Task task, Map<String, Object> options, long timeoutMillis, String owner,
                         Instant leaseUntil, long lastSeq, long epoch) {

    /**
     * Requires the task; normalises null options; gives the task this record's {@code lastSeq}.
     *
     * @param task the snapshot
     * @param options the runner options of the request (JSON-compatible, immutable)
     * @param timeoutMillis the turn timeout of the request in milliseconds, or 0 for the manager default
     * @param owner the host that holds the task's claim, or {@code null}
     * @param leaseUntil not used by the engine; stores keep what is written
     * @param lastSeq the highest event seq stored for the task (0 if none); maintained by the store, ignored on writes
     * @param epoch the fencing token (0 for a task never claimed)
     */
    public TaskRecord {
        Objects.requireNonNull(task, "task");
        options = options == null ? Map.of() : options;
        if (task.lastSeq() != lastSeq && lastSeq >= 0) {
            task = new Task(task.id(), task.agentId(), task.sessionId(), task.status(), task.title(), task.model(),
                    task.createdAt(), task.startedAt(), task.completedAt(), task.error(), task.workDir(),
                    task.metadata(), lastSeq);
        }
    }

    /**
     * A record with epoch 0 (the form before the multi-host protocol).
     *
     * @param task the snapshot
     * @param options the runner options of the request
     * @param timeoutMillis the turn timeout of the request in milliseconds, or 0 for the manager default
     * @param owner the host that holds the task's claim, or {@code null}
     * @param leaseUntil not used by the engine; stores keep what is written
     * @param lastSeq the highest event seq stored for the task (0 if none)
     */
    public TaskRecord(Task task, Map<String, Object> options, long timeoutMillis, String owner, Instant leaseUntil,
                      long lastSeq) {
        this(task, options, timeoutMillis, owner, leaseUntil, lastSeq, 0);
    }

    /** @return the task id */
    public String id() {
        return task.id();
    }

    /**
     * @param t new snapshot
     * @return a copy with it
     */
    public TaskRecord withTask(Task t) {
        return new TaskRecord(t, options, timeoutMillis, owner, leaseUntil, lastSeq, epoch);
    }

    /**
     * @param newOwner host
     * @param until lease end
     * @return a copy with them (same epoch)
     */
    public TaskRecord withOwner(String newOwner, Instant until) {
        return new TaskRecord(task, options, timeoutMillis, newOwner, until, lastSeq, epoch);
    }

    /**
     * @param seq highest seq
     * @return a copy with it
     */
    public TaskRecord withLastSeq(long seq) {
        return new TaskRecord(task, options, timeoutMillis, owner, leaseUntil, seq, epoch);
    }

    /**
     * @param newOwner the host that holds the claim, or {@code null}
     * @param newEpoch the fencing token
     * @return a copy with them
     */
    public TaskRecord withClaim(String newOwner, long newEpoch) {
        return new TaskRecord(task, options, timeoutMillis, newOwner, leaseUntil, lastSeq, newEpoch);
    }
}
