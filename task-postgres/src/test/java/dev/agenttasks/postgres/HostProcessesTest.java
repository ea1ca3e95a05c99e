package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.postgres.hosts.HostProcess;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hosts as child JVMs on one PostgreSQL schema: one is SIGKILLed mid-turn and another recovers its tasks; one is
 * SIGSTOPped past its lease, another takes its task over, and after SIGCONT the stopped one writes nothing for the
 * task it lost and serves again. The parent only reads the database.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class HostProcessesTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final Logger LOG = LoggerFactory.getLogger(HostProcessesTest.class);
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final long HEARTBEAT_MILLIS = 250;
    private static final long DEAD_AFTER_MILLIS = 1_500;

    private static HikariDataSource pool;
    private final List<HostProcess> hosts = new ArrayList<>();
    private String schema;
    private PostgresTaskStore store;

    @BeforeAll
    static void openPool() {
        pool = PgFixture.pool(PG.server(), 3);
    }

    @AfterAll
    static void closePool() {
        pool.close();
    }

    @AfterEach
    void stopHosts() {
        for (HostProcess h : hosts) {
            if (h.isAlive()) {
                h.resume();
                h.close();
            }
        }
        if (store != null) {
            store.close();
        }
        if (schema != null) {
            PG.server().dropSchema(schema);
        }
    }

    private HostProcess start(String id, int slots) {
        if (schema == null) {
            schema = PG.server().uniqueSchemaName("procs");
        }
        HostProcess h = HostProcess.start(PG.server(), schema, id, slots, HEARTBEAT_MILLIS, DEAD_AFTER_MILLIS,
                "resume", WAIT);
        hosts.add(h);
        if (store == null) {
            store = PostgresTaskStore.builder(pool).schema(schema).build();
        }
        return h;
    }

    private TaskStatus status(String id) {
        return store.task(id).map(r -> r.task().status()).orElse(null);
    }

    private List<TaskEvent> log(String id) {
        return store.events(id, 0, 100_000);
    }

    private static List<TaskEvent> byHost(List<TaskEvent> log, String host) {
        return log.stream().filter(e -> host.equals(e.data().get("host"))).toList();
    }

    private static void assertOneHostAtATime(List<TaskEvent> log, String first, String second) {
        long lastOfFirst = byHost(log, first).stream().mapToLong(TaskEvent::seq).max().orElse(0);
        long firstOfSecond = byHost(log, second).stream().mapToLong(TaskEvent::seq).min().orElse(Long.MAX_VALUE);
        assertThat(lastOfFirst).as("every event of %s precedes every event of %s", first, second)
                .isLessThan(firstOfSecond);
    }

    @Test
    void aKilledHostsTasksAreRecoveredByAnotherHost() {
        HostProcess h1 = start("h1", 4);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(h1.create(400, 20, null, WAIT));
        }
        Awaitility.await().atMost(WAIT).until(() -> ids.stream().allMatch(id -> status(id) == TaskStatus.RUNNING
                && byHost(log(id), "h1").stream().anyMatch(e -> e.type().equals("tick"))));
        HostProcess h2 = start("h2", 4);

        long killedAt = System.nanoTime();
        h1.kill();
        Awaitility.await().atMost(WAIT).until(() -> ids.stream().allMatch(id -> !byHost(log(id), "h2").isEmpty()));
        LOG.info("h2 resumed the killed host's tasks {} ms after SIGKILL (heartbeat {} ms, dead after {} ms)",
                (System.nanoTime() - killedAt) / 1_000_000, HEARTBEAT_MILLIS, DEAD_AFTER_MILLIS);
        Awaitility.await().atMost(WAIT).until(() -> ids.stream().allMatch(id -> status(id) == TaskStatus.COMPLETED));
        for (String id : ids) {
            List<TaskEvent> log = log(id);
            EventLogs.assertCompleteLog(log, TaskStatus.COMPLETED);
            assertOneHostAtATime(log, "h1", "h2");
            List<TaskEvent> h2Turn = byHost(log, "h2");
            assertThat(h2Turn.get(0).data()).containsEntry("phase", "start").containsEntry("resumed", true);
            assertThat(h2Turn).filteredOn(e -> e.type().equals("tick")).hasSize(400);
            assertThat(h2Turn.get(h2Turn.size() - 1).data()).containsEntry("phase", "end");
        }
        assertThat(h2.isAlive()).isTrue();
    }

    @Test
    void aStoppedHostLosesItsTaskWritesNothingForItAndRejoins() throws Exception {
        HostProcess h1 = start("h1", 2);
        String id = h1.create(600, 10, null, WAIT);
        Awaitility.await().atMost(WAIT).until(() -> byHost(log(id), "h1").stream()
                .filter(e -> e.type().equals("tick")).count() >= 5);
        HostProcess h2 = start("h2", 2);

        h1.stop();
        Awaitility.await().atMost(WAIT).until(() -> !byHost(log(id), "h2").isEmpty());
        // h2 runs the task now; whatever h1 had in flight when it froze is committed or was ended by the server
        // (idle_in_transaction_session_timeout) before h2 could take the row over
        int h1EventsAtTakeover = byHost(log(id), "h1").size();
        long resumedAt = System.currentTimeMillis();
        h1.resume();

        Awaitility.await().atMost(WAIT).until(() -> status(id) == TaskStatus.COMPLETED);
        List<TaskEvent> log = log(id);
        EventLogs.assertCompleteLog(log, TaskStatus.COMPLETED);
        assertOneHostAtATime(log, "h1", "h2");
        assertThat(byHost(log, "h1")).as("nothing of h1 after it lost the task").hasSize(h1EventsAtTakeover);

        // h1 rejoins: it heartbeats again, and runs new work once it is the only host
        Awaitility.await().atMost(WAIT).until(() -> heartbeatMillis("h1") > resumedAt);
        h2.close();
        String next = h1.create(3, 1, null, WAIT);
        Awaitility.await().atMost(WAIT).until(() -> status(next) == TaskStatus.COMPLETED);
        assertThat(byHost(log(next), "h1")).isNotEmpty();
        TaskRecord taken = store.task(id).orElseThrow();
        assertThat(taken.task().status()).isEqualTo(TaskStatus.COMPLETED);
    }

    /** @return the host's last heartbeat in epoch millis, 0 if it has none */
    private long heartbeatMillis(String host) throws Exception {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT heartbeat_at FROM \"" + schema + "\".hosts WHERE id = ?")) {
            ps.setString(1, host);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) / 1_000_000L : 0;
            }
        }
    }
}
