package dev.agenttasks.postgres;

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

    private final AutoCloseable ownedDataSource;
    private final String schema;
    private final Connections connections;
    private final WriteTransactions writes;
    private final Deletes deletes;
    private final Reads reads;
    private final Claims claims;
    /** Push wake-ups, or null if the builder turned them off. */
    private final ChangeFeed changes;

    private PostgresTaskStore(Builder b) {
        this.ownedDataSource = b.ownedDataSource;
        this.schema = b.schema;
        this.connections = new Connections(b.dataSource, schema, b.attempts);
        this.writes = new WriteTransactions(connections, new Batches(b.dataSource, schema), b.commitCheckTimeout);
        this.deletes = new Deletes(connections, b.deleteBatchSize);
        this.reads = new Reads(connections);
        this.claims = new Claims(this, schema);
        DataSource listenFrom = b.listenerDataSource != null ? b.listenerDataSource : b.dataSource;
        this.changes = b.notifications ? new ChangeFeed(schema, listenFrom::getConnection) : null;
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
        writes.write(ops);
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
        return deletes.delete(taskId);
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
        return deletes.purgeTerminal(completedBefore, limit);
    }

    // ------------------------------------------------------------------------------------------- reads

    /** {@inheritDoc} One indexed read; {@code lastSeq} is the task's highest stored event seq. */
    @Override
    public Optional<TaskRecord> task(String taskId) {
        Objects.requireNonNull(taskId, "taskId");
        return reads.task(taskId);
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
        return reads.list(query, after, limit);
    }

    /** {@inheritDoc} Ordered by creation time, then id. */
    @Override
    public List<TaskRecord> findByStatus(Set<TaskStatus> statuses) {
        Objects.requireNonNull(statuses, "statuses");
        checkOpen();
        return reads.findByStatus(statuses);
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
        return reads.events(taskId, afterSeq, limit);
    }

    /** {@inheritDoc} */
    @Override
    public List<PendingMessage> pendingMessages(String taskId) {
        Objects.requireNonNull(taskId, "taskId");
        return reads.pendingMessages(taskId);
    }

    /** {@inheritDoc} */
    @Override
    public Map<TaskStatus, Long> countByStatus() {
        return reads.countByStatus();
    }

    // ------------------------------------------------------------------------------ connections, errors

    /**
     * Runs {@code work} on a connection from the data source (auto-commit, or in one transaction), retrying
     * transient failures on a fresh connection; see {@link Connections#call}.
     */
    <T> T call(String what, boolean autoCommit, Connections.SqlWork<T> work) {
        return connections.call(what, autoCommit, work);
    }

    private void checkOpen() {
        connections.checkOpen();
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
        if (!connections.markClosed()) {
            return;
        }
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
