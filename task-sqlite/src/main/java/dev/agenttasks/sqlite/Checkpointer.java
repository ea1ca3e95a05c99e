package dev.agenttasks.sqlite;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Copies the write-ahead log back into the database file on its own thread and connection, so that the
 * writer's commits do not: with SQLite's automatic checkpoint, the commit that takes the log past its
 * threshold copies it (32 MB here) and syncs the file twice before it returns, and the engine's writer
 * waits. The writer {@linkplain #committed() signals} each commit; this thread then runs a
 * {@code PASSIVE} checkpoint (it never waits for a lock and never blocks the writer or a reader), at most
 * every {@link #MIN_INTERVAL_MILLIS} ms, so it syncs a few times a second at most. The writer connection
 * keeps an automatic checkpoint at a higher threshold ({@link #WRITER_AUTOCHECKPOINT_PAGES}) as a
 * fallback should this thread fall behind. Checkpointing changes no data and no durability guarantee.
 */
final class Checkpointer {

    private static final Logger LOG = LoggerFactory.getLogger(SqliteTaskStore.class);
    /** The writer connection's own automatic checkpoint threshold, in pages (64 MB of 32 KB pages). */
    static final int WRITER_AUTOCHECKPOINT_PAGES = 2000;
    static final long MIN_INTERVAL_MILLIS = 100;
    /** The thread's name, followed by the file's name. */
    static final String THREAD_NAME = "agent-tasks-sqlite-checkpoint ";

    private final Path path;
    private final Connection connection;
    private final Semaphore signal = new Semaphore(0);
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Thread thread;
    private volatile boolean closing;

    Checkpointer(Path path, Connection connection) {
        this.path = path;
        this.connection = connection;
        this.thread = new Thread(this::run, THREAD_NAME + path.getFileName());
        thread.setDaemon(true);
        thread.start();
    }

    /** Called by the writer after each commit: a checkpoint will follow soon. Never blocks. */
    void committed() {
        if (signal.availablePermits() == 0) {
            signal.release();
        }
    }

    private void run() {
        try (Statement s = connection.createStatement()) {
            while (true) {
                signal.acquire();
                signal.drainPermits();
                if (closing) {
                    break;
                }
                checkpoint(s);
                // at most a few checkpoints (and file syncs) a second; commits meanwhile leave a permit,
                // a close ends the wait
                if (closed.await(MIN_INTERVAL_MILLIS, TimeUnit.MILLISECONDS)) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SQLException | RuntimeException e) {
            LOG.warn("SQLite store {}: the checkpoint thread stopped ({}); commits checkpoint the log themselves", path,
                    e.getMessage());
        }
    }

    private void checkpoint(Statement s) {
        try (ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(PASSIVE)")) {
            rs.next();
        } catch (SQLException e) {
            // the writer's automatic checkpoint is the fallback; the next commit tries again
            LOG.debug("SQLite store {}: background checkpoint reported: {}", path, e.getMessage());
        }
    }

    /** Stops the thread (after a checkpoint in progress) and closes its connection. */
    void close() {
        closing = true;
        closed.countDown();
        signal.release();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        SqliteSchema.closeQuietly(connection);
    }
}
