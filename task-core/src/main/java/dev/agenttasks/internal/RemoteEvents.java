package dev.agenttasks.internal;

import dev.agenttasks.TaskDeletedException;
import dev.agenttasks.spi.TaskRecord;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Subscriptions to tasks this host does not hold read the store (docs/multi-host.md): their cursor
 * pages {@code events(id, afterSeq)}, which is gapless and in order by construction, and completes
 * after the terminal status event. This class wakes them: every event-poll interval, and at once on a
 * store wake-up where the store pushes them. A task deleted elsewhere ends them with
 * {@link TaskDeletedException}.
 */
final class RemoteEvents {
    private final Engine engine;
    private final Set<String> watched = ConcurrentHashMap.newKeySet();

    RemoteEvents(Engine engine) {
        this.engine = engine;
    }

    /** A subscription of the task reads the store from now on. */
    void watch(String taskId) {
        watched.add(taskId);
    }

    /** A wake-up: the task has new events. */
    void wake(String taskId) {
        if (watched.contains(taskId)) {
            engine.signal(taskId);
        }
    }

    /** One poll: wakes every watched task's subscriptions; drops tasks without subscriptions. */
    void tick() {
        for (String id : watched) {
            if (!engine.subscriptions.has(id)) {
                watched.remove(id);
                if (engine.subscriptions.has(id)) {
                    watched.add(id); // a subscription came meanwhile
                }
                continue;
            }
            if (engine.ownership.local(id) == null) {
                Optional<TaskRecord> r = engine.store.task(id);
                if (r.isEmpty()) {
                    TaskDeletedException gone = new TaskDeletedException(id);
                    engine.subscriptions.forEach(id, sub -> sub.fail(gone));
                    continue;
                }
            }
            engine.signal(id);
        }
    }
}
