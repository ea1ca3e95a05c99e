package dev.agenttasks.internal;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one transition path: every status a task ever has is set here, after {@link TaskStatus#canMoveTo}
 * allowed it, together with the {@code status} event that records it, as one unit of writes. Also the
 * only place that builds a task row update ({@link StoreOp.UpdateTask}); an architecture test keeps it so.
 */
final class Lifecycle {

    /** A task row after a change and the ops that record it. */
    record Step(TaskRecord record, List<StoreOp> ops) {
    }

    private Lifecycle() {
    }

    /**
     * The row and first event of a new task (status {@code PENDING}).
     *
     * @param record the new row, status {@code PENDING}
     * @param seq    the seq of its first event
     * @return the insert and the status event
     */
    static List<StoreOp> created(TaskRecord record, long seq) {
        if (record.task().status() != TaskStatus.PENDING) {
            throw new IllegalStateException("a task starts PENDING, not " + record.task().status());
        }
        return List.of(new StoreOp.InsertTask(record), new StoreOp.AppendEvent(new TaskEvent(record.id(), seq,
                TaskEvent.STATUS, statusData(TaskStatus.PENDING, 0, null, null), record.task().createdAt())));
    }

    /**
     * Moves a task to another status.
     *
     * @param from   the row as it is
     * @param seq    the seq of the status event
     * @param turn   the turn the change belongs to, or 0
     * @param to     the new status
     * @param now    the time of the change
     * @param owner  the host that runs the task (set when it moves to {@code RUNNING} or {@code PENDING};
     *               a waiting or finished task has no owner)
     * @param error  the error of a {@code FAILED} task, else null
     * @param key    an extra field of the status event (for example {@code "result"}), or null
     * @param value  its value
     * @return the new row and the ops: the row update, then the status event
     * @throws IllegalStateException if the status machine does not allow the change (a bug)
     */
    static Step move(TaskRecord from, long seq, int turn, TaskStatus to, Instant now, String owner, String error,
                     String key, Object value) {
        Task t = from.task();
        if (!t.status().canMoveTo(to)) {
            throw new IllegalStateException("illegal transition of task " + from.id() + ": " + t.status() + " -> " + to);
        }
        Task moved = new Task(t.id(), t.agentId(), t.sessionId(), to, t.title(), t.model(), t.createdAt(),
                to == TaskStatus.RUNNING && t.startedAt() == null ? now : t.startedAt(),
                to.isTerminal() ? now : t.completedAt(),
                to == TaskStatus.FAILED ? error : t.error(), t.workDir(), t.metadata());
        TaskRecord record = from.withTask(moved);
        if (to == TaskStatus.RUNNING || to == TaskStatus.PENDING) {
            record = record.withOwner(owner, null); // the host that will run it keeps its claim
        } else {
            record = record.withOwner(null, null); // waiting or finished: no host holds it
        }
        return new Step(record, List.of(new StoreOp.UpdateTask(record, t.status()),
                new StoreOp.AppendEvent(new TaskEvent(from.id(), seq, TaskEvent.STATUS, statusData(to, turn, key, value), now))));
    }

    /**
     * Moves an in-memory task to another status. Caller holds the task's lock.
     *
     * @return the ops that record the change
     */
    static List<StoreOp> move(TaskState s, TaskStatus to, Instant now, String owner, String error, String key,
                              Object value) {
        Step step = move(s.record, s.nextSeq, s.turns, to, now, owner, error, key, value);
        s.nextSeq++;
        s.record = step.record();
        return step.ops();
    }

    /**
     * Records the agent's session id; the status does not change. Caller holds the task's lock.
     *
     * @return the row update
     */
    static StoreOp sessionChanged(TaskState s, String sessionId) {
        Task t = s.task();
        s.record = s.record.withTask(new Task(t.id(), t.agentId(), sessionId, t.status(), t.title(), t.model(),
                t.createdAt(), t.startedAt(), t.completedAt(), t.error(), t.workDir(), t.metadata()));
        return new StoreOp.UpdateTask(s.record, t.status());
    }

    /** {@code {"status": …, "turn": n (if n > 0), key: value (if key is set)}}. */
    private static Map<String, Object> statusData(TaskStatus status, int turn, String key, Object value) {
        if (key == null && turn == 0) {
            return Map.of("status", status.wireName());
        }
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        m.put("status", status.wireName());
        if (turn > 0) {
            m.put("turn", (long) turn);
        }
        if (key != null) {
            m.put(key, value);
        }
        return Collections.unmodifiableMap(m);
    }
}
