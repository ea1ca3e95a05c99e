package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code Fence.noPendingMessages} under READ COMMITTED (issue 9): another host's message batch locks the task's
 * row (its own fence) and inserts the message; the owner's finishing batch, whose fence waits for that lock,
 * must see the message once the other batch commits, though its locking statement's snapshot is older.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FenceMessagesTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private HikariDataSource pool;
    private String schema;

    @AfterEach
    void cleanUp() {
        if (pool != null) {
            pool.close();
        }
        if (schema != null) {
            PG.server().dropSchema(schema);
        }
    }

    @Test
    void aMessageCommittedWhileTheFenceWaitsForTheRowFailsTheFence() throws Exception {
        pool = PgFixture.pool(PG.server(), 4);
        schema = PG.server().uniqueSchemaName("fence");
        TaskStore store = PostgresTaskStore.builder(pool).schema(schema).build();
        TaskRecord running = Data.task("t1", TaskStatus.RUNNING, null).withClaim("h1", 1);
        store.write(List.of(new StoreOp.InsertTask(running)));
        TaskRecord completed = Data.task("t1", TaskStatus.COMPLETED, Data.T0).withClaim(null, 1);
        String q = '"' + schema + '"';
        CompletableFuture<Throwable> finish;
        try (Connection other = pool.getConnection()) {
            other.setAutoCommit(false);
            try (Statement st = other.createStatement()) { // the other host's batch: its fence, then the message
                st.executeQuery("SELECT owner FROM " + q + ".tasks WHERE id = 't1' FOR UPDATE").close();
                st.executeUpdate("INSERT INTO " + q + ".messages (task_id, message_id, message, created_at) "
                        + "VALUES ('t1', 'm1', NULL, 0)");
            }
            finish = CompletableFuture.supplyAsync(() -> {
                try {
                    store.write(List.of(new StoreOp.Fence("t1", "h1", 1, true),
                            new StoreOp.UpdateTask(completed, TaskStatus.RUNNING)));
                    return null;
                } catch (RuntimeException e) {
                    return e;
                }
            });
            await().atMost(Duration.ofSeconds(60)).until(() -> waitingForLock(schema) > 0);
            other.commit();
        }
        assertThat(finish.get(60, TimeUnit.SECONDS)).isInstanceOf(StoreConflictException.class);
        assertThat(store.task("t1").orElseThrow().task().status()).isEqualTo(TaskStatus.RUNNING);
    }

    /** Sessions of this test's schema waiting for a row lock. */
    private int waitingForLock(String schema) throws Exception {
        try (Connection c = pool.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                     + "'Lock' AND query LIKE ?")) {
            ps.setString(1, "%" + schema + "%FOR UPDATE%");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }
}
