package dev.agenttasks.postgres;

import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.MultiHostStoreContract;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The testkit's store side of the multi-host protocol, with a second store object on the same schema. */
class PostgresMultiHostStoreContractTest extends MultiHostStoreContract {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final SchemaPerTest STORES = new SchemaPerTest(PG, "multi");

    @Override
    protected TaskStore newStore() {
        return STORES.newStore();
    }

    @Override
    protected TaskStore secondConnection() {
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
