package dev.agenttasks.postgres;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link PostgresTaskStore#delete(String) Deletion} and {@link PostgresTaskStore#purgeTerminal(Instant, int)
 * retention} in bounded transactions: a task's events go a batch of rows at a time, newest first, then the task
 * rows. Moved out of the store.
 */
final class Deletes {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresTaskStore.class);

    private static final String TERMINAL = "('COMPLETED', 'FAILED', 'CANCELLED')";

    private final Connections connections;
    private final String schema;
    private final int deleteBatchSize;
    private final String deleteEventChunk;
    private final String deleteTask;
    private final String purgeCandidates;
    private final String purgeEventChunk;
    private final String purgeTasks;

    Deletes(Connections connections, int deleteBatchSize) {
        this.connections = connections;
        this.schema = connections.schema();
        this.deleteBatchSize = deleteBatchSize;
        String s = '"' + schema + '"';
        this.deleteEventChunk = "DELETE FROM " + s + ".events WHERE task_id = ? AND seq IN (SELECT seq FROM " + s
                + ".events WHERE task_id = ? ORDER BY seq DESC LIMIT ?)";
        this.deleteTask = "DELETE FROM " + s + ".tasks WHERE id = ?";
        this.purgeCandidates = "SELECT id FROM " + s + ".tasks WHERE completed_at < ? AND status IN " + TERMINAL
                + " ORDER BY completed_at, id LIMIT ?";
        this.purgeEventChunk = "DELETE FROM " + s + ".events WHERE (task_id, seq) IN (SELECT task_id, seq FROM " + s
                + ".events WHERE task_id = ANY (?::text[]) ORDER BY task_id, seq DESC LIMIT ?)";
        this.purgeTasks = "DELETE FROM " + s + ".tasks WHERE id = ANY (?::text[]) AND completed_at < ? "
                + "AND status IN " + TERMINAL;
    }

    /** Deletes a task, its events a batch per transaction first; see {@link PostgresTaskStore#delete(String)}. */
    boolean delete(String taskId) {
        int n;
        do {
            n = connections.call("delete of events of task " + taskId, true, c -> {
                try (PreparedStatement ps = c.prepareStatement(deleteEventChunk)) {
                    ps.setString(1, taskId);
                    ps.setString(2, taskId);
                    ps.setInt(3, deleteBatchSize);
                    return ps.executeUpdate();
                }
            });
        } while (n >= deleteBatchSize);
        return connections.call("delete of task " + taskId, true, c -> {
            try (PreparedStatement ps = c.prepareStatement(deleteTask)) {
                ps.setString(1, taskId);
                return ps.executeUpdate();
            }
        }) > 0;
    }

    /** Purges terminal tasks; see {@link PostgresTaskStore#purgeTerminal(Instant, int)}. */
    int purgeTerminal(Instant completedBefore, int limit) {
        if (limit < 1) {
            return 0;
        }
        long cutoff = Times.clampedNanos(completedBefore);
        String[] ids = connections.call("choice of tasks to purge", true, c -> {
            try (PreparedStatement ps = c.prepareStatement(purgeCandidates)) {
                ps.setLong(1, cutoff);
                ps.setInt(2, limit);
                List<String> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
                return out.toArray(new String[0]);
            }
        });
        if (ids.length == 0) {
            return 0;
        }
        int n;
        do {
            n = connections.call("purge of events", true, c -> {
                try (PreparedStatement ps = c.prepareStatement(purgeEventChunk)) {
                    ps.setArray(1, c.createArrayOf("text", ids));
                    ps.setInt(2, deleteBatchSize);
                    return ps.executeUpdate();
                }
            });
        } while (n >= deleteBatchSize);
        int removed = connections.call("purge of terminal tasks", true, c -> {
            try (PreparedStatement ps = c.prepareStatement(purgeTasks)) {
                ps.setArray(1, c.createArrayOf("text", ids));
                ps.setLong(2, cutoff);
                return ps.executeUpdate();
            }
        });
        if (removed > 0) {
            LOG.debug("PostgreSQL store {}: purged {} terminal tasks completed before {}", schema, removed,
                    completedBefore);
        }
        return removed;
    }
}
