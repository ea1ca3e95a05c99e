package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.testkit.postgres.PostgresServer;

/** Test helpers: a small Hikari pool on the shared server. */
final class PgFixture {

    private PgFixture() {
    }

    static HikariDataSource pool(PostgresServer server, int size) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(server.jdbcUrl());
        config.setUsername(server.user());
        config.setPassword(server.password());
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(10_000);
        config.setPoolName("test-" + size);
        return new HikariDataSource(config);
    }
}
