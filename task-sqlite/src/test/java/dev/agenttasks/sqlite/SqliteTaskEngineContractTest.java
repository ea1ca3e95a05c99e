package dev.agenttasks.sqlite;

import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.TaskEngineContract;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/** The testkit's end-to-end engine suite over a fresh SQLite file per test in a per-class temp dir. */
class SqliteTaskEngineContractTest extends TaskEngineContract {

    @TempDir
    static Path dir;

    private static final AtomicInteger FILES = new AtomicInteger();
    private Path file;

    @Override
    protected TaskStore newStore() {
        file = dir.resolve("engine-" + FILES.incrementAndGet() + ".db");
        return SqliteTaskStore.builder(file).readConnections(2).build();
    }

    @Override
    protected TaskStore reopenStore() {
        return SqliteTaskStore.builder(file).readConnections(2).build();
    }
}
