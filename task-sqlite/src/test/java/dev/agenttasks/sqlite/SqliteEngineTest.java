package dev.agenttasks.sqlite;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.TransientStoreException;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The real engine over the SQLite store: end to end, across a restart, and with a failing write. */
class SqliteEngineTest {

    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void tasksRunStreamAndReplayAfterARestart() {
        Path db = dir.resolve("tasks.db");
        ScriptedAgentRunner runner = new ScriptedAgentRunner().agent("coder", "Coder", "m1").agent("asker", "Asker", null);
        runner.script("coder", ScriptedAgentRunner.steps().sessionId("s-1")
                .emitMany(300, "text_delta", i -> Map.of("i", i, "text", "chunk " + i)).thenComplete(Map.of("ok", true)));
        runner.script("asker", 1, ScriptedAgentRunner.steps().emit("text", Map.of("text", "which file?"))
                .thenAskForInput(Map.of("question", "Which file?")));
        runner.script("asker", 2, ScriptedAgentRunner.steps().emit("text", Map.of("text", "thanks")).thenComplete());

        String coderId;
        String askerId;
        List<TaskEvent> live;
        try (TaskManager tasks = TaskManager.builder().store(SqliteTaskStore.open(db)).runner(runner).build()) {
            Task coder = tasks.create(TaskRequest.builder("coder").text("write").metadata("k", "v").build());
            Task asker = tasks.create(TaskRequest.of("asker", "ask me"));
            coderId = coder.id();
            askerId = asker.id();
            RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
            tasks.events(coderId).subscribe(sub);
            live = sub.awaitCompletion(WAIT);
            sub.assertNoViolations();

            await().atMost(WAIT).until(() -> tasks.get(askerId).orElseThrow().status() == TaskStatus.WAITING_FOR_INPUT);
            tasks.sendMessage(askerId, TaskMessage.text("main.py"));
            await().atMost(WAIT).until(() -> tasks.get(askerId).orElseThrow().status() == TaskStatus.COMPLETED);
        }
        assertThat(live).extracting(TaskEvent::seq).containsExactlyElementsOf(seqs(live.size()));
        assertThat(live.get(live.size() - 1).status()).isEqualTo(TaskStatus.COMPLETED);

        try (TaskManager tasks = TaskManager.builder().store(SqliteTaskStore.open(db)).runner(runner).build()) {
            Task coder = tasks.get(coderId).orElseThrow();
            assertThat(coder.status()).isEqualTo(TaskStatus.COMPLETED);
            assertThat(coder.sessionId()).isEqualTo("s-1");
            assertThat(coder.metadata()).isEqualTo(Map.of("k", "v"));
            assertThat(tasks.list(TaskQuery.all().withStatus(TaskStatus.COMPLETED)).tasks())
                    .extracting(Task::id).containsExactlyInAnyOrder(coderId, askerId);

            RecordingSubscriber<TaskEvent> replay = RecordingSubscriber.unbounded();
            tasks.events(coderId).subscribe(replay);
            assertThat(replay.awaitCompletion(WAIT)).isEqualTo(live);

            RecordingSubscriber<TaskEvent> fromMiddle = RecordingSubscriber.unbounded();
            tasks.events(coderId, 150).subscribe(fromMiddle);
            assertThat(fromMiddle.awaitCompletion(WAIT)).isEqualTo(live.subList(150, live.size()));

            RecordingSubscriber<TaskEvent> asker = RecordingSubscriber.unbounded();
            tasks.events(askerId).subscribe(asker);
            assertThat(asker.awaitCompletion(WAIT)).extracting(TaskEvent::type).contains("text")
                    .filteredOn(t -> t.equals("status")).hasSizeGreaterThanOrEqualTo(5);
        }
    }

