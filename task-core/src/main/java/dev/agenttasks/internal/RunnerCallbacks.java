package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.StoreOp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;

/**
 * What a running turn calls through its {@link dev.agenttasks.spi.TurnContext}: events it emits (checked,
 * given the next seq and queued for the writer within its capacity) and the agent's session id. Calls
 * from a turn that was cancelled or has ended are dropped.
 */
final class RunnerCallbacks {
    private static final Logger log = LoggerFactory.getLogger(RunnerCallbacks.class);

    private final Engine engine;

    RunnerCallbacks(Engine engine) {
        this.engine = engine;
    }

    /** A runner reading its task's log (TurnContext.events): commits what is queued, then reads. */
    List<TaskEvent> events(TurnRun run, long afterSeq, int limit) {
        if (afterSeq < 0) {
            throw new InvalidRequestException("afterSeq", "afterSeq must not be negative");
        }
        if (limit < 1) {
            throw new InvalidRequestException("limit", "limit must be at least 1");
        }
        engine.writer.flush();
        return engine.store.events(run.state.id, afterSeq, Math.min(limit, engine.config.pageSize()));
    }

    void emit(TurnRun run, String type, Map<String, ?> data) {
        if (type == null || type.isBlank()) {
            throw new InvalidRequestException("type", "event type must not be blank");
        }
        if (type.length() > engine.limits.maxIdLength()) {
            throw new InvalidRequestException("type", "event type is longer than " + engine.limits.maxIdLength());
        }
        Text.checkPlain(type, "type");
        if (TaskEvent.STATUS.equals(type)) {
            throw new InvalidRequestException("type", "event type \"status\" is reserved for the engine");
        }
        Map<String, Object> copy = Json.copyEncoded(data, "data", engine.limits.maxEventBytes());
        TaskState s = run.state;
        if (run.closed) {
            dropped(run, type);
            return;
        }
        int bytes;
        try {
            bytes = engine.writer.acquire(Events.size(type, copy));
        } catch (TaskStoreException e) {
            if (run.closed) { // cancelled while waiting for room: the event is dropped like any late one
                dropped(run, type);
                return;
            }
            throw e;
        }
        boolean submitted = false;
        try {
            synchronized (s) {
                if (run.closed || s.turn != run) {
                    dropped(run, type);
                    return;
                }
                TaskEvent e = new TaskEvent(s.id, s.nextSeq++, type, copy, engine.clock.instant());
                Writer.Unit u = new Writer.Unit(s, s.writeGeneration, List.of(new StoreOp.AppendEvent(e)), null, null);
                u.permit = true;
                u.permitBytes = bytes;
                engine.writer.submit(u);
                submitted = true;
            }
        } finally {
            if (!submitted) {
                engine.writer.release(bytes);
            }
        }
    }

    void dropped(TurnRun run, String type) {
        long n = engine.eventsDropped.incrementAndGet();
        if (n == 1 || n % 1000 == 0) {
            log.warn("task {}: dropped event '{}' emitted after turn {} ended or was cancelled ({} dropped so far)",
                    run.state.id, type, run.number, n);
        } else {
            log.debug("task {}: dropped late event '{}' of turn {}", run.state.id, type, run.number);
        }
    }

    void reportSession(TurnRun run, String sessionId) {
        if (sessionId == null || sessionId.isBlank()) {
            throw new InvalidRequestException("session_id", "session id must not be blank");
        }
        Text.checkPlain(sessionId, "session_id");
        TaskState s = run.state;
        synchronized (s) {
            if (run.closed || s.turn != run) {
                return;
            }
            if (sessionId.equals(s.task().sessionId())) {
                return;
            }
            engine.submitLocked(s, List.of(Lifecycle.sessionChanged(s, sessionId)), null, null);
        }
    }
}
