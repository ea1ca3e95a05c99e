package dev.agenttasks.internal;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskException;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.UnknownAgentException;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.DuplicateKeyException;
import dev.agenttasks.spi.IdempotencyKey;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * {@link Engine#create}: checks the request, resolves the agent, answers a repeated idempotency key with the
 * task it created, and writes the new task (its created status through {@link Lifecycle}, the first message,
 * the key and the retry policy) in one unit; a free slot starts it here, else it waits unowned for
 * {@link Claims}.
 */
final class Creation {
    private final Engine engine;

    Creation(Engine engine) {
        this.engine = engine;
    }

    Task create(TaskRequest request) {
        Admission.Request r = engine.admission.checkRequest(request);
        String key = Idempotency.checkKey(request.idempotencyKey());
        String fingerprint = key == null ? null : Idempotency.fingerprint(request);
        String agentId = r.agentId();
        TaskMessage message = r.message();
        Map<String, Object> options = r.options();
        Map<String, String> metadata = r.metadata();
        String workDir = r.workDir();
        String title = r.title();
        Duration timeout = r.timeout();
        engine.checkOpen();
        AgentDescriptor agent;
        try {
            agent = engine.runner.describe(agentId).orElseThrow(() -> new UnknownAgentException(agentId));
        } catch (TaskException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new TaskException("runner failed to describe agent " + agentId, e);
        }
        if (title == null) {
            title = Titles.derive(message, agent.name());
        }
        if (key != null) {
            Optional<Task> prior = engine.idempotency.priorCreate(key, fingerprint);
            if (prior.isPresent()) {
                return prior.get();
            }
        }
        // a free slot: inserted claimed, it starts here; else queued unowned for any host (Claims)
        TurnScheduler turns = engine.turns;
        boolean claimed = turns.slots.running() + turns.slots.queued() < engine.config.maxConcurrentTasks();
        Instant now = engine.clock.instant();
        String id = engine.ids.task();
        Task task = new Task(id, agentId, null, TaskStatus.PENDING, title, agent.model(), now, null, null, null,
                workDir, metadata);
        TaskRecord record = new TaskRecord(task, options, timeout == null ? 0 : timeout.toMillis(),
                claimed ? engine.hostId : null, null, 0, claimed ? 1 : 0);
        TaskState s = new TaskState(record, engine.config.liveTailSize(), engine.config.liveTailBytes());
        CompletableFuture<Void> done = new CompletableFuture<>();
        synchronized (s) {
            List<StoreOp> ops = new ArrayList<>(3);
            ops.addAll(Lifecycle.created(record, s.nextSeq++));
            if (message != null) { // the log holds the first message: no pending-message row to write and remove
                ops.add(new StoreOp.AppendEvent(new TaskEvent(id, s.nextSeq++, Engine.USER_MESSAGE,
                        turns.userMessageData(1, message), now)));
            }
            if (key != null) {
                ops.add(new StoreOp.PutKey(new IdempotencyKey(Idempotency.createKey(key), id, fingerprint, null, now)));
            }
            List<StoreOp> policy = Retries.policyOps(id, s.nextSeq, request.retryPolicy(), now);
            s.nextSeq += policy.size();
            ops.addAll(policy);
            s.retryPolicy = request.retryPolicy();
            s.retryPolicyKnown = true;
            s.firstMessage = message;
            s.queued = claimed;
            engine.active.put(id, s);
            engine.writer.submit(new Writer.Unit(s, s.writeGeneration, ops, done,
                    () -> engine.notify(l -> l.taskCreated(task))));
        }
        try {
            engine.writer.await(done);
        } catch (DuplicateKeyException e) { // a concurrent create with the key won, on this host or another
            return engine.idempotency.priorCreate(key, fingerprint).orElseThrow(() -> e);
        }
        Engine.log.debug("task {} created for agent {}", id, agentId);
        if (claimed) {
            turns.requestSlot(s);
        } else {
            engine.claims.claimSoon();
        }
        return task;
    }
}
