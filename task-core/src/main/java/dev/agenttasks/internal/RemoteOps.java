package dev.agenttasks.internal;

import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskNotAcceptingMessagesException;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.RemoteRequest;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Operations on a task another live host owns (docs/multi-host.md): the request is persisted first
 * (a {@link RemoteRequest}, with the message for {@code sendMessage}), then the owner is woken (by the
 * store's push where it has one, else by its poll). Cancel and delete wait, bounded, for the owner
 * to act.
 */
final class RemoteOps {
    private static final Logger log = LoggerFactory.getLogger(RemoteOps.class);

    private final Engine engine;

    RemoteOps(Engine engine) {
        this.engine = engine;
    }

    private long waitNanos() {
        Duration poll = engine.config.hosting().pollInterval();
        return poll.multipliedBy(3).plusSeconds(1).toNanos(); // the owner acts at its next poll

    }

    private RemoteRequest request(String taskId, RemoteRequest.Kind kind) {
        return new RemoteRequest(engine.ids.message(), taskId, kind, engine.clock.instant());
    }

    /** Cancels a task another host owns. @return true if it ended cancelled, or the request stands */
    boolean cancel(TaskRecord r) {
        engine.store.write(List.of(new StoreOp.AddRequest(request(r.id(), RemoteRequest.Kind.CANCEL))));
        log.debug("task {}: cancel requested from host {}", r.id(), r.owner());
        if (!awaitChange(r.id(), t -> t.isEmpty() || t.get().task().status().isTerminal())) {
            return true; // still running elsewhere: the request stands and follows the task
        }
        Optional<TaskRecord> t = engine.store.task(r.id());
        return t.isPresent() && t.get().task().status() == TaskStatus.CANCELLED;
    }

    /** Deletes a task another host owns: its owner stops it; it is removed here in any case. */
    boolean delete(TaskRecord r) {
        engine.store.write(List.of(new StoreOp.AddRequest(request(r.id(), RemoteRequest.Kind.DELETE))));
        awaitChange(r.id(), t -> t.isEmpty() || t.get().task().status().isTerminal());
        engine.store.delete(r.id());
        return true;
    }

    /**
     * Stores a message for a task another host owns and tells its owner. The write is fenced on the owner
     * and epoch read: if the owner ended the task's turn meanwhile (finished, waiting) the write fails with
     * {@link dev.agenttasks.spi.StoreConflictException} and the call starts over ({@link Fenced}); the owner's
     * finishing write in turn fails if this message committed first ({@link Finishing}). So an accepted
     * message is never left pending on a task that no longer runs.
     *
     * @param interrupt true for {@link dev.agenttasks.MessageStrategy#INTERRUPT}: the request asks the owner
     *                  to stop the running turn for the message ({@link RemoteRequest.Kind#INTERRUPT})
     */
    void send(TaskRecord r, TaskMessage m, List<StoreOp> keyOps, boolean interrupt) {
        if (r.task().status().isTerminal()) {
            throw new TaskNotAcceptingMessagesException(r.id(), r.task().status());
        }
        PendingMessage pm = new PendingMessage(r.id(), engine.ids.message(), m, engine.clock.instant());
        List<StoreOp> ops = new ArrayList<>(4 + keyOps.size());
        ops.add(new StoreOp.Fence(r.id(), r.owner(), r.epoch()));
        ops.add(new StoreOp.AddMessage(pm));
        ops.add(new StoreOp.AddRequest(interrupt // the interrupt names its message by the request id
                ? new RemoteRequest(pm.messageId(), r.id(), RemoteRequest.Kind.INTERRUPT, pm.createdAt())
                : request(r.id(), RemoteRequest.Kind.MESSAGE)));
        ops.addAll(keyOps);
        engine.store.write(ops);
        log.debug("task {}: message {} stored for host {}{}", r.id(), pm.messageId(), r.owner(),
                interrupt ? " (interrupt)" : "");
    }

    /** Polls the store (bounded) until the task is in a state the test accepts. @return false on timeout */
    private boolean awaitChange(String taskId, java.util.function.Predicate<Optional<TaskRecord>> done) {
        long deadline = System.nanoTime() + waitNanos();
        long step = Math.max(TimeUnit.MILLISECONDS.toNanos(5),
                Math.min(TimeUnit.MILLISECONDS.toNanos(50), engine.config.hosting().pollInterval().toNanos() / 4));
        while (true) {
            Optional<TaskRecord> t = engine.store.task(taskId);
            if (done.test(t)) {
                return true;
            }
            if (System.nanoTime() - deadline > 0 || engine.closed) {
                return false;
            }
            LockSupport.parkNanos(step);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }
}
