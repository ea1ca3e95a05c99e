package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.postgres.PostgresExtension;

/**
 * A store on a fresh schema per test of the shared PostgreSQL, over one pool per test class: what the testkit
 * suites need from {@code newStore()} / {@code reopenStore()}, plus the clean-up after each test and class.
 */
final class SchemaPerTest {
    private final PostgresExtension pg;
    private final String prefix;
    private final int poolSize;
    private HikariDataSource pool;
    private String schema;

    SchemaPerTest(PostgresExtension pg, String prefix) {
        this(pg, prefix, 6);
    }

    SchemaPerTest(PostgresExtension pg, String prefix, int poolSize) {
        this.pg = pg;
        this.prefix = prefix;
        this.poolSize = poolSize;
    }

    private synchronized HikariDataSource pool() {
        if (pool == null) {
            pool = PgFixture.pool(pg.server(), poolSize);
        }
        return pool;
    }

    /** @return a store on a new, empty schema */
    TaskStore newStore() {
        schema = pg.server().uniqueSchemaName(prefix);
        return reopenStore();
    }

    /** @return another store on the schema of the last {@link #newStore()} */
    TaskStore reopenStore() {
        return PostgresTaskStore.builder(pool()).schema(schema).build();
    }

    /** Drops the test's schema, if it made one. */
    void dropSchema() {
        if (schema != null) {
            pg.server().dropSchema(schema);
            schema = null;
        }
    }

    /** Closes the pool. */
    synchronized void close() {
        if (pool != null) {
            pool.close();
            pool = null;
        }
    }
}
