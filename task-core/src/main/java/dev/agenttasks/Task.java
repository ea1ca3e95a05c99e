package dev.agenttasks;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * An immutable snapshot of a task.
 *
 * @param id          unique, opaque, URL-safe id (for example {@code task_01jd…})
 * @param agentId     the agent that runs the task
 * @param sessionId   the agent's session id as reported by the runner, or {@code null} before the first report
 * @param status      the status at the time of the snapshot
 * @param title       a short human-readable title
 * @param model       the agent's model, or {@code null}
 * @param createdAt   when the task was created
 * @param startedAt   when its first turn started, or {@code null}
 * @param completedAt when it reached a terminal status, or {@code null}
 * @param error       why it failed (or was cancelled, if a reason was given), or {@code null}
 * @param workDir     the work directory given at creation, or {@code null}
 * @param metadata    the host's own string metadata, never {@code null}
 */
public record Task(
        String id,
        String agentId,
        String sessionId,
        TaskStatus status,
        String title,
        String model,
        Instant createdAt,
        Instant startedAt,
        Instant completedAt,
        String error,
        String workDir,
        Map<String, String> metadata) {

    /**
     * Validates the required fields and makes {@code metadata} an immutable copy.
     *
     * @param id unique, opaque, URL-safe id (for example {@code task_01jd…})
     * @param agentId the agent that runs the task
     * @param sessionId the agent's session id as reported by the runner, or {@code null} before the first report
     * @param status the status at the time of the snapshot
     * @param title a short human-readable title
     * @param model the agent's model, or {@code null}
     * @param createdAt when the task was created
     * @param startedAt when its first turn started, or {@code null}
     * @param completedAt when it reached a terminal status, or {@code null}
     * @param error why it failed (or was cancelled, if a reason was given), or {@code null}
     * @param workDir the work directory given at creation, or {@code null}
     * @param metadata the host's own string metadata, never {@code null}
     */
    public Task {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(createdAt, "createdAt");
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }
}
