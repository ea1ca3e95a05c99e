package dev.agenttasks.postgres.hosts;

import dev.agenttasks.testkit.postgres.PostgresServer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link HostMain} in a child JVM on the test class path, driven through its stdin and stdout: the parent side of
 * the tests that SIGKILL and SIGSTOP hosts. Its stderr (the host's log) goes to a file under {@code target/}.
 */
public final class HostProcess implements AutoCloseable {

    private final String hostId;
    private final Process process;
    private final Writer stdin;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Path log;

    private HostProcess(String hostId, Process process, Path log) {
        this.hostId = hostId;
        this.process = process;
        this.log = log;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("EOF " + e.getMessage());
            }
            lines.add("EOF");
        }, "host-" + hostId + "-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts a host and waits until it is ready.
     *
     * @param server          the database
     * @param schema          the store's schema
     * @param hostId          the host id
     * @param slots           its maxConcurrentTasks
     * @param heartbeatMillis heartbeat interval
     * @param deadAfterMillis dead-host timeout
     * @param policy          {@code fail} or {@code resume}
     * @param ready           how long to wait for it to start
     * @return the running host
     */
    public static HostProcess start(PostgresServer server, String schema, String hostId, int slots, long heartbeatMillis,
                                    long deadAfterMillis, String policy, Duration ready) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info", "-Dorg.slf4j.simpleLogger.showDateTime=true",
                "-cp", classPath(), HostMain.class.getName(), server.jdbcUrl(),
                server.user(), server.password().isEmpty() ? "-" : server.password(), schema, hostId,
                Integer.toString(slots), Long.toString(heartbeatMillis), Long.toString(deadAfterMillis), policy));
        try {
            Path dir = Files.createDirectories(Path.of("target", "hosts"));
            Path log = dir.resolve(schema + "-" + hostId + ".log");
            Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            HostProcess h = new HostProcess(hostId, p, log);
            h.await("READY", ready);
            return h;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @return this JVM's class path plus its module path (surefire puts the project's modules on the module path;
     *         the child runs them all from the class path)
     */
    static String classPath() {
        String cp = System.getProperty("java.class.path", "");
        String mp = System.getProperty("jdk.module.path");
        return mp == null || mp.isEmpty() ? cp : cp + java.io.File.pathSeparator + mp;
    }

    /** @return the host id */
    public String hostId() {
        return hostId;
    }

    /** @return the operating system's process id */
    public long pid() {
        return process.pid();
    }

    /**
     * Creates a task on this host.
     *
     * @param ticks      tick events of its turn
     * @param tickMillis work per tick
     * @param key        an idempotency key, or null
     * @param timeout    how long to wait for the answer
     * @return the task id
     */
    public String create(int ticks, long tickMillis, String key, Duration timeout) {
        send("create " + ticks + " " + tickMillis + (key == null ? "" : " " + key));
        return await("CREATED", timeout).substring("CREATED ".length());
    }

    private void send(String command) {
        try {
            stdin.write(command + "\n");
            stdin.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("host " + hostId + " does not take commands", e);
        }
    }

    /**
     * @param prefix  what the line starts with
     * @param timeout how long to wait
     * @return the next line with that prefix (lines before it are dropped)
     */
    public String await(String prefix, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        try {
            while (true) {
                String line = lines.poll(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null) {
                    throw new AssertionError("host " + hostId + " did not print " + prefix + " within " + timeout
                            + "; its log: " + log.toAbsolutePath());
                }
                if (line.startsWith(prefix)) {
                    return line;
                }
                if (line.startsWith("EOF")) {
                    throw new AssertionError("host " + hostId + " ended before printing " + prefix + "; its log: "
                            + log.toAbsolutePath());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Sends SIGKILL and waits for the process to end. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends SIGSTOP: the JVM freezes, its connections stay open. */
    public void stop() {
        signal("STOP");
    }

    /** Sends SIGCONT. */
    public void resume() {
        signal("CONT");
    }

    private void signal(String name) {
        try {
            Process k = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
            if (!k.waitFor(30, TimeUnit.SECONDS) || k.exitValue() != 0) {
                throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** @return true while the process runs */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** Asks the host to quit, then kills it if it has not ended within 30 s. */
    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                send("quit");
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (RuntimeException e) {
                process.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}
