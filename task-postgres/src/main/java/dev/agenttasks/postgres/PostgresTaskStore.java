package dev.agenttasks.postgres;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.IdempotencyKey;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.RemoteRequest;
import dev.agenttasks.spi.StoreChangeListener;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskCursor;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.TransientStoreException;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A {@link TaskStore} on PostgreSQL, for applications that run as several instances on one database (and for
 * those that already run PostgreSQL). The host passes its own {@link DataSource}; a connection pool such as
 * HikariCP is recommended:
 *
 * <pre>{@code
 * HikariConfig pool = new HikariConfig();
 * pool.setJdbcUrl("jdbc:postgresql://db:5432/app");
 * pool.setUsername("app");
 * pool.setPassword(secret);
 * pool.setMaximumPoolSize(8);
 * TaskStore store = PostgresTaskStore.builder(new HikariDataSource(pool))
 *         .schema("agent_tasks")          // the default
 *         .build();
 * }</pre>
 *
 * <p><b>Schema.</b> The store keeps its tables ({@code tasks}, {@code events}, {@code messages},
 * {@code task_counts}, {@code schema_version}) in one database schema, {@value #DEFAULT_SCHEMA} unless {@link Builder#schema(String)}
 * names another, so several applications can share a database. Opening creates the schema if needed and applies
 * the versioned SQL migrations it lacks (files on the class path, recorded in {@code schema_version}) in one
 * transaction under an advisory lock, so that hosts starting together migrate once; opening again is a no-op.
 * A schema written by a newer version of this store, or one where a table of these names belongs to another
 * application, is refused with a {@link PostgresSchemaException} before anything is written. Other tables in
 * the schema are left alone. PostgreSQL 10 or newer.
 *
 * <p><b>Queries that stay cheap as history grows.</b> Since schema version 2, triggers keep per-status count
 * deltas ({@code task_counts}) in the same transaction as every write, so {@link #countByStatus()} reads a few
 * rows, not every task kept; the deltas are folded into one row per status now and then. The title search
 * ({@link TaskQuery#titleContains()}) uses a pg_trgm GIN index on the lower-cased title when the migration
 * could create it: the store uses an installed pg_trgm wherever it lives, or creates it in {@code public}
 * (a trusted extension since PostgreSQL 13, so a role allowed to create in the database may); otherwise it
 * logs a warning with the statements to run and the search scans.
 *
 * <p><b>Writes.</b> Each {@link #write(List) batch} of the engine's group commit is one transaction on one
 * connection: task inserts and event appends are one multi-row statement each ({@code unnest} of array
 * parameters), updates and messages one JDBC batch each (pgjdbc pipelines a batch in one round trip). Ops are
 * applied kind by kind when that gives the same result as their order, else in runs of the same kind. An event of a
 * missing task is refused by the foreign key (no join in the insert, whose cost would grow with the table). Event data
 * is stored as JSON <em>text</em>, not {@code jsonb}: the engine hands over the encoded text, which is written
 * without being parsed again (measurably faster), and text keeps strings with U+0000, which {@code jsonb}
 * refuses.
 *
 * <p><b>Reads</b> are one statement each, in auto-commit mode, so a long replay that pages through
 * {@link #events(String, long, int)} holds no transaction open. Instants are stored as epoch nanoseconds and read
 * back exactly (1677-09-21 to 2262-04-11). All SQL uses bound parameters; the schema name, the one identifier
 * put into SQL text, is checked against {@code [a-z_][a-z0-9_]*}.
 *
 * <p><b>Failures.</b> A lost connection, a server shutting down or starting up ({@code 08xxx}, {@code 57P01}–
 * {@code 57P03}), a serialization failure or deadlock ({@code 40001}, {@code 40P01}) or a full connection table
 * ({@code 53300}) is retried at once on another connection, up to {@link Builder#attempts(int)} times; if it
 * persists, it is thrown as a {@link TransientStoreException}, which the engine retries within its budget.
 * Nothing of a call that throws it was applied: when the connection breaks during a commit, the store asks the
 * server (by transaction id, on a new connection) whether the commit happened, waiting up to
 * {@link Builder#commitCheckTimeout(Duration)} for the server to come back; a committed batch is reported as
 * written, and if the outcome cannot be learned a plain {@link TaskStoreException} says so. A restart of
 * PostgreSQL therefore loses nothing that was acknowledged. Any other failure is a {@link TaskStoreException}
 * ({@link StoreConflictException} when an op's condition fails), and the batch is rolled back whole.
 *
 * <p><b>Deletion and retention</b> work in bounded transactions: the events of a deleted or purged task are
 * removed {@link Builder#deleteBatchSize(int) a batch of rows} at a time, newest first (a concurrent reader sees
 * a shorter log, never one with a gap), then the task row with its messages, requests and idempotency keys.
 *
 * <p><b>Several hosts</b> (schema version 3, {@code docs/multi-host.md}): each manager on the database heartbeats
 * in {@code hosts}; {@link #claim(String, int)} takes queued tasks with {@code FOR UPDATE SKIP LOCKED}, so hosts
 * never wait for each other's claims; a {@link StoreOp.Fence} locks its task's row until the batch commits, so a
 * takeover by another host waits for the batch and then fences the former owner out. Triggers {@code NOTIFY} the
 * ids of tasks with new events, new unclaimed tasks and new {@link RemoteRequest requests} on the channel
 * {@code agent_tasks:<schema>}; {@link #addChangeListener(StoreChangeListener)} listens on one dedicated
 * connection (reconnecting when it breaks), and the engine polls behind it. Recommended for several hosts: a
 * server-side {@code idle_in_transaction_session_timeout} (for example 10 s on the store's role), so that a host
 * frozen inside a transaction cannot hold a task's row, and a takeover, for longer. Thread-safe.
 */
public final class PostgresTaskStore implements TaskStore {

    /** The database schema used unless the builder is given another. */
    public static final String DEFAULT_SCHEMA = "agent_tasks";
    /** Event rows removed per transaction by {@link #delete(String)} and {@link #purgeTerminal} by default. */
    public static final int DEFAULT_DELETE_BATCH_SIZE = 5_000;
    /** Attempts of a call on a fresh connection, after a transient failure, unless the builder says otherwise. */
    public static final int DEFAULT_ATTEMPTS = 3;
    /** How long the store waits to learn the outcome of a commit whose connection broke, by default. */
    public static final Duration DEFAULT_COMMIT_CHECK_TIMEOUT = Duration.ofSeconds(30);
    /** The schema version this store writes and the highest it can open. */
    public static final int SCHEMA_VERSION = Migrations.LATEST;

    private static final Logger LOG = LoggerFactory.getLogger(PostgresTaskStore.class);
    /** Delta rows in the status counts beyond which a count folds them (see V2 migration). */
    private static final int FOLD_COUNTS_AFTER = 64;

    private static final String TERMINAL = "('COMPLETED', 'FAILED', 'CANCELLED')";

    private final DataSource dataSource;
    private final AutoCloseable ownedDataSource;
    private final String schema;
    private final int deleteBatchSize;
    private final int attempts;
    private final Duration commitCheckTimeout;
    private volatile boolean closed;

    private final String selectTask;
    private final String selectEvents;
    private final String selectMessages;
    private final String countByStatus;
    private final String foldCounts;
    private final String deleteEventChunk;
    private final String deleteTask;
    private final String purgeCandidates;
    private final String purgeEventChunk;
    private final String purgeTasks;
    private final Batches batches;
    private final Claims claims;
    /** Push wake-ups, or null if the builder turned them off. */
    private final ChangeFeed changes;

    private PostgresTaskStore(Builder b) {
        this.dataSource = b.dataSource;
        this.ownedDataSource = b.ownedDataSource;
        this.schema = b.schema;
        this.deleteBatchSize = b.deleteBatchSize;
        this.attempts = b.attempts;
        this.commitCheckTimeout = b.commitCheckTimeout;
        this.batches = new Batches(b.dataSource, schema);
        this.claims = new Claims(this, schema);
        DataSource listenFrom = b.listenerDataSource != null ? b.listenerDataSource : b.dataSource;
        this.changes = b.notifications ? new ChangeFeed(schema, listenFrom::getConnection) : null;
        String s = '"' + schema + '"';
        this.selectTask = selectTask(s);
        this.selectEvents = "SELECT seq, type, data, ts FROM " + s + ".events WHERE task_id = ? AND seq > ? "
                + "ORDER BY seq LIMIT ?";
        this.selectMessages = "SELECT message_id, message, created_at FROM " + s + ".messages WHERE task_id = ? "
                + "ORDER BY id";
        this.countByStatus = "SELECT status, sum(n)::int8, count(*) FROM " + s + ".task_counts GROUP BY status";
        this.foldCounts = "WITH d AS (DELETE FROM " + s + ".task_counts RETURNING status, n) INSERT INTO " + s
                + ".task_counts (status, n) SELECT status, sum(n) FROM d GROUP BY status HAVING sum(n) <> 0";
        this.deleteEventChunk = "DELETE FROM " + s + ".events WHERE task_id = ? AND seq IN (SELECT seq FROM " + s
                + ".events WHERE task_id = ? ORDER BY seq DESC LIMIT ?)";
        this.deleteTask = "DELETE FROM " + s + ".tasks WHERE id = ?";
        this.purgeCandidates = "SELECT id FROM " + s + ".tasks WHERE completed_at < ? AND status IN " + TERMINAL
                + " ORDER BY completed_at, id LIMIT ?";
        this.purgeEventChunk = "DELETE FROM " + s + ".events WHERE (task_id, seq) IN (SELECT task_id, seq FROM " + s
                + ".events WHERE task_id = ANY (?::text[]) ORDER BY task_id, seq DESC LIMIT ?)";
        this.purgeTasks = "DELETE FROM " + s + ".tasks WHERE id = ANY (?::text[]) AND completed_at < ? "
                + "AND status IN " + TERMINAL;
        try {
            call("opening of the store", false, c -> {
                new SchemaSetup(c, schema).migrate();
                return null;
            });
        } catch (RuntimeException e) {
            closeOwned();
            throw e;
        }
        LOG.info("Opened PostgreSQL task store (schema {}, version {})", schema, SCHEMA_VERSION);
    }

    /**
     * @param dataSource where connections come from (a pool such as HikariCP is recommended); the store never
     *                   closes it
     * @return a builder for a store on it
     */
    public static Builder builder(DataSource dataSource) {
        return new Builder(Objects.requireNonNull(dataSource, "dataSource can not be null"), null);
    }

    /**
     * A store with its own, unpooled connections (a new connection per call): for trying things out and for
     * tools. Applications should pass a pooled {@link DataSource} to {@link #builder(DataSource)} instead.
     *
     * @param jdbcUrl  a {@code jdbc:postgresql://…} URL
     * @param user     the user
     * @param password the password, or null
     * @return a builder for a store on that database, in the {@value #DEFAULT_SCHEMA} schema by default
     * @throws IllegalArgumentException if the URL is not a PostgreSQL JDBC URL
     */
    public static Builder builder(String jdbcUrl, String user, String password) {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl can not be null");
        if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("not a PostgreSQL JDBC URL (jdbc:postgresql://host:port/db): "
                    + jdbcUrl);
        }
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(jdbcUrl);
        if (user != null) {
            ds.setUser(user);
        }
        if (password != null) {
            ds.setPassword(password);
        }
        return new Builder(ds, null);
    }

    /** @return the database schema this store keeps its tables in */
    public String schema() {
        return schema;
    }

    // ------------------------------------------------------------------------------------------ writes

    /**
     * {@inheritDoc}
     *
     * <p>One transaction; see the class comment for how the ops are grouped and how failures are reported.
     */
    @Override
    public void write(List<StoreOp> ops) {
        Objects.requireNonNull(ops, "ops");
        if (ops.isEmpty()) {
            return;
        }
        checkOpen();
        List<List<StoreOp>> runs = Batches.plan(ops);
        TransientStoreException last = null;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            try {
                writeOnce(ops, runs);
                return;
            } catch (TransientStoreException e) {
                last = e;
                LOG.debug("PostgreSQL store {}: write attempt {} of {} failed transiently: {}", schema, attempt,
                        attempts, e.getMessage());
                checkOpen();
            }
        }
        throw last;
    }

    private void writeOnce(List<StoreOp> ops, List<List<StoreOp>> runs) {
        Connection c;
        try {
            c = dataSource.getConnection();
        } catch (SQLException e) {
            throw failure("write (getting a connection)", ops, e);
        }
        String xid = null;
        boolean committing = false;
        try {
            c.setAutoCommit(false);
            for (List<StoreOp> run : runs) {
                String x = batches.applyRun(c, run);
                xid = x != null ? x : xid;
            }
            if (xid == null) {
                // the event insert reports the transaction id; without events it costs one round trip more
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT txid_current()")) {
                    rs.next();
                    xid = rs.getString(1);
                }
            }
            committing = true;
            c.commit();
        } catch (SQLException e) {
            if (committing && SqlStates.isConnectionLoss(e)) {
                closeQuietly(c);
                c = null;
                if (committed(xid, e)) {
                    LOG.info("PostgreSQL store {}: the connection broke during a commit that did happen "
                            + "(transaction {}); the batch is written", schema, xid);
                    return;
                }
            } else {
                rollbackQuietly(c);
            }
            throw failure("write", ops, e);
        } catch (RuntimeException e) {
            rollbackQuietly(c);
            throw e;
        } finally {
            release(c);
        }
    }

    /**
     * Whether the transaction committed, asked on a new connection, waiting for the server to come back.
     *
     * @throws TaskStoreException if the outcome cannot be learned in time
     */
    private boolean committed(String xid, SQLException cause) {
        long deadline = System.nanoTime() + commitCheckTimeout.toNanos();
        long backoffMillis = 50;
        SQLException lastFailure = cause;
        while (true) {
            try (Connection c = dataSource.getConnection();
                 PreparedStatement ps = c.prepareStatement("SELECT txid_status(?)")) {
                ps.setLong(1, Long.parseLong(xid));
                try (ResultSet rs = ps.executeQuery()) {
                    String status = rs.next() ? rs.getString(1) : null;
                    if ("committed".equals(status)) {
                        return true;
                    }
                    if ("aborted".equals(status)) {
                        return false;
                    }
                    if (status == null) {
                        throw new TaskStoreException("PostgreSQL store " + schema + ": the connection broke during "
                                + "a commit and the server no longer knows transaction " + xid
                                + "; the outcome of the batch is unknown", cause);
                    }
                    // "in progress": the server has not yet noticed that the connection is gone
                }
            } catch (SQLException e) {
                lastFailure = e;
            }
            if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMillis) > deadline) {
                TaskStoreException e = new TaskStoreException("PostgreSQL store " + schema + ": the connection broke "
                        + "during a commit and the outcome of transaction " + xid + " could not be learned within "
                        + commitCheckTimeout + "; the batch may or may not be written", cause);
                if (lastFailure != cause) {
                    e.addSuppressed(lastFailure);
                }
                throw e;
            }
            try {
                Thread.sleep(backoffMillis);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new TaskStoreException("interrupted while learning the outcome of a commit", ie);
            }
            backoffMillis = Math.min(backoffMillis * 2, 1000);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>The task's events go first, {@link Builder#deleteBatchSize(int) a batch} per transaction, newest first;
     * then the task row with its remaining events and messages. Repeating a delete that failed is safe.
     */
    @Override
    public boolean delete(String taskId) {
        Objects.requireNonNull(taskId, "taskId");
        checkOpen();
        int n;
        do {
            n = call("delete of events of task " + taskId, true, c -> {
                try (PreparedStatement ps = c.prepareStatement(deleteEventChunk)) {
                    ps.setString(1, taskId);
                    ps.setString(2, taskId);
                    ps.setInt(3, deleteBatchSize);
                    return ps.executeUpdate();
                }
            });
        } while (n >= deleteBatchSize);
        return call("delete of task " + taskId, true, c -> {
            try (PreparedStatement ps = c.prepareStatement(deleteTask)) {
                ps.setString(1, taskId);
                return ps.executeUpdate();
            }
        }) > 0;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Picks the oldest completions first; removes their events {@link Builder#deleteBatchSize(int) a batch}
     * per transaction, then the task rows (with their messages) in one short transaction. A {@code limit} below 1
     * removes nothing.
     */
    @Override
    public int purgeTerminal(Instant completedBefore, int limit) {
        Objects.requireNonNull(completedBefore, "completedBefore");
        checkOpen();
        if (limit < 1) {
            return 0;
        }
        long cutoff = clampedNanos(completedBefore);
        String[] ids = call("choice of tasks to purge", true, c -> {
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
            n = call("purge of events", true, c -> {
                try (PreparedStatement ps = c.prepareStatement(purgeEventChunk)) {
                    ps.setArray(1, c.createArrayOf("text", ids));
                    ps.setInt(2, deleteBatchSize);
                    return ps.executeUpdate();
                }
            });
        } while (n >= deleteBatchSize);
        int removed = call("purge of terminal tasks", true, c -> {
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

    // ------------------------------------------------------------------------------------------- reads

    /** {@inheritDoc} One indexed read; {@code lastSeq} is the task's highest stored event seq. */
    @Override
    public Optional<TaskRecord> task(String taskId) {
        Objects.requireNonNull(taskId, "taskId");
        List<TaskRecord> found = queryTasks("read of task " + taskId, selectTask + " WHERE t.id = ?", List.of(taskId));
        return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
    }

    /**
     * {@inheritDoc}
     *
     * <p>The title filter lower-cases both sides with {@link Locale#ROOT}, like the in-memory store.
     */
    @Override
    public List<TaskRecord> list(TaskQuery query, TaskCursor after, int limit) {
        Objects.requireNonNull(query, "query");
        checkOpen();
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
            args.add(clampedNanos(after.createdAt()));
            args.add(after.id());
        }
        sql.append(" ORDER BY t.created_at DESC, t.id DESC LIMIT ?");
        args.add(limit);
        return queryTasks("list of tasks", sql.toString(), args);
    }

    /** {@inheritDoc} Ordered by creation time, then id. */
    @Override
    public List<TaskRecord> findByStatus(Set<TaskStatus> statuses) {
        Objects.requireNonNull(statuses, "statuses");
        checkOpen();
        if (statuses.isEmpty()) {
            return List.of();
        }
        return queryTasks("find of tasks by status", selectTask
                + " WHERE t.status = ANY (?::text[]) ORDER BY t.created_at, t.id", List.of((Object) statusNames(statuses)));
    }

    /** {@inheritDoc} One statement per 1,000 ids ({@link EventReads}). */
    @Override
    public Map<String, Long> lastSeqs(Collection<String> taskIds) {
        return EventReads.lastSeqs(this, schema, taskIds);
    }

    /** {@inheritDoc} One statement, outside any longer transaction. */
    @Override
    public List<TaskEvent> events(String taskId, long afterSeq, int limit) {
        Objects.requireNonNull(taskId, "taskId");
        checkOpen();
        if (limit < 1) {
            return List.of();
        }
        return call("read of the events of task " + taskId, true, c -> {
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

    /** {@inheritDoc} */
    @Override
    public List<PendingMessage> pendingMessages(String taskId) {
        Objects.requireNonNull(taskId, "taskId");
        return call("read of the pending messages of task " + taskId, true, c -> {
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

    /** {@inheritDoc} */
    @Override
    public Map<TaskStatus, Long> countByStatus() {
        long[] rows = new long[1];
        Map<TaskStatus, Long> result = call("count of tasks by status", true, c -> {
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
            int folded = call("fold of the status counts", false, c -> {
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
        return call(what, true, c -> {
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

    /**
     * @param s the quoted schema
     * @return the columns {@link #taskRecord(ResultSet)} reads, of a task row aliased {@code t}
     */
    static String taskColumns(String s) {
        return "t.id, t.agent_id, t.session_id, t.status, t.title, t.model, t.created_at, t.started_at, "
                + "t.completed_at, t.error, t.work_dir, t.metadata, t.options, t.timeout_millis, t.owner, t.lease_until, "
                + "(SELECT coalesce(max(e.seq), 0) FROM " + s + ".events e WHERE e.task_id = t.id), t.epoch";
    }

    /**
     * @param s the quoted schema
     * @return a select of task rows (aliased {@code t}) in the form {@link #taskRecord(ResultSet)} reads
     */
    static String selectTask(String s) {
        return "SELECT " + taskColumns(s) + " FROM " + s + ".tasks t";
    }

    static TaskRecord taskRecord(ResultSet rs) throws SQLException {
        Task t = new Task(rs.getString(1), rs.getString(2), rs.getString(3), TaskStatus.valueOf(rs.getString(4)),
                rs.getString(5), rs.getString(6), Times.fromNanos(rs.getLong(7)), instant(rs, 8), instant(rs, 9),
                rs.getString(10), rs.getString(11), Json.readStringMap(rs.getString(12)));
        return new TaskRecord(t, Json.readMap(rs.getString(13)), rs.getLong(14), rs.getString(15), instant(rs, 16),
                rs.getLong(17), rs.getLong(18));
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

    // ------------------------------------------------------------------------------ connections, errors

    /** Work on one connection. */
    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * Runs {@code work} on a connection from the data source (auto-commit, or in one transaction), retrying
     * transient failures on a fresh connection up to {@link #attempts} times.
     */
    <T> T call(String what, boolean autoCommit, SqlWork<T> work) {
        checkOpen();
        SQLException last = null;
        for (int attempt = 1; attempt <= attempts; attempt++) {
            Connection c = null;
            try {
                c = dataSource.getConnection();
                if (c.getAutoCommit() != autoCommit) {
                    c.setAutoCommit(autoCommit);
                }
                T result = work.run(c);
                if (!autoCommit) {
                    c.commit();
                }
                return result;
            } catch (SQLException e) {
                if (!autoCommit) {
                    rollbackQuietly(c);
                }
                if (!SqlStates.isTransient(e)) {
                    throw new TaskStoreException("PostgreSQL " + what + " failed (schema " + schema + "): "
                            + e.getMessage(), e);
                }
                last = e;
                LOG.debug("PostgreSQL store {}: {} attempt {} of {} failed transiently: {}", schema, what, attempt,
                        attempts, e.getMessage());
            } catch (RuntimeException e) {
                if (!autoCommit) {
                    rollbackQuietly(c);
                }
                throw e;
            } finally {
                release(c);
            }
            checkOpen();
        }
        throw new TransientStoreException("PostgreSQL " + what + " failed (schema " + schema + ", " + attempts
                + " attempts): " + last.getMessage(), last);
    }

    private TaskStoreException failure(String what, List<StoreOp> ops, SQLException e) {
        Set<String> ids = new LinkedHashSet<>();
        for (StoreOp op : ops) {
            ids.add(op.taskId());
            if (ids.size() >= 10) {
                break;
            }
        }
        String message = "PostgreSQL " + what + " of " + ops.size() + " ops failed for tasks " + ids + " (schema "
                + schema + "): " + e.getMessage();
        if (SqlStates.isTransient(e)) {
            return new TransientStoreException(message, e);
        }
        String state = SqlStates.state(e);
        if (SqlStates.UNIQUE_VIOLATION.equals(state) || SqlStates.FOREIGN_KEY_VIOLATION.equals(state)) {
            StoreConflictException conflict = new StoreConflictException(ops.get(0).taskId(), message);
            conflict.initCause(e);
            return conflict;
        }
        LOG.warn("PostgreSQL store {}: write of {} ops failed for tasks {}: {}", schema, ops.size(), ids,
                e.getMessage());
        return new TaskStoreException(message, e);
    }

    private static void rollbackQuietly(Connection c) {
        if (c != null) {
            try {
                if (!c.getAutoCommit()) {
                    c.rollback();
                }
            } catch (SQLException e) {
                LOG.debug("Rolling back a PostgreSQL transaction reported: {}", e.getMessage());
            }
        }
    }

    /** Gives a connection back in auto-commit mode (pools expect the state they handed out). */
    private static void release(Connection c) {
        if (c != null) {
            try {
                if (!c.isClosed() && !c.getAutoCommit()) {
                    c.setAutoCommit(true);
                }
            } catch (SQLException e) {
                LOG.debug("Resetting a PostgreSQL connection reported: {}", e.getMessage());
            }
            closeQuietly(c);
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                LOG.debug("Closing a PostgreSQL connection reported: {}", e.getMessage());
            }
        }
    }

    static Long nanos(Instant t, String field) {
        return t == null ? null : Times.toNanos(t, field);
    }

    static void setNanos(PreparedStatement ps, int index, Instant t, String field) throws SQLException {
        if (t == null) {
            ps.setNull(index, Types.BIGINT);
        } else {
            ps.setLong(index, Times.toNanos(t, field));
        }
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : Times.fromNanos(v);
    }

    static long clampedNanos(Instant t) {
        if (t.isBefore(Times.fromNanos(Long.MIN_VALUE))) {
            return Long.MIN_VALUE;
        }
        if (t.isAfter(Times.fromNanos(Long.MAX_VALUE))) {
            return Long.MAX_VALUE;
        }
        return Times.toNanos(t, "instant");
    }

    private void checkOpen() {
        if (closed) {
            throw new TaskStoreException("PostgreSQL task store (schema " + schema + ") is closed");
        }
    }

    // ---------------------------------------------------------------------------------- several hosts

    /** {@inheritDoc} One upsert of the host's row. */
    @Override
    public void heartbeat(String hostId, Instant now) {
        Objects.requireNonNull(hostId, "hostId");
        Objects.requireNonNull(now, "now");
        checkOpen();
        claims.heartbeat(hostId, now);
    }

    /** {@inheritDoc} */
    @Override
    public void removeHost(String hostId) {
        Objects.requireNonNull(hostId, "hostId");
        checkOpen();
        claims.removeHost(hostId);
    }

    /** {@inheritDoc} One indexed read (owned tasks only, joined to the hosts). */
    @Override
    public List<TaskRecord> orphans(Instant heartbeatBefore, int limit) {
        Objects.requireNonNull(heartbeatBefore, "heartbeatBefore");
        checkOpen();
        return claims.orphans(heartbeatBefore, limit);
    }

    /**
     * {@inheritDoc}
     *
     * <p>One statement: {@code UPDATE … FROM (SELECT … ORDER BY created_at, id LIMIT ? FOR UPDATE SKIP LOCKED)
     * RETURNING …}, on a partial index of the unclaimed queue; concurrent claims skip each other's rows.
     */
    @Override
    public List<TaskRecord> claim(String hostId, int max) {
        Objects.requireNonNull(hostId, "hostId");
        checkOpen();
        return claims.claim(hostId, max);
    }

    /**
     * {@inheritDoc}
     *
     * <p>One conditional {@code UPDATE}; it waits for a batch that holds the row through a {@link StoreOp.Fence},
     * then sees that batch's outcome. A release ({@code newOwner == null}) also requires the task to be
     * {@code PENDING}: a task its owner started meanwhile is left to it (an unowned {@code RUNNING} task would
     * never be taken over), and the next sweep finds it running.
     */
    @Override
    public Optional<TaskRecord> takeOver(String taskId, String expectedOwner, long expectedEpoch, String newOwner) {
        Objects.requireNonNull(taskId, "taskId");
        checkOpen();
        return claims.takeOver(taskId, expectedOwner, expectedEpoch, newOwner);
    }

    /** {@inheritDoc} */
    @Override
    public List<RemoteRequest> requests(String hostId, int limit) {
        Objects.requireNonNull(hostId, "hostId");
        checkOpen();
        return claims.requests(hostId, limit);
    }

    /** {@inheritDoc} */
    @Override
    public Optional<IdempotencyKey> idempotencyKey(String key) {
        Objects.requireNonNull(key, "key");
        checkOpen();
        return claims.idempotencyKey(key);
    }

    /**
     * {@inheritDoc}
     *
     * <p>The first listener starts a thread that holds one connection of the data source (or of
     * {@link Builder#listenerDataSource(DataSource)}) and {@code LISTEN}s on the schema's channel; triggers
     * {@code NOTIFY} task ids when events, unclaimed tasks and requests are committed. A lost connection is
     * opened again. Returns false if {@link Builder#notifications(boolean)} turned this off.
     */
    @Override
    public boolean addChangeListener(StoreChangeListener listener) {
        Objects.requireNonNull(listener, "listener");
        checkOpen();
        return changes != null && changes.add(listener);
    }

    /** {@inheritDoc} The last listener's removal closes the listening connection. */
    @Override
    public void removeChangeListener(StoreChangeListener listener) {
        if (changes != null && listener != null) {
            changes.remove(listener);
        }
    }

    /** @return true while the store listens for notifications on its dedicated connection */
    boolean isListening() {
        return changes != null && changes.isListening();
    }

    /**
     * Marks the store closed; later calls throw {@link TaskStoreException}. A data source the host passed is not
     * closed. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (changes != null) {
            changes.close();
        }
        closeOwned();
        LOG.info("Closed PostgreSQL task store (schema {})", schema);
    }

    private void closeOwned() {
        if (ownedDataSource != null) {
            try {
                ownedDataSource.close();
            } catch (Exception e) {
                LOG.debug("Closing the store's data source reported: {}", e.getMessage());
            }
        }
    }


    /** Settings of a {@link PostgresTaskStore}; {@link #build()} opens the store. */
    public static final class Builder {
        private final DataSource dataSource;
        private final AutoCloseable ownedDataSource;
        private String schema = DEFAULT_SCHEMA;
        private int deleteBatchSize = DEFAULT_DELETE_BATCH_SIZE;
        private int attempts = DEFAULT_ATTEMPTS;
        private Duration commitCheckTimeout = DEFAULT_COMMIT_CHECK_TIMEOUT;
        private boolean notifications = true;
        private DataSource listenerDataSource;

        private Builder(DataSource dataSource, AutoCloseable ownedDataSource) {
            this.dataSource = dataSource;
            this.ownedDataSource = ownedDataSource;
        }

        /**
         * @param name the database schema for the store's tables, created if missing: lower-case letters, digits
         *             and underscores, not starting with a digit, at most 63 characters; {@value #DEFAULT_SCHEMA}
         *             by default
         * @return this builder
         * @throws IllegalArgumentException if it is not such a name
         */
        public Builder schema(String name) {
            Objects.requireNonNull(name, "schema can not be null");
            if (!name.matches("[a-z_][a-z0-9_]{0,62}") || name.startsWith("pg_")) {
                throw new IllegalArgumentException("schema must be lower-case letters, digits and underscores, not "
                        + "starting with a digit or pg_, at most 63 characters: " + name);
            }
            this.schema = name;
            return this;
        }

        /**
         * @param rows event rows removed per transaction when a task is deleted or purged, at least 1;
         *             {@value #DEFAULT_DELETE_BATCH_SIZE} by default
         * @return this builder
         * @throws IllegalArgumentException if it is below 1
         */
        public Builder deleteBatchSize(int rows) {
            if (rows < 1) {
                throw new IllegalArgumentException("deleteBatchSize must be at least 1: " + rows);
            }
            this.deleteBatchSize = rows;
            return this;
        }

        /**
         * @param n how many times a call is tried on a fresh connection after a transient failure before the store
         *          throws {@link TransientStoreException}, 1 to 10; {@value #DEFAULT_ATTEMPTS} by default
         * @return this builder
         * @throws IllegalArgumentException if it is out of range
         */
        public Builder attempts(int n) {
            if (n < 1 || n > 10) {
                throw new IllegalArgumentException("attempts must be between 1 and 10: " + n);
            }
            this.attempts = n;
            return this;
        }

        /**
         * @param timeout how long to wait for the server to tell whether a commit whose connection broke happened;
         *                positive; 30 s by default
         * @return this builder
         * @throws IllegalArgumentException if it is not positive
         */
        public Builder commitCheckTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "commitCheckTimeout can not be null");
            if (timeout.isZero() || timeout.isNegative()) {
                throw new IllegalArgumentException("commitCheckTimeout must be positive: " + timeout);
            }
            this.commitCheckTimeout = timeout;
            return this;
        }

        /**
         * @param on whether {@link #addChangeListener(StoreChangeListener)} listens for PostgreSQL notifications
         *           (one dedicated connection per store while a listener is registered); true by default. Turn it
         *           off when the database cannot deliver them; the engine then finds other hosts' changes by
         *           polling only
         * @return this builder
         */
        public Builder notifications(boolean on) {
            this.notifications = on;
            return this;
        }

        /**
         * @param dataSource where the dedicated listening connection comes from instead of the store's data
         *                   source: for example a direct connection to the server when the store's pool goes
         *                   through a transaction-pooling proxy such as PgBouncer, which does not pass
         *                   {@code LISTEN/NOTIFY} on; the store closes each connection it takes, never the source
         * @return this builder
         */
        public Builder listenerDataSource(DataSource dataSource) {
            this.listenerDataSource = Objects.requireNonNull(dataSource, "listenerDataSource can not be null");
            return this;
        }

        /**
         * Opens the store: checks the schema, applies missing migrations.
         *
         * @return the open store
         * @throws PostgresSchemaException if the schema was written by a newer store or holds another
         *                                 application's tables of the store's names
         * @throws TaskStoreException      if it cannot be opened or migrated for another reason
         */
        public PostgresTaskStore build() {
            return new PostgresTaskStore(this);
        }
    }
}