    @Test
    void aLockHeldPastTheBusyTimeoutIsRetriedWithinTheBudgetAndTheTaskGoesOn() throws Exception {
        Path db = dir.resolve("locked.db");
        Gate gate = new Gate();
        ScriptedAgentRunner runner = new ScriptedAgentRunner().agent("coder", "Coder", null);
        runner.script("coder", ScriptedAgentRunner.steps().emit("text", Map.of("n", 1)).await(gate)
                .emit("text", Map.of("n", 2)).thenComplete());
        SqliteTaskStore sqlite = SqliteTaskStore.builder(db).busyTimeout(Duration.ofMillis(100)).build();
        CountDownLatch busy = new CountDownLatch(1);
        TaskStore store = (TaskStore) Proxy.newProxyInstance(TaskStore.class.getClassLoader(),
                new Class<?>[] {TaskStore.class}, (proxy, method, args) -> {
                    try {
                        return method.invoke(sqlite, args);
                    } catch (InvocationTargetException e) {
                        if (e.getCause() instanceof TransientStoreException) {
                            busy.countDown();
                        }
                        throw e.getCause();
                    }
                });
        Connection c = null;
        try (TaskManager tasks = TaskManager.builder().store(store).runner(runner)
                .transientErrorBudget(Duration.ofSeconds(30)).build()) {
            String id = tasks.create(TaskRequest.of("coder", "go")).id();
            RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
            tasks.events(id).subscribe(sub);
            gate.awaitReached(WAIT);
            sub.awaitItems(4, WAIT); // pending, user_message, running, n=1: n=1 is committed before the lock

            c = DriverManager.getConnection("jdbc:sqlite:" + db);
            try (Statement s = c.createStatement()) {
                s.execute("BEGIN EXCLUSIVE"); // like a backup or a sqlite3 shell
            }
            gate.release(); // n=2 meets the lock
            assertThat(busy.await(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)).isTrue();
            release(c); // within the budget: the writer's next attempt commits the batch

            List<TaskEvent> seen = sub.awaitCompletion(WAIT);
            sub.assertNoViolations();
            assertThat(tasks.get(id).orElseThrow().status()).isEqualTo(TaskStatus.COMPLETED);
            assertThat(seen).extracting(e -> e.data().get("n")).contains(1L, 2L);
            assertThat(sqlite.events(id, 0, 100)).isEqualTo(seen);
        } finally {
            release(c);
        }
    }

    @Test
    void aFailedWriteFailsTheTaskAndNoSubscriberSeesTheLostEvent() throws Exception {
        Path db = dir.resolve("failing.db");
        Gate gate = new Gate();
        Gate never = new Gate();
        ScriptedAgentRunner runner = new ScriptedAgentRunner().agent("coder", "Coder", null);
        runner.script("coder", ScriptedAgentRunner.steps().emit("text", Map.of("n", 1)).await(gate)
                .emit("text", Map.of("n", 2)).await(never).thenComplete());

        AtomicReference<Connection> locker = new AtomicReference<>();
        List<Throwable> storeFailures = new CopyOnWriteArrayList<>();
        List<Task> finished = new CopyOnWriteArrayList<>();
        TaskListener listener = new TaskListener() {
            @Override
            public void storeFailed(String taskId, Throwable error) {
                storeFailures.add(error);
                release(locker.get()); // the lock goes away: the engine can record the failure
            }

            @Override
            public void taskFinished(Task task) {
                finished.add(task);
            }
        };
        SqliteTaskStore store = SqliteTaskStore.builder(db).busyTimeout(Duration.ofMillis(200)).build();
        try (TaskManager tasks = TaskManager.builder().store(store).runner(runner).listener(listener)
                .transientErrorBudget(Duration.ZERO).build()) { // no retry: the lock is a failure at once
            String id = tasks.create(TaskRequest.of("coder", "go")).id();
            RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
            tasks.events(id).subscribe(sub);
            gate.awaitReached(WAIT);
            sub.awaitItems(4, WAIT); // pending, user_message, running, n=1: n=1 is committed before the lock

            Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
            try (Statement s = c.createStatement()) {
                s.execute("BEGIN EXCLUSIVE");
            }
            locker.set(c);
            gate.release(); // the turn emits n=2, whose commit fails: the database is locked

            List<TaskEvent> seen = sub.awaitCompletion(WAIT);
            sub.assertNoViolations();
            Task task = tasks.get(id).orElseThrow();
            assertThat(task.status()).isEqualTo(TaskStatus.FAILED);
            assertThat(task.error()).startsWith("store failure");
            assertThat(storeFailures).singleElement().isInstanceOf(TransientStoreException.class);
            assertThat(finished).extracting(Task::id).containsExactly(id);

            assertThat(seen).extracting(e -> e.data().get("n")).contains(1L).doesNotContain(2L);
            TaskEvent last = seen.get(seen.size() - 1);
            assertThat(last.status()).isEqualTo(TaskStatus.FAILED);
            assertThat(last.seq()).as("the failure takes the seq of the lost event: no gap")
                    .isEqualTo(seen.get(seen.size() - 2).seq() + 1);
            assertThat(seen.get(seen.size() - 2).data()).isEqualTo(Map.of("n", 1L));
            assertThat(store.events(id, 0, 100)).isEqualTo(seen);
        } finally {
            release(locker.get());
        }
    }

