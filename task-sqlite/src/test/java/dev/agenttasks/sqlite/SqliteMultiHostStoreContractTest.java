package dev.agenttasks.sqlite;

import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.MultiHostStoreContract;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/** The store side of the multi-host protocol, with two store objects (as two processes would) on one file. */
class SqliteMultiHostStoreContractTest extends MultiHostStoreContract {

    @TempDir
    static Path dir;

    private static final AtomicInteger FILES = new AtomicInteger();
    private Path file;

    @Override
    protected TaskStore newStore() {
        file = dir.resolve("hosts-" + FILES.incrementAndGet() + ".db");
        return SqliteTaskStore.builder(file).readConnections(2).build();
    }

    @Override
    protected TaskStore secondConnection() {
        return SqliteTaskStore.builder(file).readConnections(2).build();
    }
}
