package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariDataSource;
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

    private static HikariDataSource pool;
    private String schema;

    private static synchronized HikariDataSource pool() {
        if (pool == null) {
            pool = PgFixture.pool(PG.server(), 6);
        }
        return pool;
    }

    @Override
    protected TaskStore newStore() {
        schema = PG.server().uniqueSchemaName("engine");
        return PostgresTaskStore.builder(pool()).schema(schema).build();
    }

    @Override
    protected TaskStore reopenStore() {
        return PostgresTaskStore.builder(pool()).schema(schema).build();
    }

    @AfterEach
    void dropSchema() {
        if (schema != null) {
            PG.server().dropSchema(schema);
        }
    }

    @AfterAll
    static void closePool() {
        if (pool != null) {
            pool.close();
            pool = null;
        }
    }
}
