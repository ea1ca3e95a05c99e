package dev.agenttasks.sqlite;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.Objects;

/**
 * The removals of {@link SqliteTaskStore}: {@link SqliteTaskStore#delete(String)} of one task and
 * {@link SqliteTaskStore#purgeTerminal(Instant, int)} (what {@link RetentionRunner} runs), each one write
 * transaction; a task's events and messages go with its row (foreign keys cascade).
 */
final class SqliteDeletes {

    private static final Logger LOG = LoggerFactory.getLogger(SqliteTaskStore.class);
    private static final String DELETE_TASK = "DELETE FROM tasks WHERE id = ?";
    private static final String PURGE = "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks "
            + "WHERE completed_at < ? AND status IN ('COMPLETED', 'FAILED', 'CANCELLED') "
            + "ORDER BY completed_at, id LIMIT ?)";

    private final SqliteWrites writes;
    private final Path path;

    SqliteDeletes(SqliteWrites writes, Path path) {
        this.writes = writes;
        this.path = path;
    }

    /** Deletes the task row; its events and messages go with it. */
    boolean delete(String taskId) {
        Objects.requireNonNull(taskId, "taskId");
        return writes.writeTransaction("delete of task " + taskId, c -> {
            writes.forgetTail(taskId);
            try (PreparedStatement ps = c.prepareStatement(DELETE_TASK)) {
                ps.setString(1, taskId);
                return ps.executeUpdate();
            }
        }) > 0;
    }

    /** One transaction per call; the oldest completions go first. A {@code limit} below 1 removes nothing. */
    int purgeTerminal(Instant completedBefore, int limit) {
        Objects.requireNonNull(completedBefore, "completedBefore");
        if (limit < 1) {
            return 0;
        }
        long cutoff = Times.clampedNanos(completedBefore);
        int n = writes.writeTransaction("purge of terminal tasks", c -> {
            writes.forgetTails();
            try (PreparedStatement ps = c.prepareStatement(PURGE)) {
                ps.setLong(1, cutoff);
                ps.setInt(2, limit);
                return ps.executeUpdate();
            }
        });
        if (n > 0) {
            LOG.debug("SQLite store {}: purged {} terminal tasks completed before {}", path, n, completedBefore);
        }
        return n;
    }
}
