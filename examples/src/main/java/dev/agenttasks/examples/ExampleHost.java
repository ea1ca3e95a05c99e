package dev.agenttasks.examples;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.RecoveryPolicy;
import dev.agenttasks.Task;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskManager;
import dev.agenttasks.postgres.PostgresTaskStore;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.sqlite.SqliteTaskStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The example host: a {@link TaskManager} on a SQLite file (or, with {@code --postgres}, on a PostgreSQL
 * database through a HikariCP pool), the agents of a small catalog, and the {@link TasksHttpServer} with the
 * Tasks page, bound to loopback.
 *
 * <p>Run it from the project root with
 * {@code mvn -q install -DskipTests && mvn -q -pl examples exec:java}; pass options with
 * {@code -Dexec.args="--port 9090 --data-dir /tmp/tasks"} (see {@link HostConfig#parse(String[])}).
 * Ctrl-C stops it cleanly: streams end, running turns get a few seconds, and whatever is still running
 * is recovered by the next start (failed as interrupted, or resumed with {@code --recovery resume}).
 */
public final class ExampleHost implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ExampleHost.class);
    /** What a stop takes besides the shutdown timeout for running turns. */
    static final Duration STOP_MARGIN = Duration.ofSeconds(2);

    private final TaskManager manager;
    private final TasksHttpServer server;
    private final Path database;
    private final String storage;
    private final HikariDataSource pool;
    private final int recovered;
    private final boolean resumed;

    private ExampleHost(TaskManager manager, TasksHttpServer server, Opened opened, int recovered, boolean resumed) {
        this.manager = manager;
        this.server = server;
        this.database = opened.file;
        this.storage = opened.description;
        this.pool = opened.pool;
        this.recovered = recovered;
        this.resumed = resumed;
    }

    /** The store opened, and what has to be closed after it. */
    private static final class Opened {
        final TaskStore store;
        final Path file;
        final HikariDataSource pool;
        final String description;

        Opened(TaskStore store, Path file, HikariDataSource pool, String description) {
            this.store = store;
            this.file = file;
            this.pool = pool;
            this.description = description;
        }

        void close() {
            try {
                store.close();
            } finally {
                if (pool != null) {
                    pool.close();
                }
            }
        }
    }

    private static Opened open(HostConfig config) {
        HostConfig.Postgres pg = config.postgres();
        if (pg == null) {
            Path database = config.dataDir().resolve("tasks.db").toAbsolutePath();
            return new Opened(SqliteTaskStore.open(database), database, null, database.toString());
        }
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(pg.jdbcUrl());
        if (pg.user() != null) {
            hc.setUsername(pg.user());
        }
        if (pg.password() != null) {
            hc.setPassword(pg.password());
        }
        hc.setPoolName("agent-tasks");
        hc.setMaximumPoolSize(8);
        hc.setMinimumIdle(1);
        hc.setConnectionTimeout(10_000);
        HikariDataSource pool = new HikariDataSource(hc);
        try {
            TaskStore store = PostgresTaskStore.builder(pool).schema(pg.schema()).build();
            return new Opened(store, null, pool, "PostgreSQL " + redacted(pg.jdbcUrl()) + ", schema " + pg.schema());
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    /** @return the URL without its query parameters, which may hold a password */
    static String redacted(String jdbcUrl) {
        int q = jdbcUrl.indexOf('?');
        return q < 0 ? jdbcUrl : jdbcUrl.substring(0, q) + "?…";
    }

    /**
     * Opens the store, builds the manager (recovering interrupted tasks) and starts the server.
     *
     * @param config the settings
     * @return the running host
     * @throws IOException if the data folder or the port can not be used
     */
    public static ExampleHost start(HostConfig config) throws IOException {
        return start(config, catalog -> new CatalogAgentRunner(catalog, config.demoTokenDelay()));
    }

    /** {@link #start(HostConfig)} with another runner (tests script their agents); it is given the catalog. */
    static ExampleHost start(HostConfig config, Function<AgentCatalog, AgentRunner> runners) throws IOException {
        Files.createDirectories(config.dataDir());
        AgentCatalog catalog = catalog(config);
        Opened opened = open(config);
        TaskStore store = opened.store;
        TaskManager manager;
        int recovered;
        try {
            // what the recovery policy acted on while the manager started: tasks a stopped host left unfinished.
            // Not every PENDING or RUNNING task in the store: with several hosts on one database those are
            // mostly other live hosts' tasks, which this host leaves alone.
            AtomicInteger recoveries = new AtomicInteger();
            TaskManager.Builder builder = TaskManager.builder()
                    .store(store)
                    .runner(runners.apply(catalog))
                    .recoveryPolicy(config.resumeInterrupted() ? RecoveryPolicy.resume() : RecoveryPolicy.failInterrupted())
                    .shutdownTimeout(config.shutdownTimeout())
                    .listener(new TaskListener() {
                        @Override
                        public void taskRecovered(Task task, RecoveryPolicy.Action action) {
                            recoveries.incrementAndGet();
                        }
                    });
            if (config.hostId() != null) {
                builder.hostId(config.hostId());
            }
            manager = builder.build();
            recovered = recoveries.get();
        } catch (RuntimeException e) {
            opened.close();
            throw e;
        }
        TasksHttpServer server = null;
        try {
            server = new TasksHttpServer(manager, catalog, config, store);
            server.start();
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            manager.close();
            if (opened.pool != null) {
                opened.pool.close();
            }
            throw e;
        }
        return new ExampleHost(manager, server, opened, recovered, config.resumeInterrupted());
    }

    private static AgentCatalog catalog(HostConfig config) {
        if (config.agentsFile() != null) {
            return AgentCatalog.load(config.agentsFile());
        }
        Path inData = config.dataDir().resolve("agents.json");
        return Files.isRegularFile(inData) ? AgentCatalog.load(inData) : AgentCatalog.bundled();
    }

    /** @return the page's URL */
    public URI url() {
        return server.url();
    }

    /** @return the manager */
    public TaskManager manager() {
        return manager;
    }

    /** @return the HTTP server */
    public TasksHttpServer server() {
        return server;
    }

    /** @return the SQLite file, or {@code null} when the tasks are kept in PostgreSQL */
    public Path database() {
        return database;
    }

    /** @return where the tasks are kept: the SQLite file, or the PostgreSQL URL (without parameters) and schema */
    public String storage() {
        return storage;
    }

    /**
     * @return how many tasks a stopped host (the previous process, or another host found dead) left pending or
     *         running and this start recovered; tasks of other live hosts sharing the database are not counted
     */
    public int recovered() {
        return recovered;
    }

    /**
     * The documented bound on a stop (Ctrl-C or SIGTERM): the shutdown timeout for running turns plus
     * {@link #STOP_MARGIN} for ending streams, stopping the server and closing the store. {@link #main}
     * halts the JVM if a stop takes longer; what was running is then recovered by the next start.
     *
     * @param config the settings
     * @return the longest a stop takes
     */
    public static Duration stopLimit(HostConfig config) {
        return config.shutdownTimeout().plus(STOP_MARGIN);
    }

    /** Stops the server (ending open streams), then closes the manager and its store (and the pool). Idempotent. */
    @Override
    public void close() {
        try {
            server.close();
            manager.close();
        } finally {
            if (pool != null) {
                pool.close();
            }
        }
    }

    /**
     * Starts the host and runs until the JVM is stopped (Ctrl-C).
     *
     * @param args options, see {@link HostConfig#parse(String[])}
     * @throws Exception if the host can not start
     */
    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        HostConfig config;
        try {
            config = HostConfig.parse(args);
        } catch (IllegalArgumentException e) {
            out.println((e.getMessage().equals("usage") ? "" : e.getMessage() + "\n") + "options: --port N (default "
                    + HostConfig.DEFAULT_PORT + ", 0 = any) --bind ADDRESS --data-dir DIR --token TOKEN"
                    + " --allowed-host NAME --agents FILE --max-body-bytes N --heartbeat-seconds N"
                    + " --demo-token-delay-ms N --recovery fail|resume --work-root DIR (repeatable)"
                    + " --idle-timeout-seconds N --max-header-bytes N --shutdown-timeout-seconds N"
                    + " --postgres JDBC_URL --postgres-user USER --postgres-schema NAME --host-id NAME"
                    + " (password: env " + HostConfig.PG_PASSWORD_ENV + ", or --postgres-password)");
            if (!e.getMessage().equals("usage")) {
                System.exit(2);
            }
            return;
        }
        ExampleHost host = start(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Duration limit = stopLimit(config);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("Stopping: ending streams, letting running turns finish (at most " + limit.toSeconds() + " s)...");
            Thread watchdog = new Thread(() -> {
                try {
                    if (!stopped.await(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                        out.println("Stop took longer than " + limit.toSeconds() + " s; halting (the next start recovers).");
                        Runtime.getRuntime().halt(1);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "example-host-stop-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
            try {
                host.close();
                out.println("Stopped.");
            } finally {
                stopped.countDown();
            }
        }, "example-host-shutdown"));
        if (host.recovered() > 0) {
            out.println("Recovered " + host.recovered() + " task(s) interrupted by the previous stop ("
                    + (host.resumed ? "resumed" : "marked failed; --recovery resume would resume them") + ").");
        }
        String url = host.url().toString();
        if (config.token() != null) {
            out.println("A bearer token is required for every API call; the page takes it from the link below.");
            url = url + "#token=" + config.token();
        }
        out.println("Agent tasks host running at " + url);
        out.println("Data: " + host.storage() + " - press Ctrl-C to stop.");
        log.info("Host started on port {}", host.server().port());
        stopped.await();
    }
}
