package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TransientStoreException;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A connection that breaks at the commit: the store learns from the server whether the commit happened, so a batch
 * is neither lost nor applied twice.
 */
class CommitFailureTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static HikariDataSource pool;

    @BeforeAll
    static void openPool() {
        pool = PgFixture.pool(PG.server(), 3);
    }

    @AfterAll
    static void closePool() {
        pool.close();
    }

    /** How the next commits behave. */
    enum Fault { NONE, BREAK_AFTER_COMMIT, BREAK_INSTEAD_OF_COMMIT }

    /** Connections of the pool whose commit fails as configured, once per queued fault. */
    static final class FaultyDataSource extends DeletionTest.CountingDataSource {
        final java.util.Deque<Fault> faults = new java.util.concurrent.ConcurrentLinkedDeque<>();
        final AtomicInteger commits = new AtomicInteger();

        FaultyDataSource() {
            super(pool);
        }

        @Override
        public Connection getConnection() throws SQLException {
            Connection real = super.getConnection();
            return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[]{Connection.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("commit")) {
                            commits.incrementAndGet();
                            Fault f = faults.poll();
                            if (f == Fault.BREAK_AFTER_COMMIT) {
                                real.commit();
                                real.unwrap(org.postgresql.PGConnection.class);
                                throw new SQLException("An I/O error occurred while sending to the backend.", "08006");
                            }
                            if (f == Fault.BREAK_INSTEAD_OF_COMMIT) {
                                // the server sees the client vanish: it aborts the open transaction
                                abortBackend(real);
                                throw new SQLException("An I/O error occurred while sending to the backend.", "08006");
                            }
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
        }

        private static void abortBackend(Connection real) throws SQLException {
            int pid = real.unwrap(org.postgresql.PGConnection.class).getBackendPID();
            try (Connection other = pool.getConnection();
                 java.sql.PreparedStatement ps = other.prepareStatement("SELECT pg_terminate_backend(?)")) {
                ps.setInt(1, pid);
                ps.executeQuery().close();
            }
        }
    }

    private static List<Long> seqs(PostgresTaskStore store) {
        return store.events("t1", 0, 100).stream().map(TaskEvent::seq).toList();
    }

    @Test
    void aBatchCommittedBeforeTheConnectionBrokeIsReportedWritten() {
        FaultyDataSource ds = new FaultyDataSource();
        try (PostgresTaskStore store = PostgresTaskStore.builder(ds).schema(PG.server().uniqueSchemaName("commit"))
                .build()) {
            store.write(List.of(new StoreOp.InsertTask(Data.task("t1", TaskStatus.RUNNING, null))));
            ds.faults.add(Fault.BREAK_AFTER_COMMIT);
            int commits = ds.commits.get();
            store.write(Data.events("t1", 1, 3));
            assertThat(ds.commits.get() - commits).as("not retried: the first commit happened").isEqualTo(1);
            assertThat(seqs(store)).containsExactly(1L, 2L, 3L);
        }
    }

    @Test
    void aBatchWhoseCommitNeverHappenedIsRetriedOnAFreshConnection() {
        FaultyDataSource ds = new FaultyDataSource();
        try (PostgresTaskStore store = PostgresTaskStore.builder(ds).schema(PG.server().uniqueSchemaName("commit"))
                .build()) {
            store.write(List.of(new StoreOp.InsertTask(Data.task("t1", TaskStatus.RUNNING, null))));
            ds.faults.add(Fault.BREAK_INSTEAD_OF_COMMIT);
            int commits = ds.commits.get();
            store.write(Data.events("t1", 1, 3));
            assertThat(ds.commits.get() - commits).as("retried once").isEqualTo(2);
            assertThat(seqs(store)).containsExactly(1L, 2L, 3L);
        }
    }

    @Test
    void whenEveryAttemptFailsTheStoreThrowsTransientAndAppliedNothing() {
        FaultyDataSource ds = new FaultyDataSource();
        try (PostgresTaskStore store = PostgresTaskStore.builder(ds).schema(PG.server().uniqueSchemaName("commit"))
                .attempts(2).build()) {
            store.write(List.of(new StoreOp.InsertTask(Data.task("t1", TaskStatus.RUNNING, null))));
            ds.faults.add(Fault.BREAK_INSTEAD_OF_COMMIT);
            ds.faults.add(Fault.BREAK_INSTEAD_OF_COMMIT);
            assertThatThrownBy(() -> store.write(Data.events("t1", 1, 3))).isInstanceOf(TransientStoreException.class);
            assertThat(seqs(store)).isEmpty();
            // the engine's retry of the same batch then succeeds
            store.write(Data.events("t1", 1, 3));
            assertThat(seqs(store)).containsExactly(1L, 2L, 3L);
        }
    }
}
