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
 * @param lastSeq     the seq of the task's last committed event when the snapshot was taken (0 if none):
 *                    every event up to it is in the log, including the status event of {@code status}, so
 *                    a host replays "up to now" by reading {@link TaskManager#events(String, long)} until
 *                    this seq. Snapshots from {@link TaskManager#get}, {@link TaskManager#list} and a
 *                    store's {@link dev.agenttasks.spi.TaskRecord} carry it, and so does the task a
 *                    {@link TaskManager#whenFinished} future completes with; the snapshots passed to a
 *                    {@link TaskListener} do not keep it up to date (read {@link TaskManager#get} for
 *                    it); a {@code Task} built with the shorter constructor has 0
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
        Map<String, String> metadata,
        long lastSeq) {

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
     * @param lastSeq the seq of the last committed event when the snapshot was taken (0 if unknown)
     */
    public Task {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(createdAt, "createdAt");
        if (lastSeq < 0) {
            throw new IllegalArgumentException("lastSeq must not be negative: " + lastSeq);
        }
        metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    }

    /**
     * A snapshot without a known last seq ({@link #lastSeq()} 0), as stores and tests build it; a
     * {@link dev.agenttasks.spi.TaskRecord} fills in the seq it carries.
     *
     * @param id          unique id
     * @param agentId     the agent
     * @param sessionId   the agent's session id, or {@code null}
     * @param status      the status
     * @param title       the title
     * @param model       the model, or {@code null}
     * @param createdAt   creation time
     * @param startedAt   first start, or {@code null}
     * @param completedAt end, or {@code null}
     * @param error       error, or {@code null}
     * @param workDir     work directory, or {@code null}
     * @param metadata    string metadata
     */
    public Task(String id, String agentId, String sessionId, TaskStatus status, String title, String model,
                Instant createdAt, Instant startedAt, Instant completedAt, String error, String workDir,
                Map<String, String> metadata) {
        this(id, agentId, sessionId, status, title, model, createdAt, startedAt, completedAt, error, workDir,
                metadata, 0);
    }
}
