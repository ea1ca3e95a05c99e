package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.Task;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.DuplicateKeyException;
import dev.agenttasks.spi.IdempotencyKey;
import dev.agenttasks.spi.RemoteRequest;
import dev.agenttasks.spi.StoreChangeListener;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the PostgreSQL store adds to the multi-host contract: concurrent claims through {@code SKIP LOCKED} never
 * hand out a task twice; a takeover waits for a batch that holds the task's row through a fence and then fences
 * that host out; concurrent idempotency keys give one winner; notifications reach change listeners.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PostgresClaimsTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static HikariDataSource pool;
    private String schema;
    private PostgresTaskStore store;

    @BeforeAll
    static void openPool() {
        pool = PgFixture.pool(PG.server(), 10);
    }

    @AfterAll
    static void closePool() {
        pool.close();
    }

    @BeforeEach
    void open() {
        schema = PG.server().uniqueSchemaName("claims");
        store = PostgresTaskStore.builder(pool).schema(schema).build();
    }

    @AfterEach
    void drop() {
        store.close();
        PG.server().dropSchema(schema);
    }

    private static TaskRecord queued(String id, int minute) {
        Task t = new Task(id, "agent-a", null, TaskStatus.PENDING, "Task " + id, null, Data.T0.plusSeconds(60L * minute),
                null, null, null, null, Map.of());
        return new TaskRecord(t, Map.of(), 0, null, null, 0);
    }

    @Test
    void concurrentClaimsNeverHandOutATaskTwiceAndTakeTheOldestFirst() throws Exception {
        int n = 200;
        List<StoreOp> inserts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            inserts.add(new StoreOp.InsertTask(queued(String.format("t%03d", i), i)));
        }
        store.write(inserts);
        ExecutorService hosts = Executors.newFixedThreadPool(4);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<List<TaskRecord>>> claimed = new ArrayList<>();
            for (int h = 0; h < 4; h++) {
                String host = "h" + h;
                claimed.add(hosts.submit(() -> {
                    start.await();
                    List<TaskRecord> mine = new ArrayList<>();
                    List<TaskRecord> got;
                    while (!(got = store.claim(host, 7)).isEmpty()) {
                        assertThat(got).hasSizeLessThanOrEqualTo(7).allMatch(r -> host.equals(r.owner())
                                && r.epoch() == 1 && r.task().status() == TaskStatus.PENDING);
                        assertThat(got).extracting(TaskRecord::id).isSorted();
                        mine.addAll(got);
                    }
                    return mine;
                }));
            }
            start.countDown();
            Set<String> all = new HashSet<>();
            int total = 0;
            for (Future<List<TaskRecord>> f : claimed) {
                List<TaskRecord> mine = f.get(60, TimeUnit.SECONDS);
                total += mine.size();
                mine.forEach(r -> all.add(r.id()));
            }
            assertThat(total).as("no task claimed twice").isEqualTo(n);
            assertThat(all).hasSize(n);
        } finally {
            hosts.shutdownNow();
        }
        assertThat(store.claim("late", 5)).isEmpty();
    }

    @Test
    void aTakeoverWaitsForAFencedBatchAndThenFencesTheFormerOwnerOut() throws Exception {
        store.write(List.of(new StoreOp.InsertTask(queued("t1", 0))));
        TaskRecord mine = store.claim("a", 1).get(0);
        // host a's batch holds the row (as a fenced batch does between its fence and its commit)
        try (Connection held = pool.getConnection()) {
            held.setAutoCommit(false);
            try (PreparedStatement ps = held.prepareStatement("SELECT id FROM \"" + schema
                    + "\".tasks WHERE id = 't1' FOR UPDATE")) {
                ps.executeQuery().close();
            }
            CompletableFuture<Optional<TaskRecord>> takeover = CompletableFuture.supplyAsync(
                    () -> store.takeOver("t1", "a", mine.epoch(), "b"));
            Awaitility.await().atMost(WAIT).until(() -> waitingOnALock() >= 1);
            assertThat(takeover).isNotDone();
            held.commit();
            Optional<TaskRecord> taken = takeover.get(30, TimeUnit.SECONDS);
            assertThat(taken).hasValueSatisfying(r -> {
                assertThat(r.owner()).isEqualTo("b");
                assertThat(r.epoch()).isEqualTo(mine.epoch() + 1);
            });
        }
        // a's next batch is refused whole, b's goes through
        assertThatThrownBy(() -> store.write(List.of(new StoreOp.Fence("t1", "a", mine.epoch()),
                new StoreOp.AppendEvent(Data.event("t1", 1))))).isInstanceOf(StoreConflictException.class);
        assertThat(store.events("t1", 0, 10)).isEmpty();
        store.write(List.of(new StoreOp.Fence("t1", "b", mine.epoch() + 1), new StoreOp.AppendEvent(Data.event("t1", 1))));
        assertThat(store.events("t1", 0, 10)).hasSize(1);
        // a stale compare-and-set changes nothing
        assertThat(store.takeOver("t1", "a", mine.epoch(), "c")).isEmpty();
        assertThat(store.task("t1").orElseThrow().owner()).isEqualTo("b");
    }

    @Test
    void aReleaseLeavesATaskThatStartedRunningToItsOwner() {
        store.write(List.of(new StoreOp.InsertTask(queued("t1", 0))));
        TaskRecord claimed = store.claim("a", 1).get(0);
        // another host read it as a queued orphan, then its owner started it
        Task running = new Task("t1", "agent-a", null, TaskStatus.RUNNING, "Task t1", null, claimed.task().createdAt(),
                Data.T0, null, null, null, Map.of());
        store.write(List.of(new StoreOp.Fence("t1", "a", claimed.epoch()), new StoreOp.UpdateTask(
                claimed.withTask(running), TaskStatus.PENDING)));
        assertThat(store.takeOver("t1", "a", claimed.epoch(), null)).isEmpty();
        TaskRecord now = store.task("t1").orElseThrow();
        assertThat(now.owner()).isEqualTo("a");
        assertThat(now.epoch()).isEqualTo(claimed.epoch());
        assertThat(store.takeOver("t1", "a", claimed.epoch(), "b")).isPresent();
    }

    private int waitingOnALock() throws Exception {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                     + "AND query LIKE 'UPDATE \"" + schema + "\".tasks%'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aFenceWithPendingMessagesFailsOnlyWhenAsked() {
        store.write(List.of(new StoreOp.InsertTask(queued("t1", 0))));
        TaskRecord r = store.claim("a", 1).get(0);
        store.write(List.of(new StoreOp.AddMessage(new dev.agenttasks.spi.PendingMessage("t1", "m1",
                dev.agenttasks.TaskMessage.text("hi"), Data.T0))));
        store.write(List.of(new StoreOp.Fence("t1", "a", r.epoch())));
        assertThatThrownBy(() -> store.write(List.of(new StoreOp.Fence("t1", "a", r.epoch(), true))))
                .isInstanceOf(StoreConflictException.class).hasMessageContaining("pending message");
        assertThatThrownBy(() -> store.write(List.of(new StoreOp.Fence("gone", null, 0))))
                .isInstanceOf(StoreConflictException.class);
    }

    @Test
    void concurrentKeysFromTwoHostsHaveOneWinner() throws Exception {
        store.write(List.of(new StoreOp.InsertTask(queued("t1", 0)), new StoreOp.InsertTask(queued("t2", 1))));
        try (PostgresTaskStore other = PostgresTaskStore.builder(pool).schema(schema).build()) {
            ExecutorService two = Executors.newFixedThreadPool(2);
            CountDownLatch start = new CountDownLatch(1);
            try {
                List<Future<String>> results = new ArrayList<>();
                for (PostgresTaskStore s : List.of(store, other)) {
                    String task = s == store ? "t1" : "t2";
                    results.add(two.submit(() -> {
                        start.await();
                        try {
                            s.write(List.of(new StoreOp.PutKey(new IdempotencyKey("create:k", task, "f-" + task, null,
                                    Instant.now())), new StoreOp.AppendEvent(Data.event(task, 1))));
                            return "won";
                        } catch (DuplicateKeyException e) {
                            assertThat(e.key()).isEqualTo("create:k");
                            return "lost";
                        }
                    }));
                }
                start.countDown();
                List<String> outcomes = new ArrayList<>();
                for (Future<String> f : results) {
                    outcomes.add(f.get(30, TimeUnit.SECONDS));
                }
                Collections.sort(outcomes);
                assertThat(outcomes).containsExactly("lost", "won");
            } finally {
                two.shutdownNow();
            }
        }
        IdempotencyKey key = store.idempotencyKey("create:k").orElseThrow();
        String loser = key.taskId().equals("t1") ? "t2" : "t1";
        assertThat(store.events(key.taskId(), 0, 10)).hasSize(1);
        assertThat(store.events(loser, 0, 10)).as("nothing of the losing batch").isEmpty();
        assertThat(store.delete(key.taskId())).isTrue();
        assertThat(store.idempotencyKey("create:k")).as("deleted with its task").isEmpty();
    }

    @Test
    void changeListenersHearOfEventsQueuedTasksAndRequests() {
        List<String> heard = new CopyOnWriteArrayList<>();
        StoreChangeListener l = new StoreChangeListener() {
            @Override
            public void eventsAppended(String taskId) {
                heard.add("e " + taskId);
            }

            @Override
            public void taskQueued(String taskId) {
                heard.add("p " + taskId);
            }

            @Override
            public void requestAdded(String taskId) {
                heard.add("r " + taskId);
            }
        };
        try (PostgresTaskStore writer = PostgresTaskStore.builder(pool).schema(schema).build()) {
            assertThat(store.addChangeListener(l)).isTrue();
            Awaitility.await().atMost(WAIT).until(store::isListening);
            writer.write(List.of(new StoreOp.InsertTask(queued("t1", 0))));
            writer.write(List.of(Data.events("t1", 1, 2).get(0)));
            writer.write(List.of(new StoreOp.AddRequest(new RemoteRequest("q1", "t1", RemoteRequest.Kind.CANCEL,
                    Instant.now()))));
            Awaitility.await().atMost(WAIT).untilAsserted(() -> assertThat(heard).contains("p t1", "e t1", "r t1"));
            store.removeChangeListener(l);
            Awaitility.await().atMost(WAIT).until(() -> !store.isListening());
        }
        PostgresTaskStore off = PostgresTaskStore.builder(pool).schema(schema).notifications(false).build();
        assertThat(off.addChangeListener(l)).isFalse();
        off.close();
    }
}
