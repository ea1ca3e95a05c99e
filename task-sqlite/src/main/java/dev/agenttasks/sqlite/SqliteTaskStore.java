package dev.agenttasks.sqlite;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.JsonEncoded;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskCursor;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.TransientStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
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
 * The durable {@link TaskStore}: one embedded SQLite file, no server.
 *
 * <pre>{@code
 * TaskStore store = SqliteTaskStore.open(Path.of("data/tasks.db"));
 * // or
 * TaskStore store = SqliteTaskStore.builder(Path.of("data/tasks.db"))
 *         .durability(Durability.FULL)
 *         .busyTimeout(Duration.ofSeconds(10))
 *         .readConnections(4)
 *         .build();
 * }</pre>
 *
 * <p><b>Schema.</b> Opening applies the schema migrations the file lacks (versioned SQL files on the
 * class path, recorded in a {@code schema_version} table); opening again is a no-op. A file that is not
 * an SQLite database ({@link NotASqliteDatabaseException}), one written by a newer version of this store
 * or one holding another application's tables ({@link SchemaVersionException}) is refused before
 * anything is written to it. Missing parent directories are created.
 *
 * <p><b>Layout</b> (schema version 2). A new file uses 32 KB pages. An event is one row of a rowid table
 * whose key is its task's integer key &times; 2<sup>32</sup> + its seq, so a task's log is one key range
 * (read and appended by seeks, no second index) and rows up to 10 KB share pages instead of spilling
 * into mostly empty overflow pages. Triggers keep a count of tasks per status ({@link #countByStatus()}
 * reads a handful of rows however many tasks are kept) and an FTS5 trigram index of the lower-cased
 * titles (see {@link #list(TaskQuery, TaskCursor, int)}). A version 1 file is migrated in one transaction
 * when opened, then rewritten with the larger pages if no other connection has the file open (if one
 * has, the file keeps its pages and a warning is logged).
 *
 * <p><b>Connections.</b> The journal is WAL, foreign keys are on and every connection waits up to the
 * {@linkplain Builder#busyTimeout(Duration) busy timeout} for a lock. One writer connection applies each
 * {@link #write(List) batch} in one {@code BEGIN IMMEDIATE} transaction, with prepared statements
 * executed in JDBC batches for runs of ops of the same kind. Reads use a small pool of separate
 * connections, one statement (one short read transaction) per call, so that a long replay, which pages
 * through {@link #events(String, long, int)}, never holds the WAL back from being checkpointed.
 *
 * <p><b>Durability</b> is chosen with {@link Builder#durability(Durability)}: {@link Durability#NORMAL}
 * by default (committed writes survive a crash of the process), {@link Durability#FULL} to survive a
 * power loss or an operating-system crash as well.
 *
 * <p><b>Values.</b> Instants are stored as epoch nanoseconds, so they read back equal to what was
 * written, for instants from 1677-09-21 to 2262-04-11 (others are refused with a
 * {@link TaskStoreException} and the batch is not applied). Metadata, options, event data and messages
 * are stored as JSON text; maps and lists read back are immutable and keep their key order. JSON keeps no
 * Java number types: an integral number reads back as {@code Long} (or {@code BigInteger} beyond its
 * range), any other number as {@code Double}, which is how the engine normalises the data it writes.
 *
 * <p>All SQL uses bound parameters; {@link #list(TaskQuery, TaskCursor, int)} assembles its WHERE clause
 * from fixed fragments only. The store is thread-safe. Failures are thrown as {@link TaskStoreException}
 * with the SQLite error as the cause ({@link StoreConflictException} when an op's condition fails); a
 * failed batch is rolled back whole.
 */
public final class SqliteTaskStore implements TaskStore {

    /** The busy timeout used unless the builder is given another. */
    public static final Duration DEFAULT_BUSY_TIMEOUT = Duration.ofSeconds(5);
    /** The number of read connections used unless the builder is given another. */
    public static final int DEFAULT_READ_CONNECTIONS = 4;
    /** The largest number of read connections the builder accepts. */
    public static final int MAX_READ_CONNECTIONS = 64;
    /** The schema version this store writes and the highest it can open. */
    public static final int SCHEMA_VERSION = Migrations.LATEST;

    private static final Logger LOG = LoggerFactory.getLogger(SqliteTaskStore.class);
    private static final int LAST_SEQ_CACHE_SIZE = 16_384;
    private static final int WAL_SIZE_LIMIT = 64 * 1024 * 1024;
    private static final byte[] SQLITE_HEADER = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

    private static final String TASK_COLUMNS = "t.id, t.agent_id, t.session_id, t.status, t.title, t.model, "
            + "t.created_at, t.started_at, t.completed_at, t.error, t.work_dir, t.metadata, t.options, "
            + "t.timeout_millis, t.owner, t.lease_until, " + lastSeqOf("t") + ", t.epoch";
    private static final String SELECT_TASK = "SELECT " + TASK_COLUMNS + " FROM tasks t";
    /** The task columns {@link #taskRecord(ResultSet)} reads, from the table aliased {@code t}. */
    static final String SELECT_TASK_SQL = SELECT_TASK;

    private static final String INSERT_TASK = "INSERT INTO tasks (id, agent_id, session_id, status, title, "
            + "title_lower, model, created_at, started_at, completed_at, error, work_dir, metadata, options, "
            + "timeout_millis, owner, lease_until, epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            + "ON CONFLICT (id) DO NOTHING";
    private static final String UPDATE_TASK = "UPDATE tasks SET session_id = ?, status = ?, started_at = ?, "
            + "completed_at = ?, error = ?, owner = ?, lease_until = ? WHERE id = ? AND status = ?";
    private static final String APPEND_EVENT = "INSERT INTO events (id, type, data, ts) VALUES (?, ?, ?, ?)";
    private static final String ADD_MESSAGE =
            "INSERT INTO messages (task_id, message_id, message, created_at) VALUES (?, ?, ?, ?)";
    private static final String REMOVE_MESSAGE = "DELETE FROM messages WHERE task_id = ? AND message_id = ?";
    private static final String TASK_STATUS = "SELECT status FROM tasks WHERE id = ?";
    static final String TASK_TAIL = "SELECT t.pk, " + lastSeqOf("t") + " FROM tasks t WHERE t.id = ?";
    private static final String DELETE_TASK = "DELETE FROM tasks WHERE id = ?";
    private static final String PURGE = "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks "
            + "WHERE completed_at < ? AND status IN ('COMPLETED', 'FAILED', 'CANCELLED') "
            + "ORDER BY completed_at, id LIMIT ?)";
    static final String SELECT_EVENTS =
            "SELECT e.id - t.pk * 4294967296, e.type, e.data, e.ts FROM tasks t JOIN events e "
            + "ON e.id > t.pk * 4294967296 + ? AND e.id < (t.pk + 1) * 4294967296 WHERE t.id = ? ORDER BY e.id LIMIT ?";
    private static final String SELECT_MESSAGES =
            "SELECT message_id, message, created_at FROM messages WHERE task_id = ? ORDER BY id";
    /** The counts kept by the schema's triggers (version 2): one row per status ever used. */
    static final String COUNT_BY_STATUS = "SELECT status, n FROM task_counts WHERE n <> 0";
    /** Title queries at least this many code points long are answered from the trigram index. */
    static final int TRIGRAM = 3;
    /** The first key from which created_hw reaches a time: no task of a lower key was created at or after it. */
    private static final String LAST_KEY = "SELECT max(pk) FROM tasks";
    /** The newest tasks (plus 8 per row asked for) a title search looks through before it reads the index. */
    static final long NEWEST_WINDOW = 200;
    /** Up to this many keys (plus 8 per row asked for), matching the titles of a key range beats the index. */
    private static final long KEY_RANGE_WALK = 2_000;
    private static final String FIRST_KEY_CREATED_FROM =
            "SELECT pk FROM tasks WHERE created_hw >= ? ORDER BY created_hw, pk LIMIT 1";
    /** The page size of new files: rows up to 10 KB fill its pages (see the V2 migration). */
    static final int PAGE_SIZE = 32_768;

    /** The highest event seq the key layout holds: an event's key is its task's pk &times; 2^32 + seq. */
    static final long MAX_SEQ = 0xFFFF_FFFFL;

    private final Path path;
    private final Durability durability;
    private final Duration busyTimeout;

    private final ReentrantLock writeLock = new ReentrantLock();
    private final Connection writer;
    private final PreparedStatement insertTask;
    private final PreparedStatement updateTask;
    private final PreparedStatement appendEvent;
    private final PreparedStatement addMessage;
    private final PreparedStatement removeMessage;
    private final ReadPool readers;
    private final SqliteHosts hosts = new SqliteHosts(this);
    private volatile boolean closed;

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

    /** SQL for the last event seq (0 if none) of the task row named {@code t}: one seek to its key range's end. */
    private static String lastSeqOf(String t) {
        return "coalesce((SELECT max(e.id) FROM events e WHERE e.id BETWEEN " + t + ".pk * 4294967296 AND " + t
                + ".pk * 4294967296 + 4294967295) - " + t + ".pk * 4294967296, 0)";
    }

    private SqliteTaskStore(Builder b) {
        this.path = b.file.toAbsolutePath().normalize();
        this.durability = b.durability;
        this.busyTimeout = b.busyTimeout;
        inspect(path);
        Connection w = null;
        ReadPool pool = null;
        try {
            Path parent = path.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            if (!Files.exists(path) || Files.size(path) == 0) {
                createFile();
            }
            w = connect(true);
            migrate(w);
            this.writer = w;
            this.insertTask = w.prepareStatement(INSERT_TASK);
            this.updateTask = w.prepareStatement(UPDATE_TASK);
            this.appendEvent = w.prepareStatement(APPEND_EVENT);
            this.addMessage = w.prepareStatement(ADD_MESSAGE);
            this.removeMessage = w.prepareStatement(REMOVE_MESSAGE);
            pool = new ReadPool(b.readConnections);
            for (int i = 0; i < b.readConnections; i++) {
                pool.add(connect(false));
            }
            this.readers = pool;
        } catch (SQLException | IOException | RuntimeException e) {
            if (pool != null) {
                pool.close();
            }
            closeQuietly(w);
            if (e instanceof TaskStoreException) {
                throw (TaskStoreException) e;
            }
            throw new TaskStoreException("cannot open SQLite task store " + path + ": " + e.getMessage(), e);
        }
        LOG.info("Opened SQLite task store {} (schema version {}, durability {})", path, SCHEMA_VERSION, durability);
    }

    /**
     * Opens (creating if needed) a store with the default settings: {@link Durability#NORMAL}, a
     * {@linkplain #DEFAULT_BUSY_TIMEOUT 5 s} busy timeout, {@value #DEFAULT_READ_CONNECTIONS} read
     * connections.
     *
     * @param file the database file
     * @return the open store
     * @throws NotASqliteDatabaseException if the file exists and is not an SQLite database
     * @throws SchemaVersionException      if the database was written by a newer store or another application
     * @throws TaskStoreException          if it cannot be opened or migrated for another reason
     */
    public static SqliteTaskStore open(Path file) {
        return builder(file).build();
    }

    /**
     * @param file the database file (created with its missing parent directories if it does not exist)
     * @return a builder for a store on that file
     */
    public static Builder builder(Path file) {
        return new Builder(file);
    }

    /** @return the absolute path of the database file */
    public Path path() {
        return path;
    }

    /** @return the durability this store was opened with */
    public Durability durability() {
        return durability;
    }

    /**
     * A retention job for this store: call {@link RetentionRunner#runOnce()} or
     * {@link RetentionRunner#start(Duration)} it.
     *
     * @param maxAge how long terminal tasks are kept after they completed
     * @return a builder of the job
     */
    public RetentionRunner.Builder retention(Duration maxAge) {
        return RetentionRunner.builder(this, maxAge);
    }

    // ------------------------------------------------------------------------------------------ writes

    /**
     * {@inheritDoc}
     *
     * <p>One {@code BEGIN IMMEDIATE} transaction on the writer connection; consecutive ops of the same
     * kind go through one JDBC batch.
     */
    @Override
    public void write(List<StoreOp> ops) {
        Objects.requireNonNull(ops, "ops");
        if (ops.isEmpty()) {
            return;
        }
        writeLock.lock();
        try {
            checkOpen();
            boolean began = false;
            staged.clear();
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
                exec("COMMIT");
                lastSeqs.putAll(staged);
            } catch (SQLException e) {
                if (began) {
                    rollback();
                }
                Set<String> ids = taskIds(ops);
                LOG.warn("SQLite store {}: write of {} ops failed for tasks {}: {}", path, ops.size(), ids,
                        e.getMessage());
                throw failure("SQLite write failed for tasks " + ids + ": " + e.getMessage(), e);
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
        for (StoreOp op : run) {
            TaskRecord r = ((StoreOp.InsertTask) op).record();
            Task t = r.task();
            ps.setString(1, t.id());
            ps.setString(2, t.agentId());
            ps.setString(3, t.sessionId());
            ps.setString(4, t.status().name());
            ps.setString(5, t.title());
            ps.setString(6, t.title().toLowerCase(Locale.ROOT));
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
            ps.addBatch();
        }
        int[] counts = executeBatch(ps, run);
        for (int k = 0; k < counts.length; k++) {
            if (counts[k] == 0) {
                String id = run.get(k).taskId();
                throw new StoreConflictException(id, "task already exists: " + id);
            }
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
            if (counts[k] == 0) {
                StoreOp.UpdateTask u = (StoreOp.UpdateTask) run.get(k);
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

    /**
     * The exception for a failed call whose transaction was rolled back: {@link TransientStoreException}
     * when another connection held the database past busy_timeout ({@code SQLITE_BUSY}/{@code SQLITE_LOCKED},
     * any extended code), so the engine may repeat the call unchanged.
     */
    static TaskStoreException failure(String message, SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLiteException) {
                int primary = ((SQLiteException) t).getResultCode().code & 0xff;
                if (primary == SQLiteErrorCode.SQLITE_BUSY.code || primary == SQLiteErrorCode.SQLITE_LOCKED.code) {
                    return new TransientStoreException(message, e);
                }
            }
        }
        return new TaskStoreException(message, e);
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

    /**
     * {@inheritDoc}
     *
     * <p>Deletes the task row; its events and messages go with it (foreign keys cascade).
     */
    @Override
    public boolean delete(String taskId) {
        Objects.requireNonNull(taskId, "taskId");
        return writeTransaction("delete of task " + taskId, () -> {
            lastSeqs.remove(taskId);
            try (PreparedStatement ps = writer.prepareStatement(DELETE_TASK)) {
                ps.setString(1, taskId);
                return ps.executeUpdate();
            }
        }) > 0;
    }

    /**
     * {@inheritDoc}
     *
     * <p>One transaction per call; the oldest completions go first. A {@code limit} below 1 removes
     * nothing.
     */
    @Override
    public int purgeTerminal(Instant completedBefore, int limit) {
        Objects.requireNonNull(completedBefore, "completedBefore");
        if (limit < 1) {
            return 0;
        }
        long cutoff = clampedNanos(completedBefore);
        int n = writeTransaction("purge of terminal tasks", () -> {
            lastSeqs.clear();
            try (PreparedStatement ps = writer.prepareStatement(PURGE)) {
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

    private static long clampedNanos(Instant t) {
        if (t.isBefore(Times.fromNanos(Long.MIN_VALUE))) {
            return Long.MIN_VALUE;
        }
        if (t.isAfter(Times.fromNanos(Long.MAX_VALUE))) {
            return Long.MAX_VALUE;
        }
        return Times.toNanos(t, "completedBefore");
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
            checkOpen();
            boolean began = false;
            try {
                exec("BEGIN IMMEDIATE");
                began = true;
                T n = work.run();
                exec("COMMIT");
                return n;
            } catch (SQLException e) {
                if (began) {
                    rollback();
                }
                throw failure("SQLite " + what + " failed: " + e.getMessage(), e);
            }
        } finally {
            writeLock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------ several hosts

    @Override
    public void heartbeat(String hostId, Instant now) {
        hosts.heartbeat(hostId, now);
    }

    @Override
    public void removeHost(String hostId) {
        hosts.removeHost(hostId);
    }

    @Override
    public List<TaskRecord> orphans(Instant heartbeatBefore, int limit) {
        return hosts.orphans(heartbeatBefore, limit);
    }

    /** {@inheritDoc} One {@code BEGIN IMMEDIATE} transaction: claims from several processes never overlap. */
    @Override
    public List<TaskRecord> claim(String hostId, int max) {
        return hosts.claim(hostId, max);
    }

    @Override
    public Optional<TaskRecord> takeOver(String taskId, String expectedOwner, long expectedEpoch, String newOwner) {
        return hosts.takeOver(taskId, expectedOwner, expectedEpoch, newOwner);
    }

    @Override
    public List<dev.agenttasks.spi.RemoteRequest> requests(String hostId, int limit) {
        return hosts.requests(hostId, limit);
    }

    @Override
    public Optional<dev.agenttasks.spi.IdempotencyKey> idempotencyKey(String key) {
        return hosts.key(key);
    }

    // ------------------------------------------------------------------------------------------- reads

    /** {@inheritDoc} One indexed read; {@code lastSeq} is the task's highest stored event seq. */
    @Override
    public Optional<TaskRecord> task(String taskId) {
        Objects.requireNonNull(taskId, "taskId");
        return read("read of task " + taskId, r -> {
            PreparedStatement ps = r.prepare(SELECT_TASK + " WHERE t.id = ?");
            ps.setString(1, taskId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(taskRecord(rs)) : Optional.empty();
            }
        });
    }

    /**
     * {@inheritDoc}
     *
     * <p>The title filter lower-cases both sides with {@link Locale#ROOT}, like the in-memory store, and
     * matches a substring of the title. A filter of {@value #TRIGRAM} or more code points is first looked
     * for among the newest {@value #NEWEST_WINDOW} + 8 &times; {@code limit} tasks (which answers a title
     * many tasks have); if fewer than {@code limit} match there, it is answered from the trigram index of
     * the lower-cased titles, in the same read transaction: the first {@code limit} matches
     * in descending key order (tasks get increasing keys as they are inserted), then every match from the
     * first key whose tasks' creation high-water mark reaches the oldest of those (no task below it can be
     * newer), sorted; when few tasks have keys from there on, their titles are matched directly instead.
     * When tasks are inserted about in creation order that reads about {@code limit} matches however many
     * tasks match; the rows are the same as a scan's in any case. A shorter filter,
     * which no trigram can serve, walks the tasks newest first until {@code limit} match.
     */
    @Override
    public List<TaskRecord> list(TaskQuery query, TaskCursor after, int limit) {
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
            args.add(clampedNanos(after.createdAt()));
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

    /** {@inheritDoc} Ordered by creation time, then id. */
    @Override
    public List<TaskRecord> findByStatus(Set<TaskStatus> statuses) {
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

    /** {@inheritDoc} One short read transaction per call, so paging through a long log never pins the WAL. */
    @Override
    public List<TaskEvent> events(String taskId, long afterSeq, int limit) {
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

    /** {@inheritDoc} */
    @Override
    public List<PendingMessage> pendingMessages(String taskId) {
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

    /** {@inheritDoc} Reads the counts the schema's triggers keep: its cost does not grow with the tasks kept. */
    @Override
    public Map<TaskStatus, Long> countByStatus() {
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
        checkOpen();
        ReadPool.Reader r = readers.acquire();
        try {
            return work.run(r);
        } catch (SQLException e) {
            throw failure("SQLite " + what + " failed: " + e.getMessage(), e);
        } finally {
            readers.release(r);
        }
    }

    // ------------------------------------------------------------------------------------ open / close

    /**
     * Releases the connections (the last one to close checkpoints the WAL into the database file).
     * Idempotent; reads in progress finish first on their connection.
     */
    @Override
    public void close() {
        writeLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (PreparedStatement ps : List.of(insertTask, updateTask, appendEvent, addMessage, removeMessage)) {
                try {
                    ps.close();
                } catch (SQLException e) {
                    LOG.debug("SQLite store {}: closing a statement reported: {}", path, e.getMessage());
                }
            }
            readers.close();
            closeQuietly(writer);
        } finally {
            writeLock.unlock();
        }
        LOG.info("Closed SQLite task store {}", path);
    }

    /** For tests: the value of a pragma ({@code synchronous}, {@code journal_mode}, …) on the writer connection. */
    String writerPragma(String name) {
        if (!name.matches("[a-z_]+")) {
            throw new IllegalArgumentException("not a pragma name: " + name);
        }
        writeLock.lock();
        try (Statement st = writer.createStatement(); ResultSet rs = st.executeQuery("PRAGMA " + name)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new TaskStoreException("cannot read pragma " + name, e);
        } finally {
            writeLock.unlock();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new TaskStoreException("SQLite task store " + path + " is closed");
        }
    }

    private Connection connect(boolean forWriting) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout((int) busyTimeout.toMillis());
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(durability == Durability.FULL ? SQLiteConfig.SynchronousMode.FULL
                : SQLiteConfig.SynchronousMode.NORMAL);
        config.enforceForeignKeys(true);
        // after a checkpoint, a WAL grown by a burst is truncated back to this size
        config.setJournalSizeLimit(WAL_SIZE_LIMIT);
        Connection c = config.createConnection("jdbc:sqlite:" + path);
        if (!forWriting) {
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA query_only = 1");
            } catch (SQLException e) {
                closeQuietly(c);
                throw e;
            }
        }
        return c;
    }

    /**
     * Creates the database file with {@link #PAGE_SIZE} pages, in WAL mode. The page size must be set
     * before anything is written; once the file is in WAL mode only a VACUUM out of WAL can change it.
     */
    private void createFile() throws SQLException {
        try (Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + path);
             Statement s = c.createStatement()) {
            s.execute("PRAGMA page_size = " + PAGE_SIZE);
            s.execute("PRAGMA journal_mode = WAL");
        }
    }

    /** Refuses, before anything is written, a file that is not SQLite or not this store's schema. */
    private void inspect(Path file) {
        if (!Files.exists(file)) {
            return;
        }
        if (!Files.isRegularFile(file)) {
            throw new NotASqliteDatabaseException(file, file + " is not a regular file");
        }
        try {
            long size = Files.size(file);
            if (size == 0) {
                return;
            }
            byte[] head = new byte[SQLITE_HEADER.length];
            int read;
            try (InputStream in = Files.newInputStream(file)) {
                read = in.readNBytes(head, 0, head.length);
            }
            if (read < head.length || !Arrays.equals(head, SQLITE_HEADER)) {
                throw new NotASqliteDatabaseException(file, file + " is not an SQLite database");
            }
        } catch (IOException e) {
            throw new TaskStoreException("cannot read " + file + ": " + e.getMessage(), e);
        }
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout((int) busyTimeout.toMillis());
        // Without a WAL file everything is in the main file: read it as immutable, which creates no
        // -wal/-shm file beside it. With one (a store that was not closed), read through the WAL.
        boolean hasWal = Files.exists(Path.of(file + "-wal"));
        String url = hasWal ? "jdbc:sqlite:" + file : "jdbc:sqlite:file:" + file.toUri().getRawPath() + "?immutable=1";
        try (Connection c = config.createConnection(url);
             Statement s = c.createStatement()) {
            boolean hasVersionTable = false;
            List<String> others = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'")) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    if ("schema_version".equals(name)) {
                        hasVersionTable = true;
                    } else if (!name.startsWith("sqlite_")) {
                        others.add(name);
                    }
                }
            }
            if (!hasVersionTable) {
                if (!others.isEmpty()) {
                    throw new SchemaVersionException(file, SchemaVersionException.FOREIGN_DATABASE, SCHEMA_VERSION,
                            file + " holds tables of another application " + others
                                    + " and no agent-tasks schema_version table");
                }
                return;
            }
            int found;
            try (ResultSet rs = s.executeQuery("SELECT coalesce(max(version), 0) FROM schema_version")) {
                found = rs.next() ? rs.getInt(1) : 0;
            }
            if (found > SCHEMA_VERSION) {
                throw newerSchema(file, found);
            }
        } catch (SQLException e) {
            if (e instanceof SQLiteException && (((SQLiteException) e).getResultCode() == SQLiteErrorCode.SQLITE_NOTADB
                    || ((SQLiteException) e).getResultCode() == SQLiteErrorCode.SQLITE_CORRUPT)) {
                throw new NotASqliteDatabaseException(file, file + " is not a readable SQLite database: "
                        + e.getMessage());
            }
            throw new TaskStoreException("cannot inspect " + file + ": " + e.getMessage(), e);
        }
    }

    private static SchemaVersionException newerSchema(Path file, int found) {
        return new SchemaVersionException(file, found, SCHEMA_VERSION, file + " has schema version " + found
                + ", written by a newer agent-tasks store; this one knows versions up to " + SCHEMA_VERSION);
    }

    /**
     * Applies the missing migrations in one IMMEDIATE transaction (re-checking the version under the
     * lock), with foreign keys off, since migrations rebuild tables, and checked before the commit. A file
     * migrated from version 1 is then rewritten with {@link #PAGE_SIZE} pages ({@link #repage(Connection)});
     * a new file has them from the start ({@link #createFile()}).
     */
    private void migrate(Connection c) throws SQLException {
        int from;
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA foreign_keys = OFF");
            try {
                from = migrateInTransaction(c, s);
            } finally {
                s.execute("PRAGMA foreign_keys = ON");
            }
        }
        if (from >= 1 && from < 2) {
            repage(c);
        }
    }

    private int migrateInTransaction(Connection c, Statement s) throws SQLException {
        s.execute("BEGIN IMMEDIATE");
        try {
            int current;
            s.execute(Migrations.VERSION_TABLE_DDL);
            try (ResultSet rs = s.executeQuery("SELECT coalesce(max(version), 0) FROM schema_version")) {
                current = rs.next() ? rs.getInt(1) : 0;
            }
            if (current > SCHEMA_VERSION) {
                throw newerSchema(path, current);
            }
            for (int v = current + 1; v <= SCHEMA_VERSION; v++) {
                for (String stmt : Migrations.statements(v)) {
                    s.execute(stmt);
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)")) {
                    ps.setInt(1, v);
                    ps.setString(2, Migrations.description(v));
                    ps.setLong(3, Times.toNanos(Instant.now(), "applied_at"));
                    ps.executeUpdate();
                }
                LOG.info("SQLite store {}: applied schema migration {} ({})", path, v, Migrations.description(v));
            }
            try (ResultSet rs = s.executeQuery("PRAGMA foreign_key_check")) {
                if (rs.next()) {
                    throw new TaskStoreException("schema migration of " + path + " left a row of table "
                            + rs.getString(1) + " without its " + rs.getString(3) + " row; nothing was changed");
                }
            }
            s.execute("COMMIT");
            return current;
        } catch (SQLException | RuntimeException e) {
            try {
                s.execute("ROLLBACK");
            } catch (SQLException re) {
                e.addSuppressed(re);
            }
            throw e;
        }
    }

    /**
     * Rewrites a file with {@link #PAGE_SIZE} pages (VACUUM, which needs a rollback journal for that and
     * no other connection on the file). A failure leaves the file as it was, valid, with its old page
     * size, and is logged: the store works on it, with more unused space for events of some sizes.
     */
    private void repage(Connection c) {
        try (Statement s = c.createStatement()) {
            int size;
            try (ResultSet rs = s.executeQuery("PRAGMA page_size")) {
                size = rs.next() ? rs.getInt(1) : PAGE_SIZE;
            }
            if (size == PAGE_SIZE) {
                return;
            }
            long start = System.nanoTime();
            try {
                s.execute("PRAGMA journal_mode = DELETE");
                s.execute("PRAGMA page_size = " + PAGE_SIZE);
                s.execute("VACUUM");
            } finally {
                s.execute("PRAGMA journal_mode = WAL");
            }
            LOG.info("SQLite store {}: rewrote the file with {} byte pages (was {}) in {} ms", path, PAGE_SIZE, size,
                    (System.nanoTime() - start) / 1_000_000);
        } catch (SQLException e) {
            LOG.warn("SQLite store {}: could not rewrite the file with {} byte pages, keeping its page size: {}",
                    path, PAGE_SIZE, e.getMessage());
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                LOG.debug("Closing an SQLite connection reported: {}", e.getMessage());
            }
        }
    }

    /** Settings of a {@link SqliteTaskStore}; {@link #build()} opens the store. */
    public static final class Builder {
        private final Path file;
        private Durability durability = Durability.NORMAL;
        private Duration busyTimeout = DEFAULT_BUSY_TIMEOUT;
        private int readConnections = DEFAULT_READ_CONNECTIONS;

        private Builder(Path file) {
            this.file = Objects.requireNonNull(file, "file can not be null");
        }

        /**
         * @param d how hard commits are pushed to the disk; {@link Durability#NORMAL} by default
         * @return this builder
         */
        public Builder durability(Durability d) {
            this.durability = Objects.requireNonNull(d, "durability can not be null");
            return this;
        }

        /**
         * How long a connection waits for a lock held by another connection (for example a second process
         * on the same file) before the operation fails with a {@link TaskStoreException}.
         *
         * @param timeout zero or more, at most {@link Integer#MAX_VALUE} milliseconds; 5 s by default
         * @return this builder
         * @throws IllegalArgumentException if it is negative or too long
         */
        public Builder busyTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "busyTimeout can not be null");
            if (timeout.isNegative() || timeout.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("busyTimeout must be between 0 and "
                        + Integer.MAX_VALUE + " ms: " + timeout);
            }
            this.busyTimeout = timeout;
            return this;
        }

        /**
         * @param n the number of read connections, 1 to {@value #MAX_READ_CONNECTIONS};
         *          {@value #DEFAULT_READ_CONNECTIONS} by default
         * @return this builder
         * @throws IllegalArgumentException if it is out of range
         */
        public Builder readConnections(int n) {
            if (n < 1 || n > MAX_READ_CONNECTIONS) {
                throw new IllegalArgumentException("readConnections must be between 1 and "
                        + MAX_READ_CONNECTIONS + ": " + n);
            }
            this.readConnections = n;
            return this;
        }

        /**
         * Opens the store: checks the file, applies missing migrations, opens the connections.
         *
         * @return the open store
         * @throws NotASqliteDatabaseException if the file exists and is not an SQLite database
         * @throws SchemaVersionException      if the database was written by a newer store or another application
         * @throws TaskStoreException          if it cannot be opened or migrated for another reason
         */
        public SqliteTaskStore build() {
            return new SqliteTaskStore(this);
        }
    }
}
