package dev.agenttasks.sqlite;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.JsonEncoded;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The write side of {@link SqliteTaskStore}: the writer connection and its prepared statements, the batch
 * of {@link StoreOp}s applied in one {@code BEGIN IMMEDIATE} transaction (JDBC batches for runs of ops of
 * the same kind), the cache of tasks' keys and last seqs that lets an append cost no query, and the write
 * transactions the other parts run ({@link SqliteHosts}, {@link SqliteDeletes}).
 */
final class SqliteWrites {

    private static final Logger LOG = LoggerFactory.getLogger(SqliteTaskStore.class);
    private static final int LAST_SEQ_CACHE_SIZE = 16_384;
    private static final long MAX_SEQ = SqliteTaskStore.MAX_SEQ;

    private static final String INSERT_TASK = "INSERT INTO tasks (id, agent_id, session_id, status, title, "
            + "title_lower, model, created_at, started_at, completed_at, error, work_dir, metadata, options, "
            + "timeout_millis, owner, lease_until, epoch, pk, created_hw) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING";
    private static final String UPDATE_TASK = "UPDATE tasks SET session_id = ?, status = ?, started_at = ?, "
            + "completed_at = ?, error = ?, owner = ?, lease_until = ? WHERE id = ? AND status = ?";
    private static final String APPEND_EVENT = "INSERT INTO events (id, type, data, ts) VALUES (?, ?, ?, ?)";
    private static final String ADD_MESSAGE =
            "INSERT INTO messages (task_id, message_id, message, created_at) VALUES (?, ?, ?, ?)";
    private static final String REMOVE_MESSAGE = "DELETE FROM messages WHERE task_id = ? AND message_id = ?";
    private static final String TASK_STATUS = "SELECT status FROM tasks WHERE id = ?";
    static final String TASK_TAIL = "SELECT t.pk, " + SqliteReads.lastSeqOf("t") + " FROM tasks t WHERE t.id = ?";

    private final SqliteTaskStore store;
    private final Path path;
    private final SqliteHosts hosts;
    final ReentrantLock writeLock = new ReentrantLock();
    final Connection writer;
    private final PreparedStatement insertTask;
    private final PreparedStatement updateTask;
    private final PreparedStatement appendEvent;
    private final PreparedStatement addMessage;
    private final PreparedStatement removeMessage;
    /** Keys, created_hw, title index and counts of the rows this writer inserts and updates. */
    private final TaskUpkeep upkeep;
    private final Checkpointer checkpointer;

