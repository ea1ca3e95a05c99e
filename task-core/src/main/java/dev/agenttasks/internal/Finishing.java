package dev.agenttasks.internal;

import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The write that ends a turn's task (docs/multi-host.md, "A message stored while a turn ends"): moving a
 * task out of {@code RUNNING} to {@code COMPLETED} or {@code WAITING_FOR_INPUT} is conditional on no
 * message being pending in the store ({@link StoreOp.Fence#noPendingMessages()}), because a message
 * another host stored while the turn ended must run as the next turn, not stay pending on a task that
 * no longer runs. A host sending a message fences on the owner it saw ({@link RemoteOps#send}), so the
 * store serialises the two writes: either the finish commits first and the send fails (and starts over,
 * seeing the finished or waiting task), or the message commits first and the finish fails here.
 *
 * <p>When the finish fails for a pending message (the claim is still held), nothing of it was written
 * or published: the task is restored to the state before it (still {@code RUNNING} with this host's
 * claim, next seq as before), moves to {@code PENDING}, takes the stored messages into its inbox and
 * queues for a slot; the message runs as the next turn. {@code FAILED} and {@code CANCELLED} are not
 * conditional: the task's end supersedes a message accepted for it (the message does not run).
 *
 * <p>While the finishing unit is in flight, local calls that would act on the finished-looking task
 * (send, cancel) wait for its outcome first ({@link #awaitIfFinishing}), so nothing is queued behind it
 * that assumes it committed.
 */
final class Finishing {
    private static final Logger log = LoggerFactory.getLogger(Finishing.class);
    /** Finishes tried again when a conflict named no message this host did not know (then: a store failure). */
    private static final int ATTEMPTS = 3;

    /**
     * What the finishing unit replaced, to restore it if the unit fails for a pending message.
     *
     * @param before the task row before the unit
     * @param seq    the seq of the unit's status event (the task's next seq before it)
     */
    record Guard(TaskRecord before, long seq) {
    }

    private final Engine engine;

    Finishing(Engine engine) {
        this.engine = engine;
    }

    /**
     * Ends a turn's task with {@code COMPLETED} or {@code WAITING_FOR_INPUT}, on condition that no message
     * is pending. Caller holds the task's lock; the inbox is empty (else the next turn starts instead).
     */
    CompletableFuture<Void> finishLocked(TaskState s, TaskStatus to, String key, Object value) {
        engine.retries.clearLocked(s);
        Guard guard = new Guard(s.record, s.nextSeq);
        CompletableFuture<Void> done = engine.transitionLocked(s, List.of(), to, null, key, value, guard);
        s.finishing = done;
        return done;
    }

    /**
     * Caller holds the task's lock. If the task's finishing unit is in flight, returns it: the caller
     * releases the lock and calls {@link #awaitThenRetry}.
     *
     * @return the unit's future, or null if no finish is in flight (or this is the writer thread)
     */
    CompletableFuture<Void> inFlightLocked(TaskState s) {
        CompletableFuture<Void> f = s.finishing;
        if (f == null || f.isDone() || engine.writer.isWriterThread()) {
            return null;
        }
        return f;
    }

    /**
     * Waits for an in-flight finish, then makes the public call start over ({@link Fenced}) on the state
     * it left: the finished task, or the task reopened for a message.
     *
     * @throws StoreConflictException always
     */
    private void awaitThenRetry(String taskId, CompletableFuture<Void> finishing) {
        try {
            engine.writer.await(finishing);
        } catch (RuntimeException e) {
            // the outcome is read again by the call that starts over
        }
        throw new StoreConflictException(taskId, "task " + taskId + " ended its turn meanwhile");
    }

    /** Caller holds the lock: waits for an in-flight finish after it releases the lock (null if none). */
    void awaitIfFinishing(String taskId, CompletableFuture<Void> finishing) {
        if (finishing != null) {
            awaitThenRetry(taskId, finishing);
        }
    }

    /**
     * Writer thread: a conflict failed units of a task. If one of them is the task's finishing unit and
     * the task has a pending message in the store (the claim is still held, which the caller checked),
     * writes the units before it, restores the task to its state before the finish, and runs the
     * message as the next turn.
     *
     * @return false if this conflict is not about a pending message at a finish
     */
    boolean reopen(TaskState s, RuntimeException error, List<Writer.Unit> units) {
        int at = -1;
        for (int i = 0; i < units.size(); i++) {
            if (units.get(i).guard != null) {
                at = i;
                break;
            }
        }
        if (at < 0 || s.committedSeq == 0 || units.get(at).attempts >= ATTEMPTS) {
            return false;
        }
        Writer.Unit fin = units.get(at);
        List<PendingMessage> stored;
        try {
            stored = engine.store.pendingMessages(s.id);
        } catch (RuntimeException e) {
            return false;
        }
        if (stored.isEmpty()) {
            return false; // another conflict: failed as any other
        }
        List<Writer.Unit> before = new ArrayList<>(units.subList(0, at));
        List<Writer.Unit> after = new ArrayList<>(units.subList(at + 1, units.size()));
        if (!before.isEmpty()) {
            List<StoreOp> ops = new ArrayList<>();
            List<StoreOp> fences = new ArrayList<>();
            Set<TaskState> fenced = Collections.newSetFromMap(new IdentityHashMap<>());
            before.forEach(u -> Fences.add(fences, ops, fenced, u));
            try {
                engine.store.write(Fences.join(fences, ops));
            } catch (RuntimeException e) {
                fin.guard = null; // not about the message any more: failed as any other write
                engine.commits.writeFailed(s, e, units);
                return true;
            }
            engine.writer.committed(before);
        }
        StoreConflictException retry = new StoreConflictException(s.id, "task " + s.id
                + " was reopened for a message another host stored while its turn ended");
        boolean requeue = false;
        Writer.Unit again = null;
        synchronized (s) {
            if (!s.deleted && !s.dead && !s.detached && s.turn == null && s.writeGeneration == fin.generation) {
                s.writeGeneration++; // whatever was queued after the finish assumed it: dropped
                s.record = fin.guard.before();
                s.nextSeq = fin.guard.seq();
                engine.hosts.pullMessages(s);
                if (s.inbox.isEmpty()) { // nothing new to run (a message this host had consumed): finish again
                    s.record = Ownership.updated(fin.ops);
                    s.nextSeq = fin.guard.seq() + 1; // the unit is the row update and its status event
                    again = new Writer.Unit(s, s.writeGeneration, fin.ops, fin.done, fin.afterCommit);
                    again.guard = fin.guard;
                    again.attempts = fin.attempts + 1;
                } else {
                    s.queued = true;
                    engine.transitionLocked(s, TaskStatus.PENDING, null, null, null);
                    requeue = true;
                }
            }
        }
        after.forEach(u -> u.fail(retry));
        if (again != null) {
            try {
                engine.writer.submit(again);
            } catch (dev.agenttasks.ManagerClosedException e) {
                fin.fail(e);
            }
            return true;
        }
        fin.fail(retry);
        if (!requeue) {
            log.debug("task {}: its finish failed for a pending message while the task went away", s.id);
            return true;
        }
        log.info("task {}: a message was stored while its turn {} ended; it runs as the next turn", s.id,
                s.turns);
        engine.turns.requestSlot(s);
        return true;
    }
}
