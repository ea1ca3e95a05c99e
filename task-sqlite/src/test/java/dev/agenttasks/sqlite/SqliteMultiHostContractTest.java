package dev.agenttasks.sqlite;

import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.MultiHostContract;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/** Several managers, each with its own SQLite store object on one file (as processes would), pass the multi-writer contract. */
class SqliteMultiHostContractTest extends MultiHostContract {

    @TempDir
    static Path dir;

    private static final AtomicInteger FILES = new AtomicInteger();
    private Path file;

    @Override
    protected TaskStore newHostStore(int host) {
        if (host == 0) {
            file = dir.resolve("hosts-" + FILES.incrementAndGet() + ".db");
        }
        return SqliteTaskStore.builder(file).readConnections(2).build();
    }
}
