package dev.agenttasks.examples;

import dev.agenttasks.RecoveryPolicy;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskStatus;
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
import java.util.EnumSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The example host: a {@link TaskManager} on a SQLite file, the agents of a small catalog, and the
 * {@link TasksHttpServer} with the Tasks page, bound to loopback.
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
    private final int recovered;
    private final boolean resumed;

    private ExampleHost(TaskManager manager, TasksHttpServer server, Path database, int recovered, boolean resumed) {
        this.manager = manager;
        this.server = server;
        this.database = database;
        this.recovered = recovered;
        this.resumed = resumed;
    }

    /**
     * Opens the store, builds the manager (recovering interrupted tasks) and starts the server.
     *
     * @param config the settings
     * @return the running host
     * @throws IOException if the data folder or the port can not be used
     */
    public static ExampleHost start(HostConfig config) throws IOException {
        Files.createDirectories(config.dataDir());
        Path database = config.dataDir().resolve("tasks.db").toAbsolutePath();
        AgentCatalog catalog = catalog(config);
        TaskStore store = SqliteTaskStore.open(database);
        TaskManager manager;
        int recovered;
        try {
            // what the recovery policy is about to act on: tasks the previous process left unfinished
            recovered = store.findByStatus(EnumSet.of(TaskStatus.PENDING, TaskStatus.RUNNING)).size();
            manager = TaskManager.builder()
                    .store(store)
                    .runner(new CatalogAgentRunner(catalog, config.demoTokenDelay()))
                    .recoveryPolicy(config.resumeInterrupted() ? RecoveryPolicy.resume() : RecoveryPolicy.failInterrupted())
                    .shutdownTimeout(config.shutdownTimeout())
                    .build();
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        TasksHttpServer server = null;
        try {
            server = new TasksHttpServer(manager, catalog, config);
            server.start();
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            manager.close();
            throw e;
        }
        return new ExampleHost(manager, server, database, recovered, config.resumeInterrupted());
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

    /** @return the SQLite file */
    public Path database() {
        return database;
    }

    /** @return how many tasks the previous process left pending or running, recovered by this start */
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

    /** Stops the server (ending open streams), then closes the manager and its store. Idempotent. */
    @Override
    public void close() {
        server.close();
        manager.close();
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
                    + " --idle-timeout-seconds N --max-header-bytes N --shutdown-timeout-seconds N");
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
        out.println("Data: " + host.database() + " - press Ctrl-C to stop.");
        log.info("Host started on port {}", host.server().port());
        stopped.await();
    }
}
