package dev.agenttasks.sqlite;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.TaskCursor;
import dev.agenttasks.spi.TaskRecord;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The reads of {@link SqliteTaskStore}, each on a connection of the {@link ReadPool} in one short read
 * transaction: a task, the list query (with its title search, see
 * {@link SqliteTaskStore#list(TaskQuery, TaskCursor, int)}), tasks by status, a task's events and pending
 * messages, the counts by status; and the SQL they use.
 */
final class SqliteReads {

    private static final String TASK_COLUMNS = "t.id, t.agent_id, t.session_id, t.status, t.title, t.model, "
            + "t.created_at, t.started_at, t.completed_at, t.error, t.work_dir, t.metadata, t.options, "
            + "t.timeout_millis, t.owner, t.lease_until, " + lastSeqOf("t") + ", t.epoch";
    static final String SELECT_TASK = "SELECT " + TASK_COLUMNS + " FROM tasks t";
    static final String SELECT_EVENTS =
            "SELECT e.id - t.pk * 4294967296, e.type, e.data, e.ts FROM tasks t JOIN events e "
            + "ON e.id > t.pk * 4294967296 + ? AND e.id < (t.pk + 1) * 4294967296 WHERE t.id = ? ORDER BY e.id LIMIT ?";
    private static final String SELECT_MESSAGES =
            "SELECT message_id, message, created_at FROM messages WHERE task_id = ? ORDER BY id";
    /** The counts kept by the schema's triggers (version 2): one row per status ever used. */
    static final String COUNT_BY_STATUS = "SELECT status, n FROM task_counts WHERE n <> 0";
    /** See {@link SqliteTaskStore#TRIGRAM}. */
    private static final int TRIGRAM = SqliteTaskStore.TRIGRAM;
    /** See {@link SqliteTaskStore#NEWEST_WINDOW}. */
    private static final long NEWEST_WINDOW = SqliteTaskStore.NEWEST_WINDOW;
    private static final long MAX_SEQ = SqliteTaskStore.MAX_SEQ;
    /** The first key from which created_hw reaches a time: no task of a lower key was created at or after it. */
    private static final String LAST_KEY = "SELECT max(pk) FROM tasks";
    /** Up to this many keys (plus 8 per row asked for), matching the titles of a key range beats the index. */
    private static final long KEY_RANGE_WALK = 2_000;
    private static final String FIRST_KEY_CREATED_FROM =
            "SELECT pk FROM tasks WHERE created_hw >= ? ORDER BY created_hw, pk LIMIT 1";

    private final SqliteTaskStore store;
    private final ReadPool readers;

    SqliteReads(SqliteTaskStore store, ReadPool readers) {
        this.store = store;
        this.readers = readers;
    }

    /** SQL for the last event seq (0 if none) of the task row named {@code t}: one seek to its key range's end. */
    static String lastSeqOf(String t) {
        return "coalesce((SELECT max(e.id) FROM events e WHERE e.id BETWEEN " + t + ".pk * 4294967296 AND " + t
                + ".pk * 4294967296 + 4294967295) - " + t + ".pk * 4294967296, 0)";
    }

    /** One indexed read; {@code lastSeq} is the task's highest stored event seq. */
    Optional<TaskRecord> task(String taskId) {
        Objects.requireNonNull(taskId, "taskId");
        return read("read of task " + taskId, r -> {
            PreparedStatement ps = r.prepare(SELECT_TASK + " WHERE t.id = ?");
            ps.setString(1, taskId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(taskRecord(rs)) : Optional.empty();
            }
        });
    }

    /** See {@link SqliteTaskStore#list(TaskQuery, TaskCursor, int)}. */
    List<TaskRecord> list(TaskQuery query, TaskCursor after, int limit) {
        Objects.requireNonNull(query, "query");
        if (limit < 1) {
            return List.of();
        }
        String title = lowerTitle(query);
        if (title == null || title.codePointCount(0, title.length()) < TRIGRAM) {
            List<Object> args = new ArrayList<>();
            return queryTasks("list of tasks", listSql(query, after, limit, TitlePlan.WALK, 0, args), args);
        }
        return read("list of tasks", r -> r.snapshot(() -> {
            // 0. a title many tasks have: found among the newest few hundred tasks, in order
            List<Object> args = new ArrayList<>();
            PreparedStatement window = r.prepare(listSql(query, after, limit, TitlePlan.NEWEST, 0, args));
            bind(window, args);
            List<TaskRecord> newest = new ArrayList<>();
            try (ResultSet rs = window.executeQuery()) {
                while (rs.next()) {
                    newest.add(taskRecord(rs));
                }
            }
            if (newest.size() == limit) {
                return newest;
            }
            // 1. the newest matches by key, read from the index in key order without sorting
            args.clear();
            PreparedStatement probe = r.prepare(listSql(query, after, limit, TitlePlan.PROBE, 0, args));
            bind(probe, args);
            long minPk = Long.MAX_VALUE;
            long minCreated = Long.MAX_VALUE;
            int found = 0;
            try (ResultSet rs = probe.executeQuery()) {
                while (rs.next()) {
                    found++;
                    minPk = Math.min(minPk, rs.getLong(1));
                    minCreated = Math.min(minCreated, rs.getLong(2));
                }
            }
            if (found == 0) {
                return List.<TaskRecord>of();
            }
            // 2. the first key from which a task can be newer than the oldest of those (all, if fewer than limit)
            long fromKey = minPk;
            if (found == limit) {
                PreparedStatement first = r.prepare(FIRST_KEY_CREATED_FROM);
                first.setLong(1, minCreated);
                try (ResultSet rs = first.executeQuery()) {
                    if (rs.next()) {
                        fromKey = Math.min(fromKey, rs.getLong(1));
                    }
                }
            }
            // 3. the matches from that key on, sorted: from the index, or, when few tasks have those keys
            //    (the usual case for a title many tasks match), by matching the titles of those tasks
            long lastKey;
            try (ResultSet rs = r.prepare(LAST_KEY).executeQuery()) {
                lastKey = rs.next() ? rs.getLong(1) : fromKey;
            }
            TitlePlan plan = lastKey - fromKey < KEY_RANGE_WALK + 8L * limit ? TitlePlan.KEY_RANGE : TitlePlan.FROM_KEY;
            args.clear();
            PreparedStatement ps = r.prepare(listSql(query, after, limit, plan, fromKey, args));
            bind(ps, args);
            try (ResultSet rs = ps.executeQuery()) {
                List<TaskRecord> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(taskRecord(rs));
                }
                return out;
            }
        }));
    }

    /** How {@link #listSql} matches a title filter. */
    enum TitlePlan {
        /** Walk the tasks newest first and match each title with {@code instr}. */
        WALK,
        /** The same, within the newest {@link #NEWEST_WINDOW} + 8 &times; {@code limit} tasks the other filters pass. */
        NEWEST,
        /** The pk and created_at of the first {@code limit} matches in descending key order, from the index. */
        PROBE,
        /** The tasks of the index matches from a key on, newest first. */
        FROM_KEY,
        /** The tasks from a key on whose title matches ({@code instr}), newest first. */
        KEY_RANGE
    }

    private static String lowerTitle(TaskQuery query) {
        return query.titleContains() == null ? null : query.titleContains().toLowerCase(Locale.ROOT);
    }

    /** The FTS5 query of a title substring: one phrase, its trigrams in a row. */
    private static String titlePhrase(String lowerTitle) {
        return '"' + lowerTitle.replace("\"", "\"\"") + '"';
    }

    /**
     * The SQL of {@link #list(TaskQuery, TaskCursor, int)}; its arguments are added to {@code args}.
     * {@code plan} {@link TitlePlan#PROBE} and {@link TitlePlan#FROM_KEY} (for a title filter of
     * {@value #TRIGRAM} or more code points) drive the query from the trigram index, the latter from key
     * {@code fromKey} on; {@link TitlePlan#WALK} matches the title with {@code instr} on each task visited.
     */
    static String listSql(TaskQuery query, TaskCursor after, int limit, TitlePlan plan, long fromKey,
                          List<Object> args) {
        String title = lowerTitle(query);
        boolean indexed = (plan == TitlePlan.PROBE || plan == TitlePlan.FROM_KEY) && title != null;
        StringBuilder sql = new StringBuilder("SELECT ").append(plan == TitlePlan.PROBE ? "t.pk, t.created_at"
                : TASK_COLUMNS);
        if (indexed) {
            // the FTS5 phrase of the whole query: its trigrams in a row, that is the query as a substring
            sql.append(" FROM tasks_title f CROSS JOIN tasks t ON t.pk = f.rowid WHERE f.tasks_title MATCH ?");
            args.add(titlePhrase(title));
            if (plan == TitlePlan.FROM_KEY) {
                sql.append(" AND f.rowid >= ?");
                args.add(fromKey);
            }
        } else if (plan == TitlePlan.NEWEST) {
            sql.append(" FROM (SELECT * FROM tasks t WHERE 1 = 1");
            appendFilters(sql, query, after, args);
            sql.append(" ORDER BY t.created_at DESC, t.id DESC LIMIT ?) t WHERE instr(t.title_lower, ?) > 0"
                    + " ORDER BY t.created_at DESC, t.id DESC LIMIT ?");
            args.add(NEWEST_WINDOW + 8L * limit);
            args.add(title);
            args.add(limit);
            return sql.toString();
        } else if (plan == TitlePlan.KEY_RANGE) {
            // only the key range: a status or agent index would walk tasks outside it
            sql.append(" FROM tasks t NOT INDEXED WHERE t.pk >= ?");
            args.add(fromKey);
        } else {
            sql.append(" FROM tasks t WHERE 1 = 1");
        }
        appendFilters(sql, query, after, args);
        if (title != null && !indexed) {
            sql.append(" AND instr(t.title_lower, ?) > 0");
            args.add(title);
        }
        sql.append(plan == TitlePlan.PROBE ? " ORDER BY f.rowid DESC LIMIT ?"
                : " ORDER BY t.created_at DESC, t.id DESC LIMIT ?");
        args.add(limit);
        return sql.toString();
    }

    /** The status, agent and cursor conditions of a list query, on the tasks row {@code t}. */
    private static void appendFilters(StringBuilder sql, TaskQuery query, TaskCursor after, List<Object> args) {
        if (!query.statuses().isEmpty()) {
            sql.append(" AND t.status IN (").append(placeholders(query.statuses().size())).append(')');
            for (TaskStatus s : TaskStatus.values()) {
                if (query.statuses().contains(s)) {
                    args.add(s.name());
                }
            }
        }
        if (query.agentId() != null) {
            sql.append(" AND t.agent_id = ?");
            args.add(query.agentId());
        }
        if (after != null) {
            sql.append(" AND (t.created_at, t.id) < (?, ?)");
            args.add(Times.clampedNanos(after.createdAt()));
            args.add(after.id());
        }
    }

    /** Runs a task query with bound arguments and maps every row. */
    private List<TaskRecord> queryTasks(String what, String sql, List<Object> args) {
        return read(what, r -> {
            PreparedStatement ps = r.prepare(sql);
            bind(ps, args);
            try (ResultSet rs = ps.executeQuery()) {
                List<TaskRecord> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(taskRecord(rs));
                }
                return out;
            }
        });
    }

    /** Ordered by creation time, then id. */
    List<TaskRecord> findByStatus(Set<TaskStatus> statuses) {
        Objects.requireNonNull(statuses, "statuses");
        if (statuses.isEmpty()) {
            return List.of();
        }
        List<Object> args = new ArrayList<>();
        for (TaskStatus s : TaskStatus.values()) {
            if (statuses.contains(s)) {
                args.add(s.name());
            }
        }
        String sql = SELECT_TASK + " WHERE t.status IN (" + placeholders(args.size())
                + ") ORDER BY t.created_at, t.id";
        return queryTasks("find of tasks by status", sql, args);
    }

    /**
     * The ids asked for in one statement of {@link #lastSeqs}: a short list is padded (with its last id)
     * to the next of these sizes, so three cached statements serve every call; the largest stays below
     * the 999 bound parameters of SQLite builds before 3.32. A longer list runs in chunks of the largest.
     */
    private static final int[] LAST_SEQ_BATCHES = {8, 64, 500};
    private static final String[] SELECT_LAST_SEQS = Arrays.stream(LAST_SEQ_BATCHES)
            .mapToObj(n -> "SELECT t.id, " + lastSeqOf("t") + " FROM tasks t WHERE t.id IN (" + placeholders(n) + ")")
            .toArray(String[]::new);

    /** See {@link SqliteTaskStore#lastSeqs(Collection)}: one indexed statement per 500 ids, in one snapshot. */
    Map<String, Long> lastSeqs(Collection<String> taskIds) {
        List<String> ids = new ArrayList<>(new LinkedHashSet<>(taskIds));
        for (String id : ids) {
            Objects.requireNonNull(id, "task id");
        }
        Map<String, Long> out = new HashMap<>();
        if (ids.isEmpty()) {
            return out;
        }
        return read("read of the last seqs of " + ids.size() + " tasks", r -> r.snapshot(() -> {
            int max = LAST_SEQ_BATCHES[LAST_SEQ_BATCHES.length - 1];
            for (int from = 0; from < ids.size(); from += max) {
                List<String> chunk = ids.subList(from, Math.min(ids.size(), from + max));
                int k = 0;
                while (chunk.size() > LAST_SEQ_BATCHES[k]) {
                    k++;
                }
                int size = LAST_SEQ_BATCHES[k];
                PreparedStatement ps = r.prepare(SELECT_LAST_SEQS[k]);
                for (int i = 0; i < size; i++) {
                    ps.setString(i + 1, chunk.get(Math.min(i, chunk.size() - 1)));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(rs.getString(1), rs.getLong(2));
                    }
                }
            }
            return out;
        }));
    }

    /** One short read transaction per call, so paging through a long log never pins the WAL. */
    List<TaskEvent> events(String taskId, long afterSeq, int limit) {
        Objects.requireNonNull(taskId, "taskId");
        if (limit < 1 || afterSeq >= MAX_SEQ) {
            return List.of();
        }
        return read("read of the events of task " + taskId, r -> {
            PreparedStatement ps = r.prepare(SELECT_EVENTS);
            ps.setLong(1, Math.max(0, afterSeq));
            ps.setString(2, taskId);
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
                List<TaskEvent> out = new ArrayList<>(Math.min(limit, 1024));
                while (rs.next()) {
                    out.add(new TaskEvent(taskId, rs.getLong(1), rs.getString(2), Json.readMap(rs.getString(3)),
                            Times.fromNanos(rs.getLong(4))));
                }
                return List.copyOf(out);
            }
        });
    }

    List<PendingMessage> pendingMessages(String taskId) {
        Objects.requireNonNull(taskId, "taskId");
        return read("read of the pending messages of task " + taskId, r -> {
            PreparedStatement ps = r.prepare(SELECT_MESSAGES);
            ps.setString(1, taskId);
            try (ResultSet rs = ps.executeQuery()) {
                List<PendingMessage> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new PendingMessage(taskId, rs.getString(1), Json.readMessage(rs.getString(2)),
                            Times.fromNanos(rs.getLong(3))));
                }
                return List.copyOf(out);
            }
        });
    }

    /** Reads the counts the schema's triggers keep: its cost does not grow with the tasks kept. */
    Map<TaskStatus, Long> countByStatus() {
        return read("count of tasks by status", r -> {
            PreparedStatement ps = r.prepare(COUNT_BY_STATUS);
            try (ResultSet rs = ps.executeQuery()) {
                Map<TaskStatus, Long> counts = new EnumMap<>(TaskStatus.class);
                while (rs.next()) {
                    counts.put(TaskStatus.valueOf(rs.getString(1)), rs.getLong(2));
                }
                return counts;
            }
        });
    }

    static TaskRecord taskRecord(ResultSet rs) throws SQLException {
        Task t = new Task(rs.getString(1), rs.getString(2), rs.getString(3), TaskStatus.valueOf(rs.getString(4)),
                rs.getString(5), rs.getString(6), Times.fromNanos(rs.getLong(7)), instant(rs, 8), instant(rs, 9),
                rs.getString(10), rs.getString(11), Json.readStringMap(rs.getString(12)));
        return new TaskRecord(t, Json.readMap(rs.getString(13)), rs.getLong(14), rs.getString(15), instant(rs, 16),
                rs.getLong(17), rs.getLong(18));
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : Times.fromNanos(v);
    }

    private static String placeholders(int n) {
        String[] q = new String[n];
        Arrays.fill(q, "?");
        return String.join(", ", q);
    }

    private static void bind(PreparedStatement ps, List<Object> args) throws SQLException {
        for (int i = 0; i < args.size(); i++) {
            Object a = args.get(i);
            if (a instanceof Long) {
                ps.setLong(i + 1, (Long) a);
            } else if (a instanceof Integer) {
                ps.setInt(i + 1, (Integer) a);
            } else {
                ps.setString(i + 1, (String) a);
            }
        }
    }

    interface ReadWork<T> {
        T run(ReadPool.Reader r) throws SQLException;
    }

    <T> T read(String what, ReadWork<T> work) {
        store.checkOpen();
        ReadPool.Reader r = readers.acquire();
        try {
            return work.run(r);
        } catch (SQLException e) {
            throw SqliteTaskStore.failure("SQLite " + what + " failed: " + e.getMessage(), e);
        } finally {
            readers.release(r);
        }
    }}
