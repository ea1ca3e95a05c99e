package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The wake-ups of schema version 3: the triggers notify ids only, at commit; the listener hears them on a
 * dedicated connection, reconnects when that connection is killed, reports the gap, and hears later ones.
 */
class NotifyListenerTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static HikariDataSource pool;

    @BeforeAll
    static void openPool() {
        pool = PgFixture.pool(PG.server(), 4);
    }

    @AfterAll
    static void closePool() {
        pool.close();
    }

    @Test
    void triggersNotifyIdsAtCommitAndTheListenerSurvivesALostConnection() throws Exception {
        String schema = PG.server().uniqueSchemaName("notify");
        List<String> payloads = new CopyOnWriteArrayList<>();
        AtomicInteger gaps = new AtomicInteger();
        try (PostgresTaskStore store = PostgresTaskStore.builder(pool).schema(schema).build();
             NotifyListener listener = new NotifyListener(NotifyListener.channel(schema), pool::getConnection,
                     payloads::addAll, gaps::incrementAndGet)) {
            listener.start();
            Awaitility.await().atMost(WAIT).until(() -> gaps.get() == 1);

            store.write(List.of(new StoreOp.InsertTask(Data.task("t1", TaskStatus.PENDING, null)),
                    new StoreOp.InsertTask(Data.task("t2", TaskStatus.RUNNING, null))));
            store.write(Data.events("t2", 1, 3));
            Awaitility.await().atMost(WAIT).untilAsserted(() -> assertThat(payloads).contains("p:t1", "e:t2"));
            assertThat(payloads).noneMatch(p -> p.contains("t2") && p.startsWith("p:"));

            // the listening backend dies (a failover, an idle-session killer): the listener reconnects
            try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE ? AND pid <> "
                            + "pg_backend_pid()")) {
                ps.setString(1, "LISTEN \"" + NotifyListener.channel(schema) + "\"%");
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).as("the listening backend was found").isTrue();
                }
            }
            Awaitility.await().atMost(WAIT).until(() -> gaps.get() == 2);
            store.write(Data.events("t2", 4, 1));
            Awaitility.await().atMost(WAIT).untilAsserted(() -> assertThat(payloads).filteredOn("e:t2"::equals)
                    .hasSize(2));
        } finally {
            PG.server().dropSchema(schema);
        }
    }

    @Test
    void aLongSchemaNameGetsAChannelWithinTheIdentifierLimit() {
        String longName = "s".repeat(63);
        assertThat(NotifyListener.channel(longName)).hasSizeLessThanOrEqualTo(63).startsWith("agent_tasks:");
        assertThat(NotifyListener.channel("app")).isEqualTo("agent_tasks:app");
    }
}
