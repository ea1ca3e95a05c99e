package dev.agenttasks.sqlite;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskCursor;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.TransientStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

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
 * <p><b>Layout</b> (schema version 4). A new file uses 32 KB pages. An event is one row of a rowid table
 * whose key is its task's integer key &times; 2<sup>32</sup> + its seq, so a task's log is one key range
 * (read and appended by seeks, no second index) and rows up to 10 KB share pages instead of spilling
 * into mostly empty overflow pages. The store keeps a count of tasks per status ({@link #countByStatus()}
 * reads a handful of rows however many tasks are kept) and an FTS5 trigram index of the lower-cased
 * titles (see {@link #list(TaskQuery, TaskCursor, int)}): its own inserts and status updates maintain them
 * in the same transaction (since version 4; row triggers did it before and cost most of the writer's time
 * per task), deletes through triggers. Rows changed with SQL outside a store are not counted or indexed.
 * A version 1 file is migrated in one transaction when opened, then rewritten with the larger pages if no
 * other connection has the file open (if one has, the file keeps its pages and a warning is logged).
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

    /** The task columns {@link #taskRecord(ResultSet)} reads, from the table aliased {@code t}. */
    static final String SELECT_TASK_SQL = SqliteReads.SELECT_TASK;
    /** Title queries at least this many code points long are answered from the trigram index. */
    static final int TRIGRAM = 3;
    /** The newest tasks (plus 8 per row asked for) a title search looks through before it reads the index. */
    static final long NEWEST_WINDOW = 200;
    /** The page size of new files: rows up to 10 KB fill its pages (see the V2 migration). */
    static final int PAGE_SIZE = 32_768;

    /** The highest event seq the key layout holds: an event's key is its task's pk &times; 2^32 + seq. */
    static final long MAX_SEQ = 0xFFFF_FFFFL;

    private final Path path;
    private final Durability durability;

    private final SqliteHosts hosts = new SqliteHosts(this);
    private final SqliteWrites writes;
    private final ReadPool readers;
    private final SqliteReads reads;
    private final SqliteDeletes deletes;
    private final Checkpointer checkpointer;
    private volatile boolean closed;

    private SqliteTaskStore(Builder b) {
        this.path = b.file.toAbsolutePath().normalize();
        this.durability = b.durability;
        SqliteSchema schema = new SqliteSchema(path, durability, b.busyTimeout);
        schema.inspect(path);
        Connection w = null;
        ReadPool pool = null;
        Checkpointer ckpt = null;
        try {
            Path parent = path.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            if (!Files.exists(path) || Files.size(path) == 0) {
                schema.createFile();
            }
            w = schema.connect(true);
            schema.migrate(w);
            // commits leave the copy of the log into the file to the checkpoint thread (see Checkpointer)
            try (Statement s = w.createStatement()) {
                s.execute("PRAGMA wal_autocheckpoint = " + Checkpointer.WRITER_AUTOCHECKPOINT_PAGES);
            }
            ckpt = new Checkpointer(path, schema.connect(true));
            this.checkpointer = ckpt;
            this.writes = new SqliteWrites(this, path, w, hosts, ckpt);
            pool = new ReadPool(b.readConnections);
            for (int i = 0; i < b.readConnections; i++) {
                pool.add(schema.connect(false));
            }
            this.readers = pool;
        } catch (SQLException | IOException | RuntimeException e) {
            if (pool != null) {
                pool.close();
            }
            if (ckpt != null) {
                ckpt.close();
            }
            SqliteSchema.closeQuietly(w);
            if (e instanceof TaskStoreException) {
                throw (TaskStoreException) e;
            }
            throw new TaskStoreException("cannot open SQLite task store " + path + ": " + e.getMessage(), e);
        }
        this.reads = new SqliteReads(this, readers);
        this.deletes = new SqliteDeletes(writes, path);
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
        writes.write(ops);
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

    /**
     * {@inheritDoc}
     *
     * <p>Deletes the task row; its events and messages go with it (foreign keys cascade).
     */
    @Override
    public boolean delete(String taskId) {
        return deletes.delete(taskId);
    }

    /**
     * {@inheritDoc}
     *
     * <p>One transaction per call; the oldest completions go first. A {@code limit} below 1 removes
     * nothing.
     */
    @Override
    public int purgeTerminal(Instant completedBefore, int limit) {
        return deletes.purgeTerminal(completedBefore, limit);
    }

    /** Runs work in one {@code BEGIN IMMEDIATE} transaction on the writer connection. */
    <T> T writeTransaction(String what, SqliteWrites.WriteWork<T> work) {
        return writes.writeTransaction(what, work);
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
        return reads.task(taskId);
    }

    /** {@inheritDoc} One indexed statement per 500 ids (usually one), all in one read transaction. */
    @Override
    public Map<String, Long> lastSeqs(Collection<String> taskIds) {
        return reads.lastSeqs(taskIds);
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
        return reads.list(query, after, limit);
    }

    /** {@inheritDoc} Ordered by creation time, then id. */
    @Override
    public List<TaskRecord> findByStatus(Set<TaskStatus> statuses) {
        return reads.findByStatus(statuses);
    }

    /** {@inheritDoc} One short read transaction per call, so paging through a long log never pins the WAL. */
    @Override
    public List<TaskEvent> events(String taskId, long afterSeq, int limit) {
        return reads.events(taskId, afterSeq, limit);
    }

    /** {@inheritDoc} */
    @Override
    public List<PendingMessage> pendingMessages(String taskId) {
        return reads.pendingMessages(taskId);
    }

    /** {@inheritDoc} Reads the counts the schema's triggers keep: its cost does not grow with the tasks kept. */
    @Override
    public Map<TaskStatus, Long> countByStatus() {
        return reads.countByStatus();
    }

    /** A task row read with {@link #SELECT_TASK_SQL}'s columns. */
    static TaskRecord taskRecord(ResultSet rs) throws SQLException {
        return SqliteReads.taskRecord(rs);
    }

    /** Runs work on a read connection, one statement (or one snapshot) at a time. */
    <T> T read(String what, SqliteReads.ReadWork<T> work) {
        return reads.read(what, work);
    }

    // ------------------------------------------------------------------------------------ open / close

    /**
     * Releases the connections (the last one to close checkpoints the WAL into the database file).
     * Idempotent; reads in progress finish first on their connection.
     */
    @Override
    public void close() {
        writes.writeLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            writes.closeStatements();
            checkpointer.close();
            readers.close();
            SqliteSchema.closeQuietly(writes.writer);
        } finally {
            writes.writeLock.unlock();
        }
        LOG.info("Closed SQLite task store {}", path);
    }

    /** For tests: the value of a pragma ({@code synchronous}, {@code journal_mode}, …) on the writer connection. */
    String writerPragma(String name) {
        if (!name.matches("[a-z_]+")) {
            throw new IllegalArgumentException("not a pragma name: " + name);
        }
        return writes.pragma(name);
    }

    void checkOpen() {
        if (closed) {
            throw new TaskStoreException("SQLite task store " + path + " is closed");
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
