package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.Task;
import dev.agenttasks.TaskPage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TaskCursor;
import dev.agenttasks.spi.TaskRecord;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The read-only calls: a task's snapshot (from memory while it is active), lists, counts. */
final class Queries {
    private final Engine engine;

    Queries(Engine engine) {
        this.engine = engine;
    }

    Optional<Task> get(String taskId) {
        if (taskId == null || taskId.isBlank()) {
            throw new InvalidRequestException("task_id", "task_id must not be blank");
        }
        engine.checkOpen();
        TaskState s = engine.ownership.local(taskId); // a task this host holds: its committed state in memory
        if (s != null && !s.deleted && !s.detached) { // a state this host let go is not the task's truth any more
            return Optional.of(Snapshots.committed(s));
        }
        return engine.store.task(taskId).map(TaskRecord::task);
    }

    TaskPage list(TaskQuery query) {
        if (query == null) {
            throw new InvalidRequestException("query", "query must not be null");
        }
        TaskCursor after = query.cursor() == null ? null : Cursors.decode(query.cursor());
        engine.checkOpen();
        List<TaskRecord> rows = engine.store.list(query, after, query.limit() + 1);
        boolean more = rows.size() > query.limit();
        List<Task> tasks = new ArrayList<>(Math.min(rows.size(), query.limit()));
        for (int i = 0; i < rows.size() && i < query.limit(); i++) {
            tasks.add(rows.get(i).task());
        }
        String next = more ? Cursors.encode(tasks.get(tasks.size() - 1)) : null;
        return new TaskPage(tasks, next);
    }

    int runningCount() {
        engine.checkOpen();
        Map<TaskStatus, Long> c = engine.store.countByStatus();
        return (int) (c.getOrDefault(TaskStatus.RUNNING, 0L) + c.getOrDefault(TaskStatus.WAITING_FOR_INPUT, 0L));
    }

    Map<TaskStatus, Long> countByStatus() {
        engine.checkOpen();
        Map<TaskStatus, Long> out = new EnumMap<>(TaskStatus.class);
        for (TaskStatus st : TaskStatus.values()) {
            out.put(st, 0L);
        }
        out.putAll(engine.store.countByStatus());
        return java.util.Collections.unmodifiableMap(out);
    }
}
