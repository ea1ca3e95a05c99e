package dev.agenttasks.postgres;

import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.TaskEngineContract;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The testkit's end-to-end engine suite on a fresh schema per test of the shared PostgreSQL. */
class PostgresTaskEngineContractTest extends TaskEngineContract {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final SchemaPerTest STORES = new SchemaPerTest(PG, "engine");

    @Override
    protected TaskStore newStore() {
        return STORES.newStore();
    }

    @Override
    protected TaskStore reopenStore() {
        return STORES.reopenStore();
    }

    @AfterEach
    void dropSchema() {
        STORES.dropSchema();
    }

    @AfterAll
    static void closePool() {
        STORES.close();
    }
}
