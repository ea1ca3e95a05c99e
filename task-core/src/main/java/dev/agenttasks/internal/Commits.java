package dev.agenttasks.internal;

import dev.agenttasks.ManagerClosedException;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.DuplicateKeyException;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * What the writer's outcomes mean for tasks: a committed unit is published (events into the live tail
 * first, then the task, so a subscriber that sees a finished task also sees its last event); a failed
 * unit fails its task, whose final status is then retried until it is recorded.
 */
final class Commits {
    private static final Logger log = LoggerFactory.getLogger(Commits.class);

    private final Engine engine;

    Commits(Engine engine) {
        this.engine = engine;
    }

    /** Writer thread: a unit was committed. */
    void applyCommitted(Writer.Unit u) {
        TaskState s = u.state;
        Task updated = null;
        dev.agenttasks.spi.TaskRecord row = null;
        for (StoreOp op : u.ops) {
            if (op instanceof StoreOp.AppendEvent) {
                TaskEvent e = ((StoreOp.AppendEvent) op).event();
                s.tail.add(e, Events.size(e));
                s.committedSeq = e.seq();
                engine.eventsAppended.incrementAndGet();
                int size = s.tail.size();
                if (size > engine.peakTail.get()) {
                    engine.peakTail.accumulateAndGet(size, Math::max);
                }
                if (!engine.listeners.isEmpty()) {
                    engine.notify(l -> l.eventAppended(e));
                }
            } else if (op instanceof StoreOp.UpdateTask) {
                row = ((StoreOp.UpdateTask) op).record();
                updated = row.task();
            } else if (op instanceof StoreOp.InsertTask) {
                row = ((StoreOp.InsertTask) op).record();
                updated = row.task();
            }
            engine.hooks.afterApply(s, op);
        }
        if (updated != null) {
            // after the events: a subscriber that sees the finished task also sees its last seq (defect 1)
            s.committedTask = updated;
        }
        Task committed = s.committedTask;
        if (committed.status().isTerminal()) {
            engine.tasks.forget(s);
        } else if (committed.status() == TaskStatus.WAITING_FOR_INPUT) {
            s.tail.clear(); // an idle task keeps no events in memory; late readers page from the store
        }
        if (u.afterCommit != null) {
            u.afterCommit.run();
        }
        if (row != null) { // a finished task's row has no owner: later units of it fence on that, not the old claim
            engine.ownership.afterCommit(s, row);
        }
    }

    /** Writer thread: a unit (and everything of the task queued before it) could not be written. */
    void writeFailed(TaskState s, Throwable error, List<Writer.Unit> units) {
        if (error instanceof DuplicateKeyException && s.committedSeq > 0 && retryWithoutKeys(s, error, units)) {
            return; // a retried message: only its unit fails
        }
        if (error instanceof StoreConflictException && s.committedSeq > 0
                && (error instanceof DuplicateKeyException || engine.ownership.lost(s))) {
            engine.ownership.drop(s, (StoreConflictException) error, units); // fenced out: write nothing more
            return;
        }
        if (error instanceof StoreConflictException && !(error instanceof DuplicateKeyException)
                && engine.finishing.reopen(s, (StoreConflictException) error, units)) {
            return; // the claim holds: a message stored while the turn ended runs as the next turn
        }
        for (Writer.Unit u : units) {
            if (u.finalStatus) {
                retryFinalStatus(u, error);
                return;
            }
        }
        log.error("task {}: store write failed: {}", s.id, error.toString(), error);
        engine.notify(l -> l.storeFailed(s.id, error));
        TaskStoreException cause = error instanceof TaskStoreException ? (TaskStoreException) error
                : new TaskStoreException("store write failed", error);
        for (Writer.Unit u : units) {
            u.fail(cause);
        }
        TurnRun turn;
        Writer.Unit failure = null;
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
            s.nextSeq = s.committedSeq + 1;
            Task committed = s.committedTask;
            s.record = s.record.withTask(committed);
            if (committed.status().isTerminal() || s.committedSeq == 0) {
                s.dead = true; // never inserted, or already finished
            } else {
                String msg = "store failure: " + engine.turns.describe(error);
                List<StoreOp> ops = Lifecycle.move(s, TaskStatus.FAILED, engine.clock.instant(), null, msg, "error", msg);
                Task t = s.task();
                failure = new Writer.Unit(s, s.writeGeneration, ops, null, () -> engine.notify(l -> l.taskFinished(t)));
                failure.finalStatus = true;
            }
        }
        if (turn != null) {
            engine.turns.interrupt(turn);
            engine.turns.scheduleSlotRelease(turn);
        }
        if (failure != null) {
            // queued like any write and retried until recorded: the task never stays RUNNING in the store
            // while the engine has given up on it (defect 8); subscribers complete with that status
            try {
                engine.writer.submit(failure);
                return;
            } catch (ManagerClosedException e) {
                log.warn("task {}: closing before its failure was recorded; the next start recovers it", s.id);
            }
        }
        engine.tasks.forget(s);
        engine.subscriptions.forEach(s.id, sub -> sub.fail(cause));
    }

    /**
     * Writer thread: a unit storing an idempotency key found it taken (the same message was sent again,
     * on another host): that unit fails and the task's other units are written again without it, unless
     * the failed unit also changed the task's status (then the task is dropped here and reloaded on use).
     *
     * @return false if the task must be dropped instead
     */
    private boolean retryWithoutKeys(TaskState s, Throwable error, List<Writer.Unit> units) {
        java.util.ArrayList<Writer.Unit> rest = new java.util.ArrayList<>(units.size());
        java.util.ArrayList<StoreOp> ops = new java.util.ArrayList<>();
        java.util.ArrayList<StoreOp> fences = new java.util.ArrayList<>();
        for (Writer.Unit u : units) {
            boolean keyed = u.ops.stream().anyMatch(op -> op instanceof StoreOp.PutKey);
            if (keyed && u.ops.stream().anyMatch(op -> op instanceof StoreOp.UpdateTask)) {
                return false;
            }
            if (!keyed) {
                rest.add(u);
            }
        }
        units.stream().filter(u -> !rest.contains(u)).forEach(u -> u.fail(error));
        if (rest.isEmpty()) {
            return true;
        }
        java.util.Set<TaskState> fenced = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        rest.forEach(u -> Fences.add(fences, ops, fenced, u));
        try {
            engine.store.write(Fences.join(fences, ops));
        } catch (RuntimeException e) {
            writeFailed(s, e, rest);
            return true;
        }
        engine.writer.committed(rest);
        return true;
    }

    /** Writer thread: the final status of a task could not be written; try again after a backoff. */
    void retryFinalStatus(Writer.Unit u, Throwable error) {
        TaskState s = u.state;
        int attempt = ++u.attempts;
        long delay = Math.min(5000, 50L << Math.min(6, attempt));
        log.error("task {}: could not record its failure (attempt {}); retrying in {} ms: {}", s.id, attempt, delay,
                error.toString());
        if (engine.closed) {
            log.warn("task {}: closing before its failure was recorded; the next start recovers it", s.id);
            engine.tasks.forget(s);
            engine.subscriptions.forEach(s.id, sub -> sub.fail(new ManagerClosedException()));
            return;
        }
        try {
            engine.timer.schedule(() -> {
                try {
                    engine.writer.submit(u);
                } catch (ManagerClosedException e) {
                    log.warn("task {}: closing before its failure was recorded; the next start recovers it", s.id);
                }
            }, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.warn("task {}: closing before its failure was recorded; the next start recovers it", s.id);
        }
    }
}
