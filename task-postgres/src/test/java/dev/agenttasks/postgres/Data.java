package dev.agenttasks.postgres;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Test data. */
final class Data {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private Data() {
    }

    static TaskRecord task(String id, TaskStatus status, Instant completedAt) {
        Task t = new Task(id, "agent-a", null, status, "Task " + id, null, T0, null, completedAt, null, null, Map.of());
        return new TaskRecord(t, Map.of(), 0, null, null, 0);
    }

    static TaskEvent event(String taskId, long seq) {
        return new TaskEvent(taskId, seq, "text", Map.of("text", "event " + seq), T0.plusMillis(seq));
    }

    static List<StoreOp> events(String taskId, long from, int count) {
        List<StoreOp> ops = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ops.add(new StoreOp.AppendEvent(event(taskId, from + i)));
        }
        return ops;
    }
}
