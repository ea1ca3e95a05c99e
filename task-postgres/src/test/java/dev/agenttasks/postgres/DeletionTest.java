package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;

/** Deletion and retention remove a long log in bounded transactions (one connection use per transaction). */
class DeletionTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static HikariDataSource pool;

    @BeforeAll
    static void openPool() {
        pool = PgFixture.pool(PG.server(), 2);
    }

    @AfterAll
    static void closePool() {
        pool.close();
    }

    @Test
    void deleteRemovesALongLogInBatches() {
        CountingDataSource counting = new CountingDataSource(pool);
        try (PostgresTaskStore store = PostgresTaskStore.builder(counting).schema(PG.server().uniqueSchemaName("del"))
                .deleteBatchSize(10).build()) {
            store.write(List.of(new StoreOp.InsertTask(Data.task("long", TaskStatus.CANCELLED, Data.T0)),
                    new StoreOp.InsertTask(Data.task("other", TaskStatus.RUNNING, null))));
            store.write(Data.events("long", 1, 95));
            store.write(Data.events("other", 1, 3));

            int before = counting.uses.get();
            assertThat(store.delete("long")).isTrue();
            // 10 event batches (the last one short), then the task row
            assertThat(counting.uses.get() - before).isEqualTo(11);
            assertThat(store.task("long")).isEmpty();
            assertThat(store.events("long", 0, 1000)).isEmpty();
            assertThat(store.events("other", 0, 1000)).hasSize(3);
            assertThat(store.delete("long")).isFalse();
        }
    }

    @Test
    void purgeRemovesLongLogsInBatches() {
        CountingDataSource counting = new CountingDataSource(pool);
        try (PostgresTaskStore store = PostgresTaskStore.builder(counting).schema(PG.server().uniqueSchemaName("purge"))
                .deleteBatchSize(20).build()) {
            List<StoreOp> ops = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ops.add(new StoreOp.InsertTask(Data.task("old" + i, TaskStatus.COMPLETED, Data.T0)));
            }
            ops.add(new StoreOp.InsertTask(Data.task("running", TaskStatus.RUNNING, null)));
            store.write(ops);
            for (int i = 0; i < 3; i++) {
                store.write(Data.events("old" + i, 1, 30));
            }
            store.write(Data.events("running", 1, 5));

            int before = counting.uses.get();
            assertThat(store.purgeTerminal(Data.T0.plusSeconds(1), 10)).isEqualTo(3);
            // choose, 90 events in 5 batches of up to 20, then the task rows
            assertThat(counting.uses.get() - before).isEqualTo(7);
            assertThat(store.task("old0")).isEmpty();
            assertThat(store.events("old2", 0, 100)).isEmpty();
            assertThat(store.events("running", 0, 100)).hasSize(5);
        }
    }

    /** Counts the connections taken from a data source (the store uses one per transaction or read). */
    static class CountingDataSource implements DataSource {
        final AtomicInteger uses = new AtomicInteger();
        private final DataSource delegate;

        CountingDataSource(DataSource delegate) {
            this.delegate = delegate;
        }

        @Override
        public Connection getConnection() throws SQLException {
            uses.incrementAndGet();
            return delegate.getConnection();
        }

        @Override
        public Connection getConnection(String user, String password) throws SQLException {
            uses.incrementAndGet();
            return delegate.getConnection(user, password);
        }

        @Override
        public PrintWriter getLogWriter() throws SQLException {
            return delegate.getLogWriter();
        }

        @Override
        public void setLogWriter(PrintWriter out) throws SQLException {
            delegate.setLogWriter(out);
        }

        @Override
        public void setLoginTimeout(int seconds) throws SQLException {
            delegate.setLoginTimeout(seconds);
        }

        @Override
        public int getLoginTimeout() throws SQLException {
            return delegate.getLoginTimeout();
        }

        @Override
        public Logger getParentLogger() {
            return Logger.getGlobal();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            return delegate.unwrap(iface);
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) throws SQLException {
            return delegate.isWrapperFor(iface);
        }
    }
}
