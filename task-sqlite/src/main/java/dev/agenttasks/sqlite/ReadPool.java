package dev.agenttasks.sqlite;

import dev.agenttasks.TaskStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A fixed pool of read connections, each with its own cache of prepared statements. A caller holds a
 * connection for one statement; connections given back after {@link #close()} are closed.
 */
final class ReadPool {

    private static final Logger LOG = LoggerFactory.getLogger(ReadPool.class);
    private static final int MAX_CACHED_STATEMENTS = 64;

    /** One read connection and its statements. Used by one thread at a time. */
    static final class Reader {
        private final Connection connection;
        private final Map<String, PreparedStatement> statements = new HashMap<>();

        Reader(Connection connection) {
            this.connection = connection;
        }

        PreparedStatement prepare(String sql) throws SQLException {
            PreparedStatement ps = statements.get(sql);
            if (ps == null) {
                if (statements.size() >= MAX_CACHED_STATEMENTS) {
                    closeStatements();
                }
                ps = connection.prepareStatement(sql);
                statements.put(sql, ps);
            } else {
                ps.clearParameters();
            }
            return ps;
        }

        /**
         * Runs several statements in one read transaction (one snapshot of the file), then ends it.
         *
         * @param work the statements, on this reader
         * @param <T>  the result type
         * @return what the work returned
         * @throws SQLException if a statement fails
         */
        <T> T snapshot(Work<T> work) throws SQLException {
            connection.setAutoCommit(false);
            try {
                return work.run();
            } finally {
                connection.setAutoCommit(true);
            }
        }

        /** Statements run by {@link #snapshot(Work)}. */
        interface Work<T> {
            T run() throws SQLException;
        }

        private void closeStatements() {
            for (PreparedStatement ps : statements.values()) {
                try {
                    ps.close();
                } catch (SQLException e) {
                    LOG.debug("Closing a read statement reported: {}", e.getMessage());
                }
            }
            statements.clear();
        }

        void close() {
            closeStatements();
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.debug("Closing a read connection reported: {}", e.getMessage());
            }
        }
    }

    private final BlockingQueue<Reader> idle;
    private final List<Reader> all = new ArrayList<>();
    private volatile boolean closed;

    ReadPool(int size) {
        this.idle = new ArrayBlockingQueue<>(size);
    }

    synchronized void add(Connection c) {
        Reader r = new Reader(c);
        all.add(r);
        idle.add(r);
    }

    Reader acquire() {
        try {
            while (true) {
                if (closed) {
                    throw new TaskStoreException("SQLite task store is closed");
                }
                Reader r = idle.poll(100, TimeUnit.MILLISECONDS);
                if (r != null) {
                    return r;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TaskStoreException("interrupted while waiting for an SQLite read connection", e);
        }
    }

    synchronized void release(Reader r) {
        if (closed) {
            r.close();
        } else {
            idle.add(r);
        }
    }

    /** Closes the idle connections now and the busy ones when they are given back. */
    synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Reader r;
        while ((r = idle.poll()) != null) {
            r.close();
        }
    }
}
