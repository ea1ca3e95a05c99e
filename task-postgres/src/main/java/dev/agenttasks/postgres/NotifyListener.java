package dev.agenttasks.postgres;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Listens on one PostgreSQL {@code LISTEN/NOTIFY} channel on a dedicated connection and hands the payloads to a
 * consumer, on its own daemon thread. Notifications are wake-ups only (they carry ids, see the V3 migration's
 * triggers): whoever consumes them reads the store for the truth, and keeps polling behind them, because a
 * notification can be missed (the connection breaks, or the database is reached through a transaction-pooling
 * proxy that does not pass them on).
 *
 * <p>When the connection breaks the listener opens a new one, with a growing pause between tries (up to
 * {@link #MAX_BACKOFF_MILLIS}), and calls {@code onGap} once it listens again: notifications sent meanwhile are
 * lost, so the consumer should poll everything once.
 */
final class NotifyListener implements AutoCloseable {

    /** Where the dedicated connection comes from. */
    @FunctionalInterface
    interface Connector {
        /** @return a new connection; the listener closes it */
        Connection open() throws SQLException;
    }

    /** How long one wait for notifications lasts; {@link #close()} takes effect within about this. */
    static final int WAIT_MILLIS = 250;
    /** The longest pause between two attempts to reconnect. */
    static final long MAX_BACKOFF_MILLIS = 5_000;

    private static final Logger LOG = LoggerFactory.getLogger(NotifyListener.class);

    private final String channel;
    private final Connector connector;
    private final Consumer<List<String>> onPayloads;
    private final Runnable onGap;
    private final Thread thread;
    private final Object pause = new Object();
    private volatile boolean closed;
    private volatile boolean listening;

    /**
     * @param channel    the channel (a name as {@link #channel(String)} makes)
     * @param connector  opens the dedicated connection
     * @param onPayloads receives the payloads of the notifications of one wait, in order; must not block long
     * @param onGap      called after the listener (re)connected: notifications may have been missed before
     */
    NotifyListener(String channel, Connector connector, Consumer<List<String>> onPayloads, Runnable onGap) {
        this.channel = Objects.requireNonNull(channel, "channel");
        this.connector = Objects.requireNonNull(connector, "connector");
        this.onPayloads = Objects.requireNonNull(onPayloads, "onPayloads");
        this.onGap = Objects.requireNonNull(onGap, "onGap");
        this.thread = new Thread(this::loop, "agent-tasks-pg-listen-" + channel);
        this.thread.setDaemon(true);
    }

    /**
     * The channel of a store schema: {@code agent_tasks:<schema>}, or {@code agent_tasks:<md5 of schema>} when
     * that would exceed PostgreSQL's 63-byte identifier limit. The V3 migration's notify function computes the
     * same name.
     *
     * @param schema the store's schema
     * @return the channel name
     */
    static String channel(String schema) {
        return schema.length() <= 51 ? "agent_tasks:" + schema : "agent_tasks:" + md5(schema);
    }

    private static String md5(String s) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("MD5")
                    .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            StringBuilder b = new StringBuilder();
            for (byte x : d) {
                b.append(String.format("%02x", x));
            }
            return b.toString();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Starts the listening thread. */
    void start() {
        thread.start();
    }

    /** @return true while the listener has a working connection that listens */
    boolean isListening() {
        return listening;
    }

    private void loop() {
        long backoff = 100;
        while (!closed) {
            Connection c = null;
            try {
                c = connector.open();
                c.setAutoCommit(true);
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN \"" + channel.replace("\"", "\"\"") + '"');
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                listening = true;
                backoff = 100;
                LOG.debug("Listening on PostgreSQL channel {}", channel);
                onGap.run();
                while (!closed) {
                    PGNotification[] ns = pg.getNotifications(WAIT_MILLIS);
                    if (ns != null && ns.length > 0) {
                        List<String> payloads = new ArrayList<>(ns.length);
                        for (PGNotification n : ns) {
                            payloads.add(n.getParameter());
                        }
                        deliver(payloads);
                    } else if (c.isClosed()) {
                        throw new SQLException("the listening connection was closed", "08003");
                    }
                }
            } catch (SQLException | RuntimeException e) {
                listening = false;
                if (!closed) {
                    LOG.warn("PostgreSQL notifications on {} interrupted ({}); reconnecting in {} ms, polling "
                            + "meanwhile", channel, e.getMessage(), backoff);
                    pause(backoff);
                    backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
                }
            } finally {
                listening = false;
                if (c != null) {
                    try {
                        if (!c.isClosed()) {
                            // a pooled connection goes back to the pool: it must not listen for its next user
                            try (Statement s = c.createStatement()) {
                                s.execute("UNLISTEN *");
                            }
                        }
                    } catch (SQLException e) {
                        LOG.debug("UNLISTEN on the listening connection reported: {}", e.getMessage());
                    }
                    try {
                        c.close();
                    } catch (SQLException e) {
                        LOG.debug("Closing the listening connection reported: {}", e.getMessage());
                    }
                }
            }
        }
    }

    private void deliver(List<String> payloads) {
        try {
            onPayloads.accept(payloads);
        } catch (RuntimeException e) {
            LOG.warn("A PostgreSQL notification consumer failed on {}: {}", channel, e.toString());
        }
    }

    private void pause(long millis) {
        synchronized (pause) {
            long end = System.nanoTime() + millis * 1_000_000L;
            long left;
            while (!closed && (left = end - System.nanoTime()) > 0) {
                try {
                    pause.wait(Math.max(1, left / 1_000_000L));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Stops listening and closes the connection, waiting briefly for the thread. Idempotent. */
    @Override
    public void close() {
        closed = true;
        synchronized (pause) {
            pause.notifyAll();
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join(WAIT_MILLIS * 8L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
