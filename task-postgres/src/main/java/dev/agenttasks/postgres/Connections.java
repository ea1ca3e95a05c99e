package dev.agenttasks.postgres;

import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.TransientStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The store's connections: runs work on one from the data source, retrying transient failures on a fresh one,
 * and knows whether the store was closed. Moved out of {@link PostgresTaskStore}.
 */
final class Connections {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresTaskStore.class);

    private final DataSource dataSource;
    private final String schema;
    private final int attempts;
    private volatile boolean closed;

    Connections(DataSource dataSource, String schema, int attempts) {
        this.dataSource = dataSource;
        this.schema = schema;
        this.attempts = attempts;
    }

    DataSource dataSource() {
        return dataSource;
    }

    String schema() {
        return schema;
    }

    int attempts() {
        return attempts;
    }

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

    static void rollbackQuietly(Connection c) {
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
    static void release(Connection c) {
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

    static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                LOG.debug("Closing a PostgreSQL connection reported: {}", e.getMessage());
            }
        }
    }

    void checkOpen() {
        if (closed) {
            throw new TaskStoreException("PostgreSQL task store (schema " + schema + ") is closed");
        }
    }

    /** @return true if this call closed the store, false if it was closed already */
    boolean markClosed() {
        if (closed) {
            return false;
        }
        closed = true;
        return true;
    }
}
