package dev.agenttasks.langchain4j;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.spi.TurnContext;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A {@link TurnContext} over an in-memory log, for driving the runner without a manager. */
final class LogContext implements TurnContext {

    private final List<TaskEvent> log = new ArrayList<>();
    volatile boolean cancelled;

    /** Appends an event as the engine or an earlier turn would have. */
    @SuppressWarnings("unchecked")
    synchronized LogContext add(String type, Map<String, ?> data) {
        log.add(new TaskEvent("task_1", log.size() + 1, type, (Map<String, Object>) Map.copyOf(data), Instant.EPOCH));
        return this;
    }

    synchronized List<TaskEvent> log() {
        return List.copyOf(log);
    }

    synchronized List<Map<String, Object>> data(String type) {
        return log.stream().filter(e -> e.type().equals(type)).map(TaskEvent::data).toList();
    }

    @Override
    public String taskId() {
        return "task_1";
    }

    @Override
    public void emit(String type, Map<String, ?> data) {
        add(type, data);
    }

    @Override
    public void sessionId(String sessionId) {
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }

    @Override
    public synchronized List<TaskEvent> events(long afterSeq, int limit) {
        int from = (int) Math.min(afterSeq, log.size());
        return List.copyOf(log.subList(from, Math.min(log.size(), from + limit)));
    }
}
