package dev.agenttasks.testkit.postgres;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The PostgreSQL server the tests of this JVM share, handed out by {@link PostgresExtension}: an embedded one
 * the extension started, or an external one named by the environment. Thread-safe.
 *
 * <p>Tests isolate themselves with a schema of their own ({@link #uniqueSchemaName(String)}), which is much
 * cheaper than a database per test.
 */
public abstract class PostgresServer {

    private static final AtomicInteger SCHEMAS = new AtomicInteger();
    /** Distinguishes the schemas of two runs on one external server. */
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    /** Only the extension creates servers. */
    PostgresServer() {
    }

    /** @return the JDBC URL of the test database, for example {@code jdbc:postgresql://localhost:5432/postgres} */
    public abstract String jdbcUrl();

    /** @return the user to connect as */
    public abstract String user();

    /** @return the password, empty for none */
    public abstract String password();

    /** @return true if the extension started this server itself (false for an external server) */
    public abstract boolean isEmbedded();

    /**
     * Makes every open connection to the test database fail as a real outage would.
     *
     * <p>An embedded server is really stopped ({@code pg_ctl stop -m fast}) and started again on the same data
     * directory and port; this method returns once it accepts connections again. On an external server, which a
     * test must not stop, every other backend of the test database is terminated with
     * {@code pg_terminate_backend} (the same {@code 57P01} error a restart gives its clients); the user needs the
     * right to signal them (superuser or {@code pg_signal_backend}).
     *
     * @throws IllegalStateException if the server cannot be restarted
     */
    public abstract void restart();

    /**
     * Opens a new connection with {@link DriverManager} (the PostgreSQL JDBC driver must be on the class path).
     *
     * @return the connection; the caller closes it
     * @throws SQLException if it cannot connect
     */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), user(), password());
    }

    /**
     * A schema name no other test of this run or of another run on the same server uses: lower case, the
     * prefix, a run id and a counter. The schema is not created.
     *
     * @param prefix letters, digits and underscores, starting with a letter
     * @return the name
     * @throws IllegalArgumentException if the prefix is not such a name
     */
    public String uniqueSchemaName(String prefix) {
        if (prefix == null || !prefix.matches("[A-Za-z][A-Za-z0-9_]{0,30}")) {
            throw new IllegalArgumentException("prefix must be a letter followed by up to 30 letters, digits or "
                    + "underscores: " + prefix);
        }
        return (prefix + "_" + RUN + "_" + SCHEMAS.incrementAndGet()).toLowerCase(Locale.ROOT);
    }

    /**
     * Drops a schema and everything in it, if it exists.
     *
     * @param schema a name as returned by {@link #uniqueSchemaName(String)}
     * @throws IllegalArgumentException if it is not such a name
     * @throws IllegalStateException    if the drop fails
     */
    public void dropSchema(String schema) {
        if (schema == null || !schema.matches("[a-z][a-z0-9_]{0,62}")) {
            throw new IllegalArgumentException("not a schema name of this server: " + schema);
        }
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot drop schema " + schema + ": " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return (isEmbedded() ? "embedded PostgreSQL at " : "external PostgreSQL at ") + jdbcUrl();
    }
}