    @Test
    void aFullDiskFailsTheStreamingTaskAndEveryEventShownIsStored() throws Exception {
        Path mount = TmpfsMount.mountOrSkip(dir.resolve("small"), "2M");
        try {
            Path db = mount.resolve("tasks.db");
            ScriptedAgentRunner runner = new ScriptedAgentRunner().agent("coder", "Coder", null);
            String chunk = "z".repeat(2000);
            runner.script("coder", (turn, context) -> {
                for (long i = 0; i < 5_000 && !context.isCancelled(); i++) {
                    context.emit("text_delta", Map.of("i", i, "text", chunk));
                }
                return dev.agenttasks.spi.TurnResult.completed();
            });
            List<Throwable> storeFailures = new CopyOnWriteArrayList<>();
            TaskListener listener = new TaskListener() {
                @Override
                public void storeFailed(String taskId, Throwable error) {
                    storeFailures.add(error);
                }
            };
            List<TaskEvent> seen;
            String id;
            try (TaskManager tasks = TaskManager.builder().store(SqliteTaskStore.open(db)).runner(runner)
                    .listener(listener).build()) {
                id = tasks.create(TaskRequest.of("coder", "fill the disk")).id();
                RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
                tasks.events(id).subscribe(sub);
                await().atMost(WAIT).until(() -> !storeFailures.isEmpty());
                // While the disk stays full the task's FAILED status can not be stored either: the engine
                // retries it until it is, and a subscriber sees it only once it is stored. Room again:
                TmpfsMount.remount(mount, "size=8M");
                await().atMost(WAIT).until(sub::isTerminated);
                sub.assertNoViolations();
                seen = sub.items();
                assertThat(seen.get(seen.size() - 1).status()).as("the terminal event, once stored")
                        .isEqualTo(TaskStatus.FAILED);
            }
            assertThat(storeFailures).as("the 1 MiB disk filled up").isNotEmpty();
            assertThat(StoreFailureTest.resultCode(storeFailures.get(0))).isNotNull();
            assertThat(seen).as("the stream stopped before the runner's 5,000 events").hasSizeLessThan(5_000);

            try (SqliteTaskStore store = SqliteTaskStore.open(db)) {
                List<TaskEvent> stored = store.events(id, 0, Integer.MAX_VALUE);
                assertThat(stored.subList(0, seen.size())).as("every event shown is stored, same seq and data")
                        .isEqualTo(seen);
                try (TaskManager tasks = TaskManager.builder().store(store).runner(runner).build()) {
                    Task task = tasks.get(id).orElseThrow();
                    assertThat(task.status()).isEqualTo(TaskStatus.FAILED);
                    assertThat(task.error()).satisfiesAnyOf(e -> assertThat(e).startsWith("store failure"),
                            e -> assertThat(e).isEqualTo(dev.agenttasks.RecoveryPolicy.INTERRUPTED));
                    RecordingSubscriber<TaskEvent> replay = RecordingSubscriber.unbounded();
                    tasks.events(id).subscribe(replay);
                    List<TaskEvent> all = replay.awaitCompletion(WAIT);
                    assertThat(all.subList(0, seen.size())).isEqualTo(seen);
                    assertThat(all.get(all.size() - 1).status()).isEqualTo(TaskStatus.FAILED);
                }
            }
        } finally {
            TmpfsMount.unmount(mount);
        }
    }

    private static void release(Connection c) {
        if (c == null) {
            return;
        }
        try {
            if (!c.isClosed()) {
                try (Statement s = c.createStatement()) {
                    s.execute("ROLLBACK");
                }
                c.close();
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<Long> seqs(int n) {
        Long[] out = new Long[n];
        for (int i = 0; i < n; i++) {
            out[i] = i + 1L;
        }
        return List.of(out);
    }
}
