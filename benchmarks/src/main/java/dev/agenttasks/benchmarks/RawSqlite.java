package dev.agenttasks.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.sqlite.SqliteTaskStore;
import org.sqlite.SQLiteConfig;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Map;

/**
 * The raw sqlite-jdbc baselines: the same schema (created by opening a {@link SqliteTaskStore} on the
 * file), the same pragmas (WAL, synchronous=NORMAL, foreign keys on), plain prepared statements.
 */
final class RawSqlite {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String INSERT_TASK = "INSERT INTO tasks (id, agent_id, status, title, title_lower, "
            + "created_at, metadata, options, timeout_millis) VALUES (?, 'bench', 'PENDING', ?, ?, ?, '{}', '{}', 0)";

    private RawSqlite() {
    }

    /** Creates the store's schema in a new file. */
    static void createSchema(Path file) {
        SqliteTaskStore.open(file).close();
    }

    static Connection connect(Path file) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        config.setBusyTimeout(5000);
        config.enforceForeignKeys(true);
        return config.createConnection("jdbc:sqlite:" + file);
    }

    /** Inserts a task row; returns its integer key (the events refer to it). */
    private static long insertTask(PreparedStatement ps, String id) throws SQLException {
        ps.setString(1, id);
        ps.setString(2, "Raw task " + id);
        ps.setString(3, "raw task " + id);
        ps.setLong(4, System.currentTimeMillis() * 1_000_000L);
        ps.executeUpdate();
        try (java.sql.Statement s = ps.getConnection().createStatement();
             ResultSet rs = s.executeQuery("SELECT last_insert_rowid()")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Inserts {@code count} 200-byte event rows of one task, {@code perTx} rows per transaction, with JDBC
     * batches. The JSON text is built by string concatenation (no mapper), so this is the database's cost.
     *
     * @return rows per second
     */
    static double insertEvents(Path file, int count, int perTx) throws Exception {
        return insertEvents(file, count, perTx, false, false);
    }

    /** The store's append statement: inserts only if the seq follows the task's last one. */
    static final String CONDITIONAL_APPEND = "INSERT INTO events (id, type, data, ts) "
            + "SELECT ?1 * 4294967296 + ?2, ?3, ?4, ?5 WHERE ?2 = coalesce((SELECT max(id) FROM events "
            + "WHERE id BETWEEN ?1 * 4294967296 AND ?1 * 4294967296 + 4294967295) - ?1 * 4294967296, 0) + 1";
    /** A plain insert of an event row; its key is the task's integer key &times; 2^32 + seq, computed in Java. */
    static final String APPEND = "INSERT INTO events (id, type, data, ts) VALUES (?, ?, ?, ?)";

    /**
     * Diagnostic variants of {@link #insertEvents(Path, int, int)}: {@code jackson} serialises each row's
     * data from a map with Jackson (as the store does), {@code conditional} uses the store's
     * conditional append statement instead of a plain INSERT.
     */
    static double insertEvents(Path file, int count, int perTx, boolean jackson, boolean conditional) throws Exception {
        createSchema(file);
        try (Connection c = connect(file)) {
            long pk;
            try (PreparedStatement ps = c.prepareStatement(INSERT_TASK)) {
                pk = insertTask(ps, "raw-events");
            }
            c.setAutoCommit(false);
            long start = System.nanoTime();
            try (PreparedStatement ps = c.prepareStatement(conditional ? CONDITIONAL_APPEND : APPEND)) {
                int inTx = 0;
                for (int i = 0; i < count; i++) {
                    long now = System.nanoTime();
                    bindEvent(ps, conditional, pk, i + 1L, Agents.TYPE,
                            jackson ? MAPPER.writeValueAsString(Agents.payload(i)) : Agents.payloadJson(i, now),
                            System.currentTimeMillis() * 1_000_000L);
                    ps.addBatch();
                    if (++inTx == perTx) {
                        ps.executeBatch();
                        c.commit();
                        inTx = 0;
                    }
                }
                if (inTx > 0) {
                    ps.executeBatch();
                    c.commit();
                }
            }
            return count / ((System.nanoTime() - start) / 1e9);
        }
    }

    /**
     * As {@link #insertEvents(Path, int, int)}, but into a file with the version 1 schema (task-sqlite's
     * {@code V1__init.sql}: events in a {@code WITHOUT ROWID} table keyed by task id text and seq, 4 KB
     * pages), the layout the store used before schema version 2: the baseline of the event throughput ratio
     * before the storage change.
     *
     * @return rows per second
     */
    static double insertEventsV1Layout(Path file, int count, int perTx) throws Exception {
        try (Connection c = connect(file)) {
            try (java.sql.Statement s = c.createStatement()) {
                for (String stmt : StorageBench.v1Statements()) {
                    s.execute(stmt);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tasks (id, agent_id, status, title, title_lower, "
                    + "created_at, metadata, options, timeout_millis) VALUES ('raw-events', 'bench', 'PENDING', 'Raw', "
                    + "'raw', 0, '{}', '{}', 0)")) {
                ps.executeUpdate();
            }
            c.setAutoCommit(false);
            long start = System.nanoTime();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (task_id, seq, type, data, ts) "
                    + "VALUES (?, ?, ?, ?, ?)")) {
                int inTx = 0;
                for (int i = 0; i < count; i++) {
                    ps.setString(1, "raw-events");
                    ps.setLong(2, i + 1L);
                    ps.setString(3, Agents.TYPE);
                    ps.setString(4, Agents.payloadJson(i, System.nanoTime()));
                    ps.setLong(5, System.currentTimeMillis() * 1_000_000L);
                    ps.addBatch();
                    if (++inTx == perTx) {
                        ps.executeBatch();
                        c.commit();
                        inTx = 0;
                    }
                }
                if (inTx > 0) {
                    ps.executeBatch();
                    c.commit();
                }
            }
            return count / ((System.nanoTime() - start) / 1e9);
        }
    }

    /**
     * For each task, one transaction: insert the task row, update it to RUNNING, update it to COMPLETED.
     *
     * @return tasks per second
     */
    static double taskTransactions(Path file, int count) throws SQLException {
        createSchema(file);
        try (Connection c = connect(file)) {
            c.setAutoCommit(false);
            long start = System.nanoTime();
            try (PreparedStatement insert = c.prepareStatement(INSERT_TASK);
                 PreparedStatement running = c.prepareStatement(
                         "UPDATE tasks SET status = 'RUNNING', started_at = ?, owner = 'raw' WHERE id = ? AND status = 'PENDING'");
                 PreparedStatement done = c.prepareStatement(
                         "UPDATE tasks SET status = 'COMPLETED', completed_at = ?, owner = NULL WHERE id = ? AND status = 'RUNNING'")) {
                for (int i = 0; i < count; i++) {
                    String id = "raw-task-" + i;
                    insertTask(insert, id);
                    running.setLong(1, System.currentTimeMillis() * 1_000_000L);
                    running.setString(2, id);
                    running.executeUpdate();
                    done.setLong(1, System.currentTimeMillis() * 1_000_000L);
                    done.setString(2, id);
                    done.executeUpdate();
                    c.commit();
                }
            }
            return count / ((System.nanoTime() - start) / 1e9);
        }
    }

    /**
     * Diagnostic: the engine's whole write set per task in raw JDBC (insert task, 7 events, 2 status
     * updates: what the engine writes since task-core 520066b), {@code tasksPerTx} tasks per transaction.
     *
     * @return CPU microseconds of this thread per task
     */
    static double engineWriteSet(Path file, int count, int tasksPerTx, boolean conditional) throws Exception {
        createSchema(file);
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        try (Connection c = connect(file)) {
            c.setAutoCommit(false);
            long cpu0 = mx.getCurrentThreadCpuTime();
            try (PreparedStatement insert = c.prepareStatement(INSERT_TASK);
                 PreparedStatement event = c.prepareStatement(conditional ? CONDITIONAL_APPEND : APPEND);
                 PreparedStatement update = c.prepareStatement("UPDATE tasks SET session_id = ?, status = ?, started_at = ?, "
                         + "completed_at = ?, error = ?, owner = ?, lease_until = ? WHERE id = ? AND status = ?")) {
                for (int i = 0; i < count; i++) {
                    String id = "task_" + String.format("%026d", i);
                    long now = System.currentTimeMillis() * 1_000_000L;
                    long pk = insertTask(insert, id);
                    addEvent(event, conditional, pk, 1, "status", "{\"status\":\"pending\"}", now);
                    addEvent(event, conditional, pk, 2, "user_message", "{\"turn\":1,\"text\":\"task " + i + "\"}", now);
                    update(update, id, "RUNNING", "PENDING", now);
                    addEvent(event, conditional, pk, 3, "status", "{\"status\":\"running\",\"turn\":1}", now);
                    for (int k = 0; k < 3; k++) {
                        addEvent(event, conditional, pk, 4 + k, "step", "{\"n\":" + k + "}", now);
                    }
                    update(update, id, "COMPLETED", "RUNNING", now);
                    addEvent(event, conditional, pk, 7, "status", "{\"status\":\"completed\",\"result\":{}}", now);
                    if ((i + 1) % tasksPerTx == 0) {
                        c.commit();
                    }
                }
                c.commit();
            }
            return (mx.getCurrentThreadCpuTime() - cpu0) / 1e3 / count;
        }
    }

    private static void addEvent(PreparedStatement ps, boolean conditional, long pk, long seq, String type,
                                 String data, long ts) throws SQLException {
        bindEvent(ps, conditional, pk, seq, type, data, ts);
        ps.executeUpdate();
    }

    /** Binds {@link #APPEND} (key computed here) or {@link #CONDITIONAL_APPEND} (pk and seq). */
    private static void bindEvent(PreparedStatement ps, boolean conditional, long pk, long seq, String type,
                                  String data, long ts) throws SQLException {
        int i = 1;
        if (conditional) {
            ps.setLong(i++, pk);
            ps.setLong(i++, seq);
        } else {
            ps.setLong(i++, (pk << 32) | seq);
        }
        ps.setString(i++, type);
        ps.setString(i++, data);
        ps.setLong(i, ts);
    }

    private static void update(PreparedStatement ps, String id, String to, String from, long now) throws SQLException {
        ps.setNull(1, java.sql.Types.VARCHAR);
        ps.setString(2, to);
        ps.setLong(3, now);
        if (to.equals("COMPLETED")) {
            ps.setLong(4, now);
        } else {
            ps.setNull(4, java.sql.Types.INTEGER);
        }
        ps.setNull(5, java.sql.Types.VARCHAR);
        ps.setString(6, to.equals("COMPLETED") ? null : "host");
        ps.setNull(7, java.sql.Types.INTEGER);
        ps.setString(8, id);
        ps.setString(9, from);
        ps.executeUpdate();
    }

    /** The SQLite store's own JSON reader ({@code dev.agenttasks.sqlite.Json.readMap}, package-private). */
    private static final MethodHandle STORE_READ_MAP = storeMethod("Json", "readMap",
            MethodType.methodType(Map.class, String.class));
    /** The SQLite store's own timestamp conversion ({@code Times.fromNanos}). */
    private static final MethodHandle STORE_FROM_NANOS = storeMethod("Times", "fromNanos",
            MethodType.methodType(Instant.class, long.class));

    private static MethodHandle storeMethod(String cls, String name, MethodType type) {
        try {
            Class<?> c = Class.forName("dev.agenttasks.sqlite." + cls);
            return MethodHandles.privateLookupIn(c, MethodHandles.lookup()).findStatic(c, name, type);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the benchmarks read with the SQLite store's " + cls + "." + name
                    + " (run them on the class path): " + e, e);
        }
    }

    /**
     * Reads every event of a task with one {@code SELECT ... ORDER BY seq} on an open connection,
     * parsing each row's JSON with the store's own fast path ({@code Json.readMap}: Jackson's streaming
     * parser straight into immutable maps) and building a {@link TaskEvent}, as the store's
     * {@code events} does, but in one query with no paging and no hand-off to a subscriber.
     *
     * @return the number of events read
     */
    static long readEvents(Connection c, String taskId) throws Exception {
        long n = 0;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT e.id - t.pk * 4294967296, e.type, e.data, e.ts FROM tasks t JOIN events e ON e.id "
                        + "BETWEEN t.pk * 4294967296 AND t.pk * 4294967296 + 4294967295 WHERE t.id = ? ORDER BY e.id")) {
            ps.setString(1, taskId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    TaskEvent e = new TaskEvent(taskId, rs.getLong(1), rs.getString(2), parse(rs.getString(3)),
                            fromNanos(rs.getLong(4)));
                    if (e.seq() > 0) {
                        n++;
                    }
                }
            }
        }
        return n;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(String json) {
        try {
            return (Map<String, Object>) STORE_READ_MAP.invokeExact(json);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    private static Instant fromNanos(long nanos) {
        try {
            return (Instant) STORE_FROM_NANOS.invokeExact(nanos);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}
