package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.postgres.hosts.Hosts;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Several managers (hosts) on one PostgreSQL schema in one JVM: claims honour each host's limit, every turn runs
 * exactly once, cancel, message and delete work from any host, and subscribers on every host see the same gapless
 * log.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PostgresHostsTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final Duration WAIT = Duration.ofSeconds(60);
    static final long HEARTBEAT_MILLIS = 200;
    static final long DEAD_AFTER_MILLIS = 2_000;

    private static HikariDataSource pool;
    private String schema;
    private final List<TaskManager> managers = new ArrayList<>();

    @BeforeAll
    static void openPool() {
        pool = PgFixture.pool(PG.server(), 12);
    }

    @AfterAll
    static void closePool() {
        pool.close();
    }

    @AfterEach
    void closeManagers() {
        for (TaskManager m : managers) {
            m.close();
        }
        if (schema != null) {
            PG.server().dropSchema(schema);
        }
    }

    private TaskManager host(String id, int slots, AgentRunner runner) {
        if (schema == null) {
            schema = PG.server().uniqueSchemaName("hosts");
        }
        TaskManager m = Hosts.configure(TaskManager.builder(), id, HEARTBEAT_MILLIS, DEAD_AFTER_MILLIS)
                .store(PostgresTaskStore.builder(pool).schema(schema).build()).runner(runner)
                .maxConcurrentTasks(slots).build();
        managers.add(m);
        return m;
    }

    /** A runner that counts its concurrent turns and every task's turns, across the hosts of a test. */
    static final class Counting implements AgentRunner {
        final String host;
        final int limit;
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger maxRunning = new AtomicInteger();
        final Map<String, AtomicInteger> turns;
        final Map<String, String> ranOn;

        Counting(String host, int limit, Map<String, AtomicInteger> turns, Map<String, String> ranOn) {
            this.host = host;
            this.limit = limit;
            this.turns = turns;
            this.ranOn = ranOn;
        }

        @Override
        public Optional<AgentDescriptor> describe(String agentId) {
            return Optional.of(new AgentDescriptor(agentId, agentId, null));
        }

        @Override
        public TurnResult runTurn(Turn turn, TurnContext context) {
            int now = running.incrementAndGet();
            maxRunning.accumulateAndGet(now, Math::max);
            try {
                turns.computeIfAbsent(turn.taskId() + "#" + turn.number(), k -> new AtomicInteger()).incrementAndGet();
                ranOn.put(turn.taskId(), host);
                for (int i = 0; i < 3; i++) {
                    context.emit("step", Map.of("host", host, "i", i));
                }
                // simulated work, so that turns overlap and slots fill up
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
                return TurnResult.completed();
            } finally {
                running.decrementAndGet();
            }
        }
    }

    @Test
    void claimsHonourEachHostsLimitAndEveryTurnRunsOnce() throws Exception {
        Map<String, AtomicInteger> turns = new ConcurrentHashMap<>();
        Map<String, String> ranOn = new ConcurrentHashMap<>();
        List<Counting> runners = List.of(new Counting("a", 1, turns, ranOn), new Counting("b", 2, turns, ranOn),
                new Counting("c", 3, turns, ranOn));
        List<TaskManager> hosts = new ArrayList<>();
        for (Counting r : runners) {
            hosts.add(host(r.host, r.limit, r));
        }
        int perHost = 40;
        List<String> ids = new ArrayList<>();
        ExecutorService creators = Executors.newFixedThreadPool(3);
        try {
            List<Future<List<String>>> created = new ArrayList<>();
            for (TaskManager m : hosts) {
                created.add(creators.submit(() -> {
                    List<String> out = new ArrayList<>();
                    for (int i = 0; i < perHost; i++) {
                        out.add(m.create(TaskRequest.of("worker", "task " + i)).id());
                    }
                    return out;
                }));
            }
            for (Future<List<String>> f : created) {
                ids.addAll(f.get(60, TimeUnit.SECONDS));
            }
        } finally {
            creators.shutdownNow();
        }
        TaskManager any = hosts.get(0);
        Awaitility.await().atMost(WAIT).until(() -> ids.stream().allMatch(id -> any.get(id).map(Task::status)
                .orElse(null) == TaskStatus.COMPLETED));
        for (Counting r : runners) {
            assertThat(r.maxRunning.get()).as("most concurrent turns on host %s", r.host).isBetween(1, r.limit);
        }
        assertThat(turns).hasSize(ids.size());
        assertThat(turns.values()).allMatch(n -> n.get() == 1);
        for (String id : ids) {
            EventLogs.assertCompleteLog(events(hosts.get(1), id), TaskStatus.COMPLETED);
        }
    }

    @Test
    void cancelMessageAndDeleteWorkFromAnotherHost() {
        ScriptedHosts s = new ScriptedHosts();
        // cancel: the turn blocks until cancelled, on whichever host claimed it
        Task blocked = s.a.create(TaskRequest.of("block", "block"));
        String owner = s.awaitRunningOn(blocked.id());
        TaskManager other = s.other(owner);
        other.cancel(blocked.id());
        Awaitility.await().atMost(WAIT).until(() -> s.a.get(blocked.id()).map(Task::status).orElse(null)
                == TaskStatus.CANCELLED);
        Awaitility.await().atMost(WAIT).until(() -> s.finished.containsKey(blocked.id()));

        // message: a waiting task takes a follow-up sent through the other host
        Task asking = s.a.create(TaskRequest.of("ask", "ask"));
        Awaitility.await().atMost(WAIT).until(() -> s.b.get(asking.id()).map(Task::status).orElse(null)
                == TaskStatus.WAITING_FOR_INPUT);
        String asker = s.ranOn.get(asking.id());
        s.other(asker).sendMessage(asking.id(), TaskMessage.text("yes"));
        Awaitility.await().atMost(WAIT).until(() -> s.a.get(asking.id()).map(Task::status).orElse(null)
                == TaskStatus.COMPLETED);
        List<TaskEvent> log = events(s.b, asking.id());
        EventLogs.assertCompleteLog(log, TaskStatus.COMPLETED);
        assertThat(log).filteredOn(e -> e.type().equals("answer")).extracting(e -> e.data().get("text"))
                .containsExactly("yes");

        // delete: a running task deleted through the other host is gone everywhere and its turn stopped
        Task doomed = s.b.create(TaskRequest.of("block", "doomed"));
        String doomedOwner = s.awaitRunningOn(doomed.id());
        assertThat(s.other(doomedOwner).delete(doomed.id())).isTrue();
        Awaitility.await().atMost(WAIT).until(() -> s.finished.containsKey(doomed.id()));
        Awaitility.await().atMost(WAIT).until(() -> s.a.get(doomed.id()).isEmpty() && s.b.get(doomed.id()).isEmpty());
        assertThat(s.a.list(TaskQuery.all()).tasks()).extracting(Task::id).doesNotContain(doomed.id());
    }

    /** Two hosts with a runner of three agents: {@code block} (until cancelled), {@code ask}, and completing. */
    private final class ScriptedHosts {
        final Map<String, String> ranOn = new ConcurrentHashMap<>();
        final Map<String, Boolean> finished = new ConcurrentHashMap<>();
        final TaskManager a = host("a", 2, runner("a"));
        final TaskManager b = host("b", 2, runner("b"));

        AgentRunner runner(String host) {
            return new AgentRunner() {
                @Override
                public Optional<AgentDescriptor> describe(String agentId) {
                    return Optional.of(new AgentDescriptor(agentId, agentId, null));
                }

                @Override
                public TurnResult runTurn(Turn turn, TurnContext context) throws Exception {
                    ranOn.put(turn.taskId(), host);
                    try {
                        context.emit("turn", Map.of("host", host, "number", turn.number()));
                        switch (turn.agentId()) {
                            case "block":
                                // blocks until the engine cancels the turn: the interrupt ends the wait (a
                                // latch nobody counts down), the flag is checked in case it came first
                                java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
                                while (!context.isCancelled()) {
                                    never.await(1, java.util.concurrent.TimeUnit.SECONDS);
                                }
                                return TurnResult.completed();
                            case "ask":
                                if (turn.number() == 1) {
                                    return TurnResult.awaitingInput(Map.of("question", "go on?"));
                                }
                                context.emit("answer", Map.of("text", turn.message().firstText()));
                                return TurnResult.completed();
                            default:
                                return TurnResult.completed();
                        }
                    } finally {
                        finished.put(turn.taskId(), true);
                    }
                }
            };
        }

        String awaitRunningOn(String taskId) {
            Awaitility.await().atMost(WAIT).until(() -> ranOn.containsKey(taskId)
                    && a.get(taskId).map(Task::status).orElse(null) == TaskStatus.RUNNING);
            return ranOn.get(taskId);
        }

        TaskManager other(String host) {
            return host.equals("a") ? b : a;
        }
    }

    @Test
    void subscribersOnEveryHostSeeTheSameGaplessLog() {
        CountDownLatch go = new CountDownLatch(1);
        int n = 300;
        AgentRunner emitting = new AgentRunner() {
            @Override
            public Optional<AgentDescriptor> describe(String agentId) {
                return Optional.of(new AgentDescriptor(agentId, agentId, null));
            }

            @Override
            public TurnResult runTurn(Turn turn, TurnContext context) throws Exception {
                go.await();
                for (int i = 0; i < n; i++) {
                    context.emit("text", Map.of("i", i));
                }
                return TurnResult.completed();
            }
        };
        TaskManager a = host("a", 2, emitting);
        TaskManager b = host("b", 2, emitting);
        TaskManager c = host("c", 2, emitting);
        Task task = a.create(TaskRequest.of("emit", "emit"));
        List<RecordingSubscriber<TaskEvent>> subs = new ArrayList<>();
        for (TaskManager m : List.of(a, b, c)) {
            RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
            m.events(task.id()).subscribe(sub);
            subs.add(sub);
        }
        go.countDown();
        List<List<TaskEvent>> logs = new ArrayList<>();
        for (RecordingSubscriber<TaskEvent> sub : subs) {
            logs.add(sub.awaitCompletion(WAIT));
            sub.assertNoViolations();
        }
        EventLogs.assertCompleteLog(logs.get(0), TaskStatus.COMPLETED);
        assertThat(logs.get(0)).filteredOn(e -> e.type().equals("text")).hasSize(n);
        assertThat(logs.get(1)).isEqualTo(logs.get(0));
        assertThat(logs.get(2)).isEqualTo(logs.get(0));
        // a late subscriber on another host replays the same log from the store
        RecordingSubscriber<TaskEvent> late = RecordingSubscriber.unbounded();
        c.events(task.id(), 10).subscribe(late);
        assertThat(late.awaitCompletion(WAIT)).isEqualTo(logs.get(0).subList(10, logs.get(0).size()));
    }

    @Test
    void concurrentCreatesWithOneKeyOnTwoHostsGiveOneTask() throws Exception {
        Map<String, AtomicInteger> turns = new ConcurrentHashMap<>();
        Map<String, String> ranOn = new ConcurrentHashMap<>();
        TaskManager a = host("a", 2, new Counting("a", 2, turns, ranOn));
        TaskManager b = host("b", 2, new Counting("b", 2, turns, ranOn));
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 5; round++) {
                String key = "order-" + round;
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Task>> created = new ArrayList<>();
                for (TaskManager m : List.of(a, b, a, b)) {
                    created.add(clients.submit(() -> {
                        start.await();
                        return m.create(TaskRequest.builder("worker").text("same").idempotencyKey(key).build());
                    }));
                }
                start.countDown();
                List<String> ids = new ArrayList<>();
                for (Future<Task> f : created) {
                    ids.add(f.get(60, TimeUnit.SECONDS).id());
                }
                assertThat(ids).as("round %d", round).containsOnly(ids.get(0));
            }
        } finally {
            clients.shutdownNow();
        }
        assertThat(a.list(TaskQuery.all()).tasks()).hasSize(5);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> b.create(TaskRequest.builder("worker")
                        .text("another request").idempotencyKey("order-0").build()))
                .isInstanceOf(dev.agenttasks.IdempotencyKeyMismatchException.class);
        assertThat(b.list(TaskQuery.all()).tasks()).hasSize(5);
    }

    static List<TaskEvent> events(TaskManager m, String taskId) {
        RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
        m.events(taskId).subscribe(sub);
        List<TaskEvent> out = sub.awaitCompletion(WAIT);
        sub.assertNoViolations();
        return out;
    }
}
