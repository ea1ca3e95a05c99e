package dev.agenttasks.sqlite;

import dev.agenttasks.TaskStoreException;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Opening the file of {@link SqliteTaskStore}: the check that refuses a file that is not SQLite or not this
 * store's schema before anything is written, the creation of a new file with its page size, the
 * connections with their settings, and the schema migrations (with the rewrite of a version 1 file with
 * larger pages).
 */
final class SqliteSchema {

    private static final Logger LOG = LoggerFactory.getLogger(SqliteTaskStore.class);
    private static final int WAL_SIZE_LIMIT = 64 * 1024 * 1024;
    private static final byte[] SQLITE_HEADER = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);
    private static final int SCHEMA_VERSION = SqliteTaskStore.SCHEMA_VERSION;
    /** See {@link SqliteTaskStore#PAGE_SIZE}. */
    private static final int PAGE_SIZE = SqliteTaskStore.PAGE_SIZE;

    private final Path path;
    private final Durability durability;
    private final Duration busyTimeout;

    SqliteSchema(Path path, Durability durability, Duration busyTimeout) {
        this.path = path;
        this.durability = durability;
        this.busyTimeout = busyTimeout;
    }

    Connection connect(boolean forWriting) throws SQLException {
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
    void createFile() throws SQLException {
        try (Connection c = new SQLiteConfig().createConnection("jdbc:sqlite:" + path);
             Statement s = c.createStatement()) {
            s.execute("PRAGMA page_size = " + PAGE_SIZE);
            s.execute("PRAGMA journal_mode = WAL");
        }
    }

    /** Refuses, before anything is written, a file that is not SQLite or not this store's schema. */
    void inspect(Path file) {
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
    void migrate(Connection c) throws SQLException {
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

    static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                LOG.debug("Closing an SQLite connection reported: {}", e.getMessage());
            }
        }
    }
}
