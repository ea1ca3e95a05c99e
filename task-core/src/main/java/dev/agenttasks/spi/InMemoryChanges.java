package dev.agenttasks.spi;

import dev.agenttasks.TaskStatus;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The wake-ups the in-memory store pushes after a committed write, as a PostgreSQL store would with
 * {@code NOTIFY}: the ids of tasks with new events, of tasks that became claimable, of tasks with new
 * requests. A listener that throws is ignored.
 */
final class InMemoryChanges {

    private InMemoryChanges() {
    }

    static void notify(List<StoreChangeListener> listeners, List<StoreOp> ops) {
        Set<String> events = new LinkedHashSet<>();
        Set<String> queued = new LinkedHashSet<>();
        Set<String> requests = new LinkedHashSet<>();
        for (StoreOp op : ops) {
            if (op instanceof StoreOp.AppendEvent) {
                events.add(op.taskId());
            } else if (op instanceof StoreOp.AddRequest) {
                requests.add(op.taskId());
            } else if (op instanceof StoreOp.InsertTask) {
                TaskRecord r = ((StoreOp.InsertTask) op).record();
                if (r.owner() == null && r.task().status() == TaskStatus.PENDING) {
                    queued.add(op.taskId());
                }
            } else if (op instanceof StoreOp.UpdateTask) {
                TaskRecord r = ((StoreOp.UpdateTask) op).record();
                if (r.owner() == null && r.task().status() == TaskStatus.PENDING) {
                    queued.add(op.taskId());
                }
            }
        }
        for (StoreChangeListener l : listeners) {
            for (String id : events) {
                call(() -> l.eventsAppended(id));
            }
            for (String id : queued) {
                call(() -> l.taskQueued(id));
            }
            for (String id : requests) {
                call(() -> l.requestAdded(id));
            }
        }
    }

    static void call(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            // a wake-up is a hint; the listener's failure must not fail the committed write
        }
    }
}
