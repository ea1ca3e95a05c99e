package dev.agenttasks.internal;

import dev.agenttasks.Task;

/** The snapshots the manager hands to hosts. */
final class Snapshots {

    private Snapshots() {
    }

    /**
     * A live task's snapshot with the seq of its last committed event.
     *
     * <p>Reads the committed task before the committed seq. This relies on the writer advancing
     * {@code committedSeq} over a unit's events before it publishes the unit's task (the order issue 7,
     * defect 1 asks of {@code applyCommitted}): then the seq read afterwards covers the status event of
     * the task read, and every event up to it is in the store.
     *
     * @param s the task's live state
     * @return the committed task carrying {@code s.committedSeq}
     */
    static Task committed(TaskState s) {
        Task t = s.committedTask;
        long seq = s.committedSeq;
        if (t.lastSeq() == seq) {
            return t;
        }
        return new Task(t.id(), t.agentId(), t.sessionId(), t.status(), t.title(), t.model(), t.createdAt(),
                t.startedAt(), t.completedAt(), t.error(), t.workDir(), t.metadata(), Math.max(seq, t.lastSeq()));
    }
}
