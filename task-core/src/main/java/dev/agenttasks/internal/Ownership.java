package dev.agenttasks.internal;

import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Optional;

/**
 * Which tasks this host holds in memory (docs/multi-host.md): a task stays in the engine's active map
 * only while this host owns its claim or writes for it. A task another host owns is reached through
 * the store ({@link RemoteOps}); an unowned task (queued or waiting) is taken over before this host
 * writes for it; a task whose claim this host lost (fence conflict, deleted elsewhere) is dropped
 * without another write.
 */
final class Ownership {
    private static final Logger log = LoggerFactory.getLogger(Ownership.class);
    private static final int ATTEMPTS = 8;

    private final Engine engine;

    Ownership(Engine engine) {
        this.engine = engine;
    }

    /** @return the task's in-memory state if this host holds it, else null (no store read) */
    TaskState local(String taskId) {
        TaskState s = engine.active.get(taskId);
        return s == null || s.detached ? null : s;
    }

    /**
     * Finds a task to act on: the local state (taking over an unowned or waiting task first), or the
     * stored record of a task that is finished or that another host owns.
     *
     * @return a {@link TaskState} this host may write for, a {@link TaskRecord} (finished, or owned by
     *         another host), or null if there is no such task
     */
    Object resolve(String taskId) {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            TaskState s = local(taskId);
            if (s != null) {
                return s;
            }
            Optional<TaskRecord> stored = engine.store.task(taskId);
            engine.hooks.afterStoreRead(taskId);
            if (stored.isEmpty()) {
                return null;
            }
            TaskRecord r = stored.get();
            TaskStatus st = r.task().status();
            if (st.isTerminal()) {
                return r;
            }
            if (engine.hostId.equals(r.owner())) {
                return adopt(r);
            }
            if (r.owner() != null && st != TaskStatus.WAITING_FOR_INPUT) {
                return r; // another host holds it: requests go through the store
            }
            Optional<TaskRecord> taken = engine.store.takeOver(taskId, r.owner(), r.epoch(), engine.hostId);
            if (taken.isPresent()) {
                return adopt(taken.get());
            }
        }
        throw new TaskStoreException("task " + taskId + " changed hands " + ATTEMPTS + " times while this host acted on it");
    }

    /** Loads a task this host now holds into memory, replacing a state of an older claim. */
    TaskState adopt(TaskRecord r) {
        synchronized (engine.loadLock) {
            TaskState old = engine.active.get(r.id());
            if (old != null && (old.detached || old.fenceEpoch < r.epoch())) {
                old.detached = true;
                engine.active.remove(r.id(), old);
            }
            TaskState s = engine.tasks.load(r);
            s.fenceOwner = r.owner();
            s.fenceEpoch = Math.max(s.fenceEpoch, r.epoch());
            return s;
        }
    }

    /**
     * Writer thread, after a commit: a task that is now waiting (or queued without an owner) and has
     * nothing left to do here is let go, so any host may take it; its subscribers go on from the store.
     */
    void afterCommit(TaskState s, TaskRecord committed) {
        if (committed == null) {
            return;
        }
        s.fenceOwner = committed.owner();
        TaskStatus st = committed.task().status();
        if (committed.owner() != null || st.isTerminal() || st == TaskStatus.RUNNING) {
            return;
        }
        synchronized (s) {
            if (s.turn != null || s.queued || !s.inbox.isEmpty() || s.detached || s.deleted
                    || s.task().status() != st || s.record.owner() != null) {
                return;
            }
            s.detached = true;
        }
        engine.tasks.forget(s);
        engine.signal(s.id);
    }

    /** @return true if the store shows that this host no longer holds the task's claim (or the task is gone) */
    boolean lost(TaskState s) {
        try {
            Optional<TaskRecord> r = engine.store.task(s.id);
            return r.isEmpty() || !java.util.Objects.equals(r.get().owner(), s.fenceOwner)
                    || r.get().epoch() != s.fenceEpoch;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Writer thread: the task's claim moved to another host (or the task was deleted): drop it, write nothing. */
    void drop(TaskState s, TaskStoreException cause, List<Writer.Unit> units) {
        log.warn("task {}: this host lost its claim ({}); its turn stops here", s.id, cause.getMessage());
        for (Writer.Unit u : units) {
            u.fail(cause);
        }
        TurnRun turn;
        synchronized (s) {
            s.writeGeneration++;
            turn = s.turn;
            s.turn = null;
            if (turn != null) {
                turn.cancelled = true;
                turn.closed = true;
            }
            s.queued = false;
            s.inbox.clear();
            s.detached = true;
        }
        if (turn != null) {
            engine.turns.interrupt(turn);
            engine.turns.scheduleSlotRelease(turn);
        }
        engine.tasks.forget(s);
        engine.signal(s.id);
    }

    /** The row update among a unit's ops, or null. */
    static TaskRecord updated(List<StoreOp> ops) {
        TaskRecord r = null;
        for (StoreOp op : ops) {
            if (op instanceof StoreOp.UpdateTask) {
                r = ((StoreOp.UpdateTask) op).record();
            } else if (op instanceof StoreOp.InsertTask) {
                r = ((StoreOp.InsertTask) op).record();
            }
        }
        return r;
    }
}
