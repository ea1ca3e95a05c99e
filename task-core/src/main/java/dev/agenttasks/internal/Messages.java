package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.MessageStrategy;
import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.SendOptions;
import dev.agenttasks.SendResult;
import dev.agenttasks.TaskBusyException;
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

    SendResult send(String taskId, TaskMessage message, SendOptions options) {
        engine.admission.checkId(taskId, "task_id");
        TaskMessage m = engine.admission.checkMessage(message);
        if (options == null) {
            throw new InvalidRequestException("options", "options must not be null");
        }
        MessageStrategy strategy = options.strategy() == null ? engine.config.messageStrategy() : options.strategy();
        String key = Idempotency.checkKey(options.idempotencyKey());
        engine.checkOpen();
        String fingerprint = key == null ? null : Idempotency.fingerprint(m);
        String storedKey = key == null ? null : Idempotency.messageKey(taskId, key);
        if (key != null) {
            Optional<IdempotencyKey> prior = engine.idempotency.prior(storedKey, key, fingerprint);
            if (prior.isPresent()) {
                return SendResult.valueOf(prior.get().outcome());
            }
        }
        if (strategy == MessageStrategy.REJECT && engine.ownership.local(taskId) == null) {
            // refuse before resolving: resolving takes over a queued task, which a refusal would strand
            engine.store.task(taskId).map(r -> r.task().status()).ifPresent(st -> {
                if (!st.isTerminal() && st != TaskStatus.WAITING_FOR_INPUT) {
                    throw new TaskBusyException(taskId, st);
                }
            });
        }
        Object target = engine.ownership.resolve(taskId);
        if (target == null) {
            throw new NoSuchTaskException(taskId);
        }
        if (target instanceof TaskRecord) { // finished, or another host holds it
            TaskRecord r = (TaskRecord) target;
            TaskStatus st = r.task().status();
            if (strategy == MessageStrategy.REJECT && !st.isTerminal() && st != TaskStatus.WAITING_FOR_INPUT) {
                throw new TaskBusyException(taskId, st);
            }
            // INTERRUPT: the owner stops the running turn at its next poll (or wake-up); the caller is told what
            // the task was doing when the request was stored
            boolean interrupt = strategy == MessageStrategy.INTERRUPT;
            SendResult result = interrupt && st == TaskStatus.RUNNING ? SendResult.INTERRUPTED_TURN : SendResult.QUEUED;
            List<StoreOp> keyOps = key == null ? List.of() : List.of(new StoreOp.PutKey(
                    new IdempotencyKey(storedKey, taskId, fingerprint, result.name(), engine.clock.instant())));
            try {
                engine.remote.send(r, m, keyOps, interrupt);
                return result;
            } catch (DuplicateKeyException e) {
                return retried(storedKey, key, fingerprint, e);
            }
        }
        TaskState s = (TaskState) target;
        CompletableFuture<Void> done = new CompletableFuture<>();
        boolean needSlot = false;
        SendResult result = null;
        PendingMessage pm = null;
        MessageStrategies.Interrupt cut = null;
        CompletableFuture<Void> finishing;
        if (strategy == MessageStrategy.REJECT) {
            boolean requeue = false;
            synchronized (s) {
                if (!s.deleted && !s.dead && s.task().status() == TaskStatus.PENDING && s.turn == null && !s.queued
                        && s.retry == null) {
                    s.queued = true; // a queued task taken over for this call: refused, but it must still run
                    requeue = true;
                }
            }
            if (requeue) {
                engine.turns.requestSlot(s);
                throw new TaskBusyException(taskId, TaskStatus.PENDING);
            }
        }
        locked:
        synchronized (s) {
            finishing = engine.finishing.inFlightLocked(s);
            if (finishing != null) {
                break locked; // the last turn's end is in flight: act on what it leaves (see Finishing)
            }
            TaskStatus status = s.task().status();
            if (s.deleted) {
                throw new NoSuchTaskException(taskId);
            }
            if (status.isTerminal() || s.dead) {
                throw new TaskNotAcceptingMessagesException(taskId, status);
            }
            pm = new PendingMessage(taskId, engine.ids.message(), m, engine.clock.instant());
            // REJECT throws here, before anything is written; INTERRUPT queues the message's unit itself
            cut = engine.strategies.applyLocked(s, strategy, pm,
                    key == null ? List.of() : List.of(keyOp(storedKey, taskId, fingerprint, SendResult.INTERRUPTED_TURN, pm)));
            result = cut != null ? SendResult.INTERRUPTED_TURN
                    : status == TaskStatus.WAITING_FOR_INPUT ? SendResult.STARTED_TURN : SendResult.QUEUED;
            List<StoreOp> ops = new ArrayList<>(2);
            ops.add(new StoreOp.AddMessage(pm));
            if (key != null) {
                ops.add(keyOp(storedKey, taskId, fingerprint, result, pm));
            }
            needSlot = cut != null || (status == TaskStatus.WAITING_FOR_INPUT || status == TaskStatus.PENDING)
                    && s.turn == null && !s.queued && s.retry == null;
            if (cut != null) {
                done = cut.done();
            } else if (needSlot && status == TaskStatus.WAITING_FOR_INPUT) {
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
        engine.finishing.awaitIfFinishing(taskId, finishing);
        if (cut != null) {
            engine.strategies.stop(cut);
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

    private static StoreOp keyOp(String storedKey, String taskId, String fingerprint, SendResult result,
                                 PendingMessage pm) {
        return new StoreOp.PutKey(new IdempotencyKey(storedKey, taskId, fingerprint, result.name(), pm.createdAt()));
    }

    private SendResult retried(String storedKey, String key, String fingerprint, DuplicateKeyException e) {
        return engine.idempotency.prior(storedKey, key, fingerprint).map(k -> SendResult.valueOf(k.outcome()))
                .orElseThrow(() -> e);
    }
}
