package dev.agenttasks.internal;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TaskRecord;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The engine's in-memory view of unfinished tasks: loading a task from the store into memory (its
 * inbox, turn count and first message) and dropping it when it finishes. Loading and dropping happen
 * under one lock, so a task read from the store is never loaded after it finished meanwhile.
 */
final class TaskStates {
    private final Engine engine;

    TaskStates(Engine engine) {
        this.engine = engine;
    }

    TaskState load(TaskRecord r) {
        synchronized (engine.loadLock) {
            TaskState s = engine.active.get(r.id());
            if (s == null) {
                s = new TaskState(r, engine.config.liveTailSize(), engine.config.liveTailBytes());
                s.inbox.addAll(engine.store.pendingMessages(r.id()));
                s.turns = lastTurn(r);
                if (s.turns == 0 && r.task().status() == TaskStatus.PENDING) {
                    s.firstMessage = firstMessageOf(r);
                }
                engine.active.put(r.id(), s);
            }
            return s;
        }
    }

    /**
     * The number of the last turn a task started, so turn numbers go on after a restart. The engine
     * records it in every status event after the first turn; a waiting task's last event is one.
     */
    int lastTurn(TaskRecord r) {
        if (r.lastSeq() == 0) {
            return 0;
        }
        List<TaskEvent> last = engine.store.events(r.id(), r.lastSeq() - 1, 1);
        if (!last.isEmpty() && last.get(0).isStatus() && last.get(0).data().get("turn") instanceof Long) {
            return ((Long) last.get(0).data().get("turn")).intValue();
        }
        long max = 0;
        long after = 0;
        while (true) { // rare: a running task resumed after a crash; scan its log once
            List<TaskEvent> page = engine.store.events(r.id(), after, 1024);
            if (page.isEmpty()) {
                return (int) max;
            }
            for (TaskEvent e : page) {
                if (e.isStatus() && e.data().get("turn") instanceof Long
                        || Engine.USER_MESSAGE.equals(e.type()) && e.data().get("turn") instanceof Long && max > 0) {
                    max = Math.max(max, (Long) e.data().get("turn"));
                }
                after = e.seq();
            }
        }
    }

    /** @return the in-memory state of an unfinished task (loading it if needed), or null if finished or unknown */
    TaskState liveState(String taskId) {
        TaskState s = engine.active.get(taskId);
        if (s != null) {
            return s;
        }
        synchronized (engine.loadLock) { // a task is forgotten under this lock too: the read below is never stale (defect 9)
            s = engine.active.get(taskId);
            if (s != null) {
                return s;
            }
            Optional<TaskRecord> r = engine.store.task(taskId);
            engine.hooks.afterStoreRead(taskId);
            if (r.isEmpty() || r.get().task().status().isTerminal()) {
                return null;
            }
            return load(r.get());
        }
    }

    /** Drops a finished (or given-up) task from memory. */
    void forget(TaskState s) {
        synchronized (engine.loadLock) {
            engine.active.remove(s.id, s);
        }
    }

    Optional<TaskRecord> storedTask(String taskId) {
        return engine.store.task(taskId);
    }

    /** The first message of a task that has not started, from its {@code user_message} event. */
    TaskMessage firstMessageOf(TaskRecord r) {
        for (TaskEvent e : engine.store.events(r.id(), 0, 4)) {
            if (Engine.USER_MESSAGE.equals(e.type()) && Long.valueOf(1).equals(e.data().get("turn"))) {
                Object text = e.data().get("text");
                if (text instanceof String) {
                    return TaskMessage.text((String) text);
                }
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> content = (List<Map<String, Object>>) e.data().get("content");
                return content == null ? null : TaskMessage.content(content);
            }
        }
        return null;
    }
}
