package dev.agenttasks.postgres;

import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.MultiHostContract;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The testkit's multi-writer contract on PostgreSQL: several managers, each with its own store object (and its own
 * listening connection) on one schema of the shared server.
 */
class PostgresMultiHostContractTest extends MultiHostContract {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final SchemaPerTest STORES = new SchemaPerTest(PG, "multiwriter", 16);

    @Override
    protected TaskStore newHostStore(int host) {
        if (host == 0) {
            // the previous test's hosts are closed by now (the contract closes them after each test)
            STORES.dropSchema();
            return STORES.newStore();
        }
        return STORES.reopenStore();
    }

    @AfterAll
    static void dropLastSchemaAndClosePool() {
        STORES.dropSchema();
        STORES.close();
    }
}
