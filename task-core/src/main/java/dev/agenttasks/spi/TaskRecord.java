package dev.agenttasks.spi;

import dev.agenttasks.Task;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A task as a store keeps it: the public snapshot plus what the engine needs to run it.
 *
 * @param task       the snapshot; its {@link Task#lastSeq()} is set to {@code lastSeq}
 * @param options    the runner options of the request (JSON-compatible, immutable)
 * @param timeoutMillis the turn timeout of the request in milliseconds, or 0 for the manager default
 * @param owner      the host that runs it now, or {@code null}
 * @param leaseUntil until when the owner's claim holds, or {@code null}
 * @param lastSeq    the highest event seq stored for the task (0 if none); maintained by the store,
 *                   ignored on writes
 */
public record TaskRecord(Task task, Map<String, Object> options, long timeoutMillis, String owner,
                         Instant leaseUntil, long lastSeq) {

    /**
     * Requires the task; normalises null options; gives the task this record's {@code lastSeq}.
     *
     * @param task the snapshot
     * @param options the runner options of the request (JSON-compatible, immutable)
     * @param timeoutMillis the turn timeout of the request in milliseconds, or 0 for the manager default
     * @param owner the host that runs it now, or {@code null}
     * @param leaseUntil until when the owner's claim holds, or {@code null}
     * @param lastSeq the highest event seq stored for the task (0 if none); maintained by the store, ignored on writes
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

    /** @return the task id */
    public String id() {
        return task.id();
    }

    /**
     * @param t new snapshot
     * @return a copy with it
     */
    public TaskRecord withTask(Task t) {
        return new TaskRecord(t, options, timeoutMillis, owner, leaseUntil, lastSeq);
    }

    /**
     * @param newOwner host
     * @param until lease end
     * @return a copy with them
     */
    public TaskRecord withOwner(String newOwner, Instant until) {
        return new TaskRecord(task, options, timeoutMillis, newOwner, until, lastSeq);
    }

    /**
     * @param seq highest seq
     * @return a copy with it
     */
    public TaskRecord withLastSeq(long seq) {
        return new TaskRecord(task, options, timeoutMillis, owner, leaseUntil, seq);
    }
}
