package dev.agenttasks.postgres;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.TaskCursor;
import dev.agenttasks.spi.TaskRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static dev.agenttasks.postgres.TaskRows.taskRecord;

/**
 * The store's reads, one statement each in auto-commit mode: a task, the list with its filters and cursor, the
 * recovery query, events, pending messages and the status counts (folding their deltas now and then). Moved out
 * of {@link PostgresTaskStore}.
 */
final class Reads {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresTaskStore.class);
    /** Delta rows in the status counts beyond which a count folds them (see V2 migration). */
    private static final int FOLD_COUNTS_AFTER = 64;

    private final Connections connections;
    private final String schema;
    private final String selectTask;
    private final String selectEvents;
    private final String selectMessages;
    private final String countByStatus;
    private final String foldCounts;

    Reads(Connections connections) {
        this.connections = connections;
        this.schema = connections.schema();
        String s = '"' + schema + '"';
        this.selectTask = TaskRows.selectTask(s);
        this.selectEvents = "SELECT seq, type, data, ts FROM " + s + ".events WHERE task_id = ? AND seq > ? "
                + "ORDER BY seq LIMIT ?";
        this.selectMessages = "SELECT message_id, message, created_at FROM " + s + ".messages WHERE task_id = ? "
                + "ORDER BY id";
        this.countByStatus = "SELECT status, sum(n)::int8, count(*) FROM " + s + ".task_counts GROUP BY status";
        this.foldCounts = "WITH d AS (DELETE FROM " + s + ".task_counts RETURNING status, n) INSERT INTO " + s
                + ".task_counts (status, n) SELECT status, sum(n) FROM d GROUP BY status HAVING sum(n) <> 0";
    }

    Optional<TaskRecord> task(String taskId) {
        List<TaskRecord> found = queryTasks("read of task " + taskId, selectTask + " WHERE t.id = ?", List.of(taskId));
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    List<TaskRecord> list(TaskQuery query, TaskCursor after, int limit) {
        if (limit < 1) {
            return List.of();
        }
        StringBuilder sql = new StringBuilder(selectTask).append(" WHERE true");
        List<Object> args = new ArrayList<>();
        if (!query.statuses().isEmpty()) {
            sql.append(" AND t.status = ANY (?::text[])");
            args.add(statusNames(query.statuses()));
        }
        if (query.agentId() != null) {
            sql.append(" AND t.agent_id = ?");
            args.add(query.agentId());
        }
        if (query.titleContains() != null) {
            // LIKE (not strpos) so the planner can use the pg_trgm index on title_lower when it exists
            sql.append(" AND t.title_lower LIKE ?");
            args.add(likeContains(query.titleContains().toLowerCase(Locale.ROOT)));
        }
        if (after != null) {
            sql.append(" AND (t.created_at, t.id) < (?, ?)");
            args.add(Times.clampedNanos(after.createdAt()));
            args.add(after.id());
        }
        sql.append(" ORDER BY t.created_at DESC, t.id DESC LIMIT ?");
        args.add(limit);
        return queryTasks("list of tasks", sql.toString(), args);
    }

    List<TaskRecord> findByStatus(Set<TaskStatus> statuses) {
        if (statuses.isEmpty()) {
            return List.of();
        }
        return queryTasks("find of tasks by status", selectTask
                + " WHERE t.status = ANY (?::text[]) ORDER BY t.created_at, t.id", List.of((Object) statusNames(statuses)));
    }

    List<TaskEvent> events(String taskId, long afterSeq, int limit) {
        if (limit < 1) {
            return List.of();
        }
        return connections.call("read of the events of task " + taskId, true, c -> {
            try (PreparedStatement ps = c.prepareStatement(selectEvents)) {
                ps.setString(1, taskId);
                ps.setLong(2, afterSeq);
                ps.setInt(3, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    List<TaskEvent> out = new ArrayList<>(Math.min(limit, 1024));
                    while (rs.next()) {
                        out.add(new TaskEvent(taskId, rs.getLong(1), rs.getString(2), Json.readMap(rs.getString(3)),
                                Times.fromNanos(rs.getLong(4))));
                    }
                    return List.copyOf(out);
                }
            }
        });
    }

    List<PendingMessage> pendingMessages(String taskId) {
        return connections.call("read of the pending messages of task " + taskId, true, c -> {
            try (PreparedStatement ps = c.prepareStatement(selectMessages)) {
                ps.setString(1, taskId);
                try (ResultSet rs = ps.executeQuery()) {
                    List<PendingMessage> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new PendingMessage(taskId, rs.getString(1), Json.readMessage(rs.getString(2)),
                                Times.fromNanos(rs.getLong(3))));
                    }
                    return List.copyOf(out);
                }
            }
        });
    }

    Map<TaskStatus, Long> countByStatus() {
        long[] rows = new long[1];
        Map<TaskStatus, Long> result = connections.call("count of tasks by status", true, c -> {
            try (PreparedStatement ps = c.prepareStatement(countByStatus); ResultSet rs = ps.executeQuery()) {
                Map<TaskStatus, Long> counts = new EnumMap<>(TaskStatus.class);
                while (rs.next()) {
                    long n = rs.getLong(2);
                    if (n != 0) {
                        counts.put(TaskStatus.valueOf(rs.getString(1)), n);
                    }
                    rows[0] += rs.getLong(3);
                }
                return counts;
            }
        });
        if (rows[0] > FOLD_COUNTS_AFTER) {
            foldCounts();
        }
        return result;
    }

    /**
     * Folds the per-status count deltas the writes added into one row per status, so counting stays a read of
     * a few rows. Concurrent folds and writes are safe: each delta row is deleted, and its value re-inserted,
     * by exactly one transaction. A failure here loses nothing (the deltas stay) and is only logged.
     */
    private void foldCounts() {
        try {
            int folded = connections.call("fold of the status counts", false, c -> {
                try (PreparedStatement ps = c.prepareStatement(foldCounts)) {
                    return ps.executeUpdate();
                }
            });
            LOG.debug("PostgreSQL store {}: folded status count deltas into {} rows", schema, folded);
        } catch (RuntimeException e) {
            LOG.warn("PostgreSQL store {}: folding the status counts failed (they stay correct): {}", schema,
                    e.getMessage());
        }
    }

    /**
     * Escapes {@code %}, {@code _} and the escape character itself, so {@code LIKE '%' || it || '%'} matches
     * exactly the titles that contain {@code needle} (backslash is LIKE's default escape).
     */
    static String likeContains(String needle) {
        StringBuilder b = new StringBuilder(needle.length() + 2).append('%');
        for (int i = 0; i < needle.length(); i++) {
            char ch = needle.charAt(i);
            if (ch == '%' || ch == '_' || ch == '\\') {
                b.append('\\');
            }
            b.append(ch);
        }
        return b.append('%').toString();
    }

    private List<TaskRecord> queryTasks(String what, String sql, List<Object> args) {
        return connections.call(what, true, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.size(); i++) {
                    Object a = args.get(i);
                    if (a instanceof Long) {
                        ps.setLong(i + 1, (Long) a);
                    } else if (a instanceof Integer) {
                        ps.setInt(i + 1, (Integer) a);
                    } else if (a instanceof String[]) {
                        ps.setArray(i + 1, c.createArrayOf("text", (String[]) a));
                    } else {
                        ps.setString(i + 1, (String) a);
                    }
                }
                try (ResultSet rs = ps.executeQuery()) {
                    List<TaskRecord> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(taskRecord(rs));
                    }
                    return out;
                }
            }
        });
    }

    private static String[] statusNames(Set<TaskStatus> statuses) {
        List<String> names = new ArrayList<>();
        for (TaskStatus s : TaskStatus.values()) {
            if (statuses.contains(s)) {
                names.add(s.name());
            }
        }
        return names.toArray(new String[0]);
    }
}
