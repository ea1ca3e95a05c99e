package dev.agenttasks.internal;

import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.SendResult;
import dev.agenttasks.TaskException;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskNotAcceptingMessagesException;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.DuplicateKeyException;
import dev.agenttasks.spi.IdempotencyKey;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Follow-up messages: stored before the call returns; a waiting task moves to {@code PENDING} with its
 * message in one unit and starts its next turn; a running or queued task runs it as its next turn. A
 * task another host holds gets the message through the store ({@link RemoteOps}); a key makes a
 * retried message run once ({@link Idempotency}).
 */
final class Messages {
    private final Engine engine;

    Messages(Engine engine) {
        this.engine = engine;
    }

    SendResult send(String taskId, TaskMessage message, String idempotencyKey) {
        engine.admission.checkId(taskId, "task_id");
        TaskMessage m = engine.admission.checkMessage(message);
        String key = Idempotency.checkKey(idempotencyKey);
        engine.checkOpen();
        String fingerprint = key == null ? null : Idempotency.fingerprint(m);
        String storedKey = key == null ? null : Idempotency.messageKey(taskId, key);
        if (key != null) {
            Optional<IdempotencyKey> prior = engine.idempotency.prior(storedKey, key, fingerprint);
            if (prior.isPresent()) {
                return SendResult.valueOf(prior.get().outcome());
            }
        }
        Object target = engine.ownership.resolve(taskId);
        if (target == null) {
            throw new NoSuchTaskException(taskId);
        }
        if (target instanceof TaskRecord) { // finished, or another host holds it
            TaskRecord r = (TaskRecord) target;
            List<StoreOp> keyOps = key == null ? List.of() : List.of(new StoreOp.PutKey(
                    new IdempotencyKey(storedKey, taskId, fingerprint, SendResult.QUEUED.name(), engine.clock.instant())));
            try {
                return engine.remote.send(r, m, keyOps);
            } catch (DuplicateKeyException e) {
                return retried(storedKey, key, fingerprint, e);
            }
        }
        TaskState s = (TaskState) target;
        CompletableFuture<Void> done = new CompletableFuture<>();
        boolean needSlot;
        SendResult result;
        PendingMessage pm;
        synchronized (s) {
            TaskStatus status = s.task().status();
            if (s.deleted) {
                throw new NoSuchTaskException(taskId);
            }
            if (status.isTerminal() || s.dead) {
                throw new TaskNotAcceptingMessagesException(taskId, status);
            }
            pm = new PendingMessage(taskId, Ids.message(), m, engine.clock.instant());
            result = status == TaskStatus.WAITING_FOR_INPUT ? SendResult.STARTED_TURN : SendResult.QUEUED;
            List<StoreOp> ops = new ArrayList<>(2);
            ops.add(new StoreOp.AddMessage(pm));
            if (key != null) {
                ops.add(new StoreOp.PutKey(new IdempotencyKey(storedKey, taskId, fingerprint, result.name(), pm.createdAt())));
            }
            needSlot = (status == TaskStatus.WAITING_FOR_INPUT || status == TaskStatus.PENDING) && s.turn == null
                    && !s.queued;
            if (needSlot && status == TaskStatus.WAITING_FOR_INPUT) {
                // the message and PENDING in one unit: a stored, unconsumed message always leads to a turn,
                // after a restart too, and the status says the task waits for a slot (defect 6)
                s.queued = true;
                done = engine.transitionLocked(s, ops, TaskStatus.PENDING, null, null, null);
            } else {
                s.queued |= needSlot; // a queued task this host just took over: it runs here
                engine.submitLocked(s, ops, done, null);
            }
            s.inbox.add(pm);
        }
        try {
            engine.writer.await(done);
        } catch (TaskException e) {
            synchronized (s) {
                s.inbox.remove(pm);
                s.queued = false;
            }
            if (e instanceof DuplicateKeyException) {
                return retried(storedKey, key, fingerprint, (DuplicateKeyException) e);
            }
            throw e;
        }
        if (needSlot) {
            engine.turns.requestSlot(s);
        }
        Engine.log.debug("task {}: message {} {}", taskId, pm.messageId(), result);
        return result;
    }

    private SendResult retried(String storedKey, String key, String fingerprint, DuplicateKeyException e) {
        return engine.idempotency.prior(storedKey, key, fingerprint).map(k -> SendResult.valueOf(k.outcome()))
                .orElseThrow(() -> e);
    }
}