    /**
     * The key and last committed seq of recently written tasks, so that an append costs no query. Guarded by {@link #writeLock}. Cleared when another connection (another process) has
     * committed to the file since ({@code PRAGMA data_version} changed), and after any failed write.
     */
    private final Map<String, Tail> lastSeqs = new LinkedHashMap<>(1024, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Tail> eldest) {
            return size() > LAST_SEQ_CACHE_SIZE;
        }
    };
    /** The seqs a batch in progress has written (committed into {@link #lastSeqs} with it). */
    private final Map<String, Tail> staged = new HashMap<>();
    private long dataVersion = Long.MIN_VALUE;

    SqliteWrites(SqliteTaskStore store, Path path, Connection w, SqliteHosts hosts, Checkpointer checkpointer)
            throws SQLException {
        this.store = store;
        this.path = path;
        this.hosts = hosts;
        this.writer = w;
        this.insertTask = w.prepareStatement(INSERT_TASK);
        this.updateTask = w.prepareStatement(UPDATE_TASK);
        this.appendEvent = w.prepareStatement(APPEND_EVENT);
        this.addMessage = w.prepareStatement(ADD_MESSAGE);
        this.removeMessage = w.prepareStatement(REMOVE_MESSAGE);
        this.upkeep = new TaskUpkeep(w);
        this.checkpointer = checkpointer;
    }

    /**
     * Applies a batch in one {@code BEGIN IMMEDIATE} transaction on the writer connection; consecutive ops of
     * the same kind go through one JDBC batch. See {@link SqliteTaskStore#write(List)}.
     */
    void write(List<StoreOp> ops) {
        Objects.requireNonNull(ops, "ops");
        if (ops.isEmpty()) {
            return;
        }
        writeLock.lock();
        try {
            store.checkOpen();
            boolean began = false;
            staged.clear();
            upkeep.reset();
            try {
                exec("BEGIN IMMEDIATE");
                began = true;
                checkDataVersion();
                int i = 0;
                int n = ops.size();
                while (i < n) {
                    Class<?> kind = ops.get(i).getClass();
                    int j = i + 1;
                    while (j < n && ops.get(j).getClass() == kind) {
                        j++;
                    }
                    applyRun(ops.subList(i, j));
                    i = j;
                }
                upkeep.writeCounts();
                exec("COMMIT");
                checkpointer.committed();
                lastSeqs.putAll(staged);
            } catch (SQLException e) {
                if (began) {
                    rollback();
                }
                Set<String> ids = taskIds(ops);
                LOG.warn("SQLite store {}: write of {} ops failed for tasks {}: {}", path, ops.size(), ids,
                        e.getMessage());
                throw SqliteTaskStore.failure("SQLite write failed for tasks " + ids + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                if (began) {
                    rollback();
                }
                throw e;
            }
        } finally {
            writeLock.unlock();
        }
    }

    private void applyRun(List<StoreOp> run) throws SQLException {
        StoreOp first = run.get(0);
        if (first instanceof StoreOp.AppendEvent) {
            appendEvents(run);
        } else if (first instanceof StoreOp.InsertTask) {
            insertTasks(run);
        } else if (first instanceof StoreOp.UpdateTask) {
            updateTasks(run);
        } else if (first instanceof StoreOp.AddMessage) {
            addMessages(run);
        } else if (first instanceof StoreOp.RemoveMessage) {
            removeMessages(run);
        } else if (SqliteHosts.handles(first)) {
            hosts.apply(writer, run);
        } else {
            throw new TaskStoreException("unknown store op: " + first.getClass().getName());
        }
    }

    private void appendEvents(List<StoreOp> run) throws SQLException {
        PreparedStatement ps = appendEvent;
        for (StoreOp op : run) {
            TaskEvent ev = ((StoreOp.AppendEvent) op).event();
            String id = ev.taskId();
            Tail tail = tail(id);
            if (tail == null) {
                ps.clearBatch();
                throw new StoreConflictException(id, "no such task: " + id);
            }
            if (ev.seq() != tail.seq + 1) {
                ps.clearBatch();
                throw new StoreConflictException(id, "event seq " + ev.seq() + " of task " + id + " does not follow "
                        + tail.seq);
            }
            if (ev.seq() > MAX_SEQ) {
                ps.clearBatch();
                throw new TaskStoreException("event seq " + ev.seq() + " of task " + id + " is beyond the store's limit "
                        + MAX_SEQ);
            }
            staged.put(id, new Tail(tail.pk, ev.seq()));
            ps.setLong(1, (tail.pk << 32) | ev.seq());
            ps.setString(2, ev.type());
            // the engine encodes event data on the emitting thread; use it rather than encoding here
            ps.setString(3, ev.data() instanceof JsonEncoded ? ((JsonEncoded) ev.data()).json() : Json.write(ev.data()));
            ps.setLong(4, Times.toNanos(ev.timestamp(), "event timestamp"));
            ps.addBatch();
        }
        executeBatch(ps, run);
    }

    /** A task's key and last event seq (0 if none). */
    private static final class Tail {
        final long pk;
        final long seq;

        Tail(long pk, long seq) {
            this.pk = pk;
            this.seq = seq;
        }
    }

    /** A task's key and last seq as this transaction sees it: staged, cached, or read; null if no such task. */
    private Tail tail(String taskId) {
        Tail tail = staged.get(taskId);
        if (tail == null) {
            tail = lastSeqs.get(taskId);
        }
        if (tail == null) {
            tail = tailInTransaction(taskId);
            if (tail != null) {
                staged.put(taskId, tail);
            }
        }
        return tail;
    }

    /** Forgets the cached seqs if another connection has committed to the file since this one last looked. */
    private void checkDataVersion() throws SQLException {
        long v;
        try (Statement st = writer.createStatement(); ResultSet rs = st.executeQuery("PRAGMA data_version")) {
            v = rs.next() ? rs.getLong(1) : Long.MIN_VALUE;
        }
        if (v != dataVersion) {
            lastSeqs.clear();
            dataVersion = v;
        }
    }

    private void insertTasks(List<StoreOp> run) throws SQLException {
        PreparedStatement ps = insertTask;
        long[] pks = new long[run.size()];
        for (int k = 0; k < pks.length; k++) {
            TaskRecord r = ((StoreOp.InsertTask) run.get(k)).record();
            Task t = r.task();
            ps.setString(1, t.id());
            ps.setString(2, t.agentId());
            ps.setString(3, t.sessionId());
            ps.setString(4, t.status().name());
            ps.setString(5, t.title());
            String titleLower = t.title().toLowerCase(Locale.ROOT);
            ps.setString(6, titleLower);
            ps.setString(7, t.model());
            ps.setLong(8, Times.toNanos(t.createdAt(), "createdAt"));
            setInstant(ps, 9, t.startedAt(), "startedAt");
            setInstant(ps, 10, t.completedAt(), "completedAt");
            ps.setString(11, t.error());
            ps.setString(12, t.workDir());
            ps.setString(13, Json.write(t.metadata()));
            ps.setString(14, Json.write(r.options()));
            ps.setLong(15, r.timeoutMillis());
            ps.setString(16, r.owner());
            setInstant(ps, 17, r.leaseUntil(), "leaseUntil");
            ps.setLong(18, r.epoch());
            long pk = upkeep.nextPk();
            pks[k] = pk;
            ps.setLong(19, pk);
            ps.setLong(20, upkeep.hwFor(Times.toNanos(t.createdAt(), "createdAt")));
            ps.addBatch();
            upkeep.addTitle(pk, titleLower);
        }
        int[] counts = executeBatch(ps, run);
        for (int k = 0; k < counts.length; k++) {
            if (counts[k] == 0) {
                String id = run.get(k).taskId();
                throw new StoreConflictException(id, "task already exists: " + id);
            }
        }
        upkeep.indexTitles();
        for (int k = 0; k < pks.length; k++) {
            Task t = ((StoreOp.InsertTask) run.get(k)).record().task();
            upkeep.inserted(t.status());
            // a new key has no events (a deleted task's went with it): its first append costs no query
            staged.put(t.id(), new Tail(pks[k], 0));
        }
    }

    private void updateTasks(List<StoreOp> run) throws SQLException {
        PreparedStatement ps = updateTask;
        for (StoreOp op : run) {
            StoreOp.UpdateTask u = (StoreOp.UpdateTask) op;
            TaskRecord r = u.record();
            Task t = r.task();
            ps.setString(1, t.sessionId());
            ps.setString(2, t.status().name());
            setInstant(ps, 3, t.startedAt(), "startedAt");
            setInstant(ps, 4, t.completedAt(), "completedAt");
            ps.setString(5, t.error());
            ps.setString(6, r.owner());
            setInstant(ps, 7, r.leaseUntil(), "leaseUntil");
            ps.setString(8, t.id());
            ps.setString(9, u.expected().name());
            ps.addBatch();
        }
        int[] counts = executeBatch(ps, run);
        for (int k = 0; k < counts.length; k++) {
            StoreOp.UpdateTask u = (StoreOp.UpdateTask) run.get(k);
            if (counts[k] != 0) {
                upkeep.moved(u.expected(), u.record().task().status());
            } else {
                String id = u.taskId();
                String status = statusInTransaction(id);
                throw new StoreConflictException(id, status == null ? "no such task: " + id
                        : "task " + id + " is " + status + ", expected " + u.expected());
            }
        }
    }

    private void addMessages(List<StoreOp> run) throws SQLException {
        PreparedStatement ps = addMessage;
        for (StoreOp op : run) {
            PendingMessage m = ((StoreOp.AddMessage) op).message();
            ps.setString(1, m.taskId());
            ps.setString(2, m.messageId());
            ps.setString(3, Json.writeMessage(m.message()));
            ps.setLong(4, Times.toNanos(m.createdAt(), "message createdAt"));
            ps.addBatch();
        }
        executeBatch(ps, run);
    }

    private void removeMessages(List<StoreOp> run) throws SQLException {
        PreparedStatement ps = removeMessage;
        for (StoreOp op : run) {
            StoreOp.RemoveMessage r = (StoreOp.RemoveMessage) op;
            ps.setString(1, r.taskId());
            ps.setString(2, r.messageId());
            ps.addBatch();
        }
        int[] counts = executeBatch(ps, run);
        for (int k = 0; k < counts.length; k++) {
            if (counts[k] == 0) {
                Optional<StoreConflictException> missing = missingTaskConflict(run.get(k).taskId());
                if (missing.isPresent()) {
                    throw missing.get();
                }
            }
        }
    }

    /**
     * Executes a batch; a foreign-key violation (an event or message of a missing task) becomes a
     * {@link StoreConflictException} naming the first op of the run whose task is missing.
     */
    private int[] executeBatch(PreparedStatement ps, List<StoreOp> run) throws SQLException {
        try {
            return ps.executeBatch();
        } catch (SQLException e) {
            ps.clearBatch();
            if (isForeignKeyViolation(e)) {
                for (StoreOp op : run) {
                    Optional<StoreConflictException> missing = missingTaskConflict(op.taskId());
                    if (missing.isPresent()) {
                        throw missing.get();
                    }
                }
            }
            if (isConstraint(e, SQLiteErrorCode.SQLITE_CONSTRAINT_PRIMARYKEY, "UNIQUE constraint failed: events")) {
                String id = run.get(0).taskId();
                throw new StoreConflictException(id, "an event seq of the batch already exists (first task of the run: "
                        + id + ")");
            }
            throw e;
        }
    }

    private static boolean isForeignKeyViolation(SQLException e) {
        return isConstraint(e, SQLiteErrorCode.SQLITE_CONSTRAINT_FOREIGNKEY, "FOREIGN KEY constraint failed");
    }

    private static boolean isConstraint(SQLException e, SQLiteErrorCode code, String message) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLiteException && ((SQLiteException) t).getResultCode() == code) {
                return true;
            }
            if (t.getMessage() != null && t.getMessage().contains(message)) {
                return true;
            }
        }
        return false;
    }

    private Optional<StoreConflictException> missingTaskConflict(String taskId) throws SQLException {
        if (statusInTransaction(taskId) == null) {
            return Optional.of(new StoreConflictException(taskId, "no such task: " + taskId));
        }
        return Optional.empty();
    }

    private String statusInTransaction(String taskId) throws SQLException {
        try (PreparedStatement ps = writer.prepareStatement(TASK_STATUS)) {
            ps.setString(1, taskId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private Tail tailInTransaction(String taskId) {
        try (PreparedStatement ps = writer.prepareStatement(TASK_TAIL)) {
            ps.setString(1, taskId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new Tail(rs.getLong(1), rs.getLong(2)) : null;
            }
        } catch (SQLException e) {
            throw new TaskStoreException("SQLite read of the last seq of task " + taskId + " failed", e);
        }
    }

    private static void setInstant(PreparedStatement ps, int index, Instant t, String field) throws SQLException {
        if (t == null) {
            ps.setNull(index, Types.INTEGER);
        } else {
            ps.setLong(index, Times.toNanos(t, field));
        }
    }

    private void exec(String sql) throws SQLException {
        try (Statement s = writer.createStatement()) {
            s.execute(sql);
        }
    }

    private void rollback() {
        clearBatches();
        upkeep.reset();
        staged.clear();
        lastSeqs.clear();
        try {
            exec("ROLLBACK");
        } catch (SQLException e) {
            LOG.debug("SQLite store {}: rollback after a failed write reported: {}", path, e.getMessage());
        }
    }

    private void clearBatches() {
        for (PreparedStatement ps : List.of(insertTask, updateTask, appendEvent, addMessage, removeMessage)) {
            try {
                ps.clearBatch();
            } catch (SQLException e) {
                LOG.debug("SQLite store {}: clearing a batch reported: {}", path, e.getMessage());
            }
        }
    }

    private static Set<String> taskIds(List<StoreOp> ops) {
        Set<String> ids = new LinkedHashSet<>();
        for (StoreOp op : ops) {
            ids.add(op.taskId());
            if (ids.size() >= 10) {
                break;
            }
        }
        return ids;
    }

    private interface SqlWork<T> {
        T run() throws SQLException;
    }

    /** Work on the writer connection inside a write transaction. */
    interface WriteWork<T> {
        T run(Connection c) throws SQLException;
    }

    /** Runs work in one {@code BEGIN IMMEDIATE} transaction on the writer connection. */
    <T> T writeTransaction(String what, WriteWork<T> work) {
        return writeTransaction(what, () -> work.run(writer));
    }

    private <T> T writeTransaction(String what, SqlWork<T> work) {
        writeLock.lock();
        try {
            store.checkOpen();
            boolean began = false;
            try {
                exec("BEGIN IMMEDIATE");
                began = true;
                T n = work.run();
                exec("COMMIT");
                checkpointer.committed();
                return n;
            } catch (SQLException e) {
                if (began) {
                    rollback();
                }
                throw SqliteTaskStore.failure("SQLite " + what + " failed: " + e.getMessage(), e);
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** Forgets the cached key and seq of a task whose row goes (inside a write transaction). */
    void forgetTail(String taskId) {
        lastSeqs.remove(taskId);
    }

    /** Forgets every cached key and seq (inside a write transaction that removes rows). */
    void forgetTails() {
        lastSeqs.clear();
    }

    /** Closes the prepared statements (at close, under the write lock). */
    void closeStatements() {
        List<PreparedStatement> all = new java.util.ArrayList<>(List.of(insertTask, updateTask, appendEvent, addMessage,
                removeMessage));
        all.addAll(upkeep.statements());
        for (PreparedStatement ps : all) {
            try {
                ps.close();
            } catch (SQLException e) {
                LOG.debug("SQLite store {}: closing a statement reported: {}", path, e.getMessage());
            }
        }
    }

    /** The value of a pragma on the writer connection (see {@link SqliteTaskStore#writerPragma(String)}). */
    String pragma(String name) {
        writeLock.lock();
        try (Statement st = writer.createStatement(); ResultSet rs = st.executeQuery("PRAGMA " + name)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new TaskStoreException("cannot read pragma " + name, e);
        } finally {
            writeLock.unlock();
        }
    }
}
