package dev.agenttasks.postgres;

import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TransientStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static dev.agenttasks.postgres.Connections.closeQuietly;
import static dev.agenttasks.postgres.Connections.release;
import static dev.agenttasks.postgres.Connections.rollbackQuietly;

/**
 * A {@link PostgresTaskStore#write(List) write batch} as one transaction: retried on a fresh connection after a
 * transient failure, and when the connection breaks during the commit, the server is asked whether the commit
 * happened. The statements inside the transaction are {@link Batches}'. Moved out of the store.
 */
final class WriteTransactions {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresTaskStore.class);

    private final Connections connections;
    private final Batches batches;
    private final String schema;
    private final int attempts;
    private final Duration commitCheckTimeout;

    WriteTransactions(Connections connections, Batches batches, Duration commitCheckTimeout) {
        this.connections = connections;
        this.batches = batches;
        this.schema = connections.schema();
        this.attempts = connections.attempts();
        this.commitCheckTimeout = commitCheckTimeout;
    }

    /** Writes a non-empty batch of ops in one transaction, retrying transient failures. */
    void write(List<StoreOp> ops) {
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
                connections.checkOpen();
            }
        }
        throw last;
    }

    private void writeOnce(List<StoreOp> ops, List<List<StoreOp>> runs) {
        Connection c;
        try {
            c = connections.dataSource().getConnection();
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
            try (Connection c = connections.dataSource().getConnection();
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
}
