package dev.agenttasks.examples;

import dev.agenttasks.spi.TurnContext;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link TurnContext} that records what a runner emits, for runner unit tests. */
final class RecordingContext implements TurnContext {

    record Emitted(String type, Map<String, Object> data) {
    }

    final List<Emitted> events = new CopyOnWriteArrayList<>();
    volatile String sessionId;
    volatile boolean cancelled;

    @Override
    public String taskId() {
        return "task_test";
    }

    @Override
    @SuppressWarnings("unchecked")
    public void emit(String type, Map<String, ?> data) {
        events.add(new Emitted(type, (Map<String, Object>) Map.copyOf(data)));
    }

    @Override
    public void sessionId(String id) {
        this.sessionId = id;
    }

    @Override
    public boolean isCancelled() {
        return cancelled;
    }

    List<String> types() {
        return events.stream().map(Emitted::type).collect(java.util.stream.Collectors.toList());
    }

    String text() {
        StringBuilder sb = new StringBuilder();
        for (Emitted e : events) {
            if (e.type().equals("text_delta")) {
                sb.append(e.data().get("text"));
            }
        }
        return sb.toString();
    }
}
