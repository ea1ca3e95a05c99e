package dev.agenttasks.testkit;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.StoreOp.AddMessage;
import dev.agenttasks.spi.StoreOp.AppendEvent;
import dev.agenttasks.spi.StoreOp.InsertTask;
import dev.agenttasks.spi.StoreOp.RemoveMessage;
import dev.agenttasks.spi.StoreOp.UpdateTask;
import dev.agenttasks.spi.TaskCursor;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * The contract every {@link TaskStore} must pass. Extend it in a test of your store and implement
 * {@link #newStore()}; every test gets a fresh, empty store, closed after the test.
 *
 * <pre>{@code
 * class MyStoreContractTest extends TaskStoreContract {
 *     @TempDir Path dir;
 *     @Override protected TaskStore newStore() { return MyStore.open(dir.resolve("tasks.db")); }
 * }
 * }</pre>
 *
 * <p>The tests are grouped by capability in {@link Nested} classes: task rows and conditional updates,
 * batch atomicity, the event log, pending messages, listing and paging, the recovery query and
 * counts, deletion and retention, data round-trips, concurrency, and the store's lifecycle. Stores that
 * survive a restart should extend {@link DurableTaskStoreContract} instead, which adds reopening.
 *
 * <p>What is deliberately not required: a store need not reject a gap in event seqs (the engine never
 * writes one), only a duplicate; and it need not fold non-ASCII case in title filters. Numbers in
 * JSON-compatible data are compared by value, so a store may read {@code 1} back as an {@code Integer}
 * or a {@code Long}. Timestamps in the test data have millisecond precision and must come back exactly.
 */
public abstract class TaskStoreContract {

    /** The base time of the test data (millisecond precision). */
    protected static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    /** The store under test, fresh for each test. */
    protected TaskStore store;

    /** Subclasses have a no-argument constructor. */
    protected TaskStoreContract() {
    }

    /**
     * @return a new, empty store; called once before each test
     * @throws Exception if the store cannot be opened
     */
    protected abstract TaskStore newStore() throws Exception;

    /**
     * Opens the store for a test.
     *
     * @throws Exception if it cannot be opened
     */
    @BeforeEach
    void openStore() throws Exception {
        store = newStore();
    }

    /** Closes the store after a test (closing is idempotent, so tests may close it themselves). */
    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Test data helpers

    /**
     * @param id        task id
     * @param status    status
     * @param createdAt creation time
     * @return a task of agent {@code agent-a}, titled {@code "Task <id>"}
     */
    protected static TaskRecord record(String id, TaskStatus status, Instant createdAt) {
        return record(id, status, createdAt, "agent-a", "Task " + id);
    }

    /**
     * @param id        task id
     * @param status    status
     * @param createdAt creation time
     * @param agentId   agent id
     * @param title     title
     * @return a task record with the lifecycle times its status implies
     */
    protected static TaskRecord record(String id, TaskStatus status, Instant createdAt, String agentId, String title) {
        Instant started = status == TaskStatus.PENDING ? null : createdAt.plusMillis(1);
        Instant completed = status.isTerminal() ? createdAt.plusMillis(2) : null;
        String error = status == TaskStatus.FAILED ? "boom" : null;
        Task task = new Task(id, agentId, status == TaskStatus.PENDING ? null : "session-" + id, status, title,
                "model-1", createdAt, started, completed, error, "/work/" + id, Map.of("origin", "contract"));
        return new TaskRecord(task, Map.of("enable_skills", true), 0, null, null, 0);
    }

    /**
     * @param r      a record
     * @param status new status
     * @param completedAt completion time, or null
     * @return a copy in another status
     */
    protected static TaskRecord withStatus(TaskRecord r, TaskStatus status, Instant completedAt) {
        Task t = r.task();
        return r.withTask(new Task(t.id(), t.agentId(), t.sessionId(), status, t.title(), t.model(), t.createdAt(),
                t.startedAt(), completedAt, t.error(), t.workDir(), t.metadata()));
    }

    /**
     * @param taskId task
     * @param seq    seq
     * @return a {@code "text"} event with data {@code {"n": seq}}
     */
    protected static TaskEvent event(String taskId, long seq) {
        return new TaskEvent(taskId, seq, "text", Map.of("n", seq), T0.plusMillis(seq));
    }

    /**
     * @param taskId task
     * @param seq    seq
     * @param status status
     * @return a status event
     */
    protected static TaskEvent statusEvent(String taskId, long seq, TaskStatus status) {
        return new TaskEvent(taskId, seq, TaskEvent.STATUS, Map.of("status", status.wireName()), T0.plusMillis(seq));
    }

    /**
     * @param taskId    task
     * @param messageId message id
     * @param text      text
     * @param at        when added
     * @return a pending text message
     */
    protected static PendingMessage message(String taskId, String messageId, String text, Instant at) {
        return new PendingMessage(taskId, messageId, TaskMessage.text(text), at);
    }

    /** @param ops ops to write in one batch */
    protected void write(StoreOp... ops) {
        store.write(List.of(ops));
    }

    /** @param records tasks to insert, one batch */
    protected void insert(TaskRecord... records) {
        store.write(Arrays.stream(records).<StoreOp>map(InsertTask::new).toList());
    }

    /**
     * Appends {@code count} text events from {@code fromSeq}, in one batch.
     *
     * @param taskId  task
     * @param fromSeq first seq
     * @param count   how many
     */
    protected void append(String taskId, long fromSeq, int count) {
        List<StoreOp> ops = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ops.add(new AppendEvent(event(taskId, fromSeq + i)));
        }
        store.write(ops);
    }

    /** @return the stored task, which must exist */
    private TaskRecord stored(String id) {
        return store.task(id).orElseThrow(() -> new AssertionError("task " + id + " is missing"));
    }

    private List<Long> seqs(String taskId) {
        return store.events(taskId, 0, Integer.MAX_VALUE).stream().map(TaskEvent::seq).toList();
    }

    private static List<Long> range(long from, long to) {
        return java.util.stream.LongStream.rangeClosed(from, to).boxed().toList();
    }

    private static List<String> ids(Collection<TaskRecord> records) {
        return records.stream().map(TaskRecord::id).toList();
    }

    /**
     * Asserts two snapshots are equal field by field (metadata compared as maps).
     *
     * @param actual   what the store returned
     * @param expected what was written
     */
    protected static void assertSameTask(Task actual, Task expected) {
        assertThat(actual.id()).isEqualTo(expected.id());
        assertThat(actual.agentId()).as("agentId").isEqualTo(expected.agentId());
        assertThat(actual.sessionId()).as("sessionId").isEqualTo(expected.sessionId());
        assertThat(actual.status()).as("status").isEqualTo(expected.status());
        assertThat(actual.title()).as("title").isEqualTo(expected.title());
        assertThat(actual.model()).as("model").isEqualTo(expected.model());
        assertThat(actual.createdAt()).as("createdAt").isEqualTo(expected.createdAt());
        assertThat(actual.startedAt()).as("startedAt").isEqualTo(expected.startedAt());
        assertThat(actual.completedAt()).as("completedAt").isEqualTo(expected.completedAt());
        assertThat(actual.error()).as("error").isEqualTo(expected.error());
        assertThat(actual.workDir()).as("workDir").isEqualTo(expected.workDir());
        assertThat(actual.metadata()).as("metadata").isEqualTo(expected.metadata());
    }

    /**
     * Asserts two JSON-compatible values are equal, comparing numbers by value (so {@code 1},
     * {@code 1L} and {@code 1.0} are equal) and maps regardless of order.
     *
     * @param actual   what the store returned
     * @param expected what was written
     */
    protected static void assertJsonEquals(Object actual, Object expected) {
        assertThat(normalise(actual)).isEqualTo(normalise(expected));
    }

    private static Object normalise(Object v) {
        if (v instanceof Number) {
            return new BigDecimal(v.toString()).stripTrailingZeros();
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(k, normalise(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(x -> out.add(normalise(x)));
            return out;
        }
        return v;
    }

    private static long count(Map<TaskStatus, Long> counts, TaskStatus s) {
        Long n = counts.get(s);
        return n == null ? 0 : n;
    }

    // ------------------------------------------------------------------------------------------------

    /** Insert, get, conditional update. */
    @Nested
    @DisplayName("task rows")
    class TaskRows {

        @Test
        void insertedTaskReadsBackWithEveryField() {
            Task t = new Task("t1", "agent-a", "s-1", TaskStatus.RUNNING, "Write a haiku", "model-x", T0,
                    T0.plusMillis(5), null, null, "/tmp/work", Map.of("user", "ann", "tenant", "acme"));
            TaskRecord r = new TaskRecord(t, Map.of("enable_mcp", false, "add_dirs", List.of("/a", "/b")), 1500,
                    "host-1", T0.plusSeconds(30), 0);
            insert(r);

            TaskRecord got = stored("t1");
            assertSameTask(got.task(), t);
            assertJsonEquals(got.options(), r.options());
            assertThat(got.timeoutMillis()).isEqualTo(1500);
            assertThat(got.owner()).isEqualTo("host-1");
            assertThat(got.leaseUntil()).isEqualTo(T0.plusSeconds(30));
            assertThat(got.lastSeq()).isZero();
        }

        @Test
        void nullableFieldsStayNull() {
            Task t = new Task("t1", "agent-a", null, TaskStatus.PENDING, "x", null, T0, null, null, null, null,
                    Map.of());
            insert(new TaskRecord(t, Map.of(), 0, null, null, 0));
            TaskRecord got = stored("t1");
            assertSameTask(got.task(), t);
            assertThat(got.owner()).isNull();
            assertThat(got.leaseUntil()).isNull();
            assertThat(got.options()).isEmpty();
        }

        @Test
        void unknownTaskIsEmpty() {
            assertThat(store.task("nope")).isEmpty();
        }

        @Test
        void lastSeqGivenOnInsertIsIgnored() {
            insert(record("t1", TaskStatus.PENDING, T0).withLastSeq(42));
            assertThat(stored("t1").lastSeq()).isZero();
            assertThat(store.events("t1", 0, 100)).isEmpty();
        }

        @Test
        void duplicateInsertConflictsAndKeepsTheOriginal() {
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            insert(r);
            TaskRecord other = record("t1", TaskStatus.RUNNING, T0.plusSeconds(1), "agent-b", "Other");
            assertThatThrownBy(() -> insert(other))
                    .isInstanceOf(StoreConflictException.class)
                    .satisfies(e -> assertThat(((StoreConflictException) e).taskId()).isEqualTo("t1"));
            assertSameTask(stored("t1").task(), r.task());
        }

        @Test
        void duplicateInsertInOneBatchConflictsAndAppliesNothing() {
            assertThatThrownBy(() -> insert(record("t1", TaskStatus.PENDING, T0), record("t2", TaskStatus.PENDING, T0),
                    record("t1", TaskStatus.PENDING, T0)))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.task("t1")).isEmpty();
            assertThat(store.task("t2")).isEmpty();
        }

        @Test
        void updateWithExpectedStatusReplacesTheMutableFields() {
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            insert(r);
            Task t = r.task();
            Task running = new Task(t.id(), t.agentId(), "s-9", TaskStatus.RUNNING, t.title(), t.model(), t.createdAt(),
                    T0.plusMillis(10), null, null, t.workDir(), t.metadata());
            write(new UpdateTask(new TaskRecord(running, r.options(), r.timeoutMillis(), "host-2", T0.plusSeconds(60),
                    0), TaskStatus.PENDING));

            TaskRecord got = stored("t1");
            assertSameTask(got.task(), running);
            assertThat(got.owner()).isEqualTo("host-2");
            assertThat(got.leaseUntil()).isEqualTo(T0.plusSeconds(60));
            assertJsonEquals(got.options(), r.options());

            Task failed = new Task(running.id(), running.agentId(), running.sessionId(), TaskStatus.FAILED,
                    running.title(), running.model(), running.createdAt(), running.startedAt(), T0.plusMillis(20),
                    "it broke", running.workDir(), running.metadata());
            write(new UpdateTask(new TaskRecord(failed, r.options(), r.timeoutMillis(), null, null, 0),
                    TaskStatus.RUNNING));
            got = stored("t1");
            assertSameTask(got.task(), failed);
            assertThat(got.owner()).isNull();
            assertThat(got.leaseUntil()).isNull();
        }

        @Test
        void updateDoesNotChangeLastSeq() {
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            insert(r);
            append("t1", 1, 3);
            write(new UpdateTask(withStatus(r, TaskStatus.RUNNING, null).withLastSeq(99), TaskStatus.PENDING));
            assertThat(stored("t1").lastSeq()).isEqualTo(3);
        }

        @Test
        void updateWithWrongExpectedStatusConflictsAndChangesNothing() {
            TaskRecord r = record("t1", TaskStatus.RUNNING, T0);
            insert(r);
            TaskRecord completed = withStatus(r, TaskStatus.COMPLETED, T0.plusSeconds(1));
            assertThatThrownBy(() -> write(new UpdateTask(completed, TaskStatus.PENDING)))
                    .isInstanceOf(StoreConflictException.class)
                    .satisfies(e -> assertThat(((StoreConflictException) e).taskId()).isEqualTo("t1"));
            assertSameTask(stored("t1").task(), r.task());
        }

        @Test
        void updateOfUnknownTaskConflicts() {
            assertThatThrownBy(() -> write(new UpdateTask(record("ghost", TaskStatus.RUNNING, T0), TaskStatus.PENDING)))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.task("ghost")).isEmpty();
        }

        @Test
        void emptyBatchIsANoOp() {
            store.write(List.of());
            assertThat(store.list(TaskQuery.all(), null, 10)).isEmpty();
        }
    }

    /** A batch is applied entirely or not at all. */
    @Nested
    @DisplayName("batch atomicity")
    class Atomicity {

        @Test
        void statusUpdateAndStatusEventCommitTogether() {
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            write(new InsertTask(r), new AppendEvent(statusEvent("t1", 1, TaskStatus.PENDING)));
            write(new UpdateTask(withStatus(r, TaskStatus.RUNNING, null), TaskStatus.PENDING),
                    new AppendEvent(statusEvent("t1", 2, TaskStatus.RUNNING)));

            assertThat(stored("t1").task().status()).isEqualTo(TaskStatus.RUNNING);
            assertThat(stored("t1").lastSeq()).isEqualTo(2);
            List<TaskEvent> events = store.events("t1", 0, 10);
            assertThat(events).extracting(TaskEvent::status).containsExactly(TaskStatus.PENDING, TaskStatus.RUNNING);
        }

        @Test
        void failedCasFailsTheWholeBatch() {
            TaskRecord a = record("a", TaskStatus.RUNNING, T0);
            TaskRecord b = record("b", TaskStatus.PENDING, T0);
            write(new InsertTask(a), new AppendEvent(event("a", 1)), new InsertTask(b),
                    new AddMessage(message("b", "m1", "first", T0)));

            // Everything before the failing CAS must be rolled back: a new task, an event, a message, a
            // removal and a successful update of another task.
            List<StoreOp> batch = List.of(
                    new InsertTask(record("c", TaskStatus.PENDING, T0)),
                    new AppendEvent(event("a", 2)),
                    new UpdateTask(withStatus(b, TaskStatus.RUNNING, null), TaskStatus.PENDING),
                    new AddMessage(message("a", "m2", "second", T0)),
                    new RemoveMessage("b", "m1"),
                    new UpdateTask(withStatus(a, TaskStatus.COMPLETED, T0.plusSeconds(1)), TaskStatus.PENDING),
                    new AppendEvent(event("a", 3)));
            assertThatThrownBy(() -> store.write(batch)).isInstanceOf(StoreConflictException.class);

            assertThat(store.task("c")).isEmpty();
            assertThat(seqs("a")).containsExactly(1L);
            assertThat(stored("a").lastSeq()).isEqualTo(1);
            assertThat(stored("a").task().status()).isEqualTo(TaskStatus.RUNNING);
            assertThat(stored("b").task().status()).isEqualTo(TaskStatus.PENDING);
            assertThat(store.pendingMessages("a")).isEmpty();
            assertThat(store.pendingMessages("b")).extracting(PendingMessage::messageId).containsExactly("m1");
            assertThat(store.countByStatus().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(2);
        }

        @Test
        void duplicateSeqFailsTheStatusUpdateWithIt() {
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            write(new InsertTask(r), new AppendEvent(statusEvent("t1", 1, TaskStatus.PENDING)));
            assertThatThrownBy(() -> write(new UpdateTask(withStatus(r, TaskStatus.RUNNING, null), TaskStatus.PENDING),
                    new AppendEvent(statusEvent("t1", 1, TaskStatus.RUNNING))))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(stored("t1").task().status()).isEqualTo(TaskStatus.PENDING);
            assertThat(store.events("t1", 0, 10)).extracting(TaskEvent::status).containsExactly(TaskStatus.PENDING);
        }

        @Test
        void aBatchSpanningSeveralTasksAppliesToAll() {
            List<StoreOp> ops = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                String id = "t" + i;
                ops.add(new InsertTask(record(id, TaskStatus.PENDING, T0.plusMillis(i))));
                ops.add(new AppendEvent(statusEvent(id, 1, TaskStatus.PENDING)));
                ops.add(new AddMessage(message(id, "m" + i, "hello " + i, T0)));
            }
            store.write(ops);
            for (int i = 0; i < 5; i++) {
                assertThat(stored("t" + i).lastSeq()).isEqualTo(1);
                assertThat(store.pendingMessages("t" + i)).hasSize(1);
            }
        }

        @Test
        void opsOfABatchApplyInOrder() {
            // insert, then update the row inserted by the same batch, then append to it
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            write(new InsertTask(r), new AppendEvent(statusEvent("t1", 1, TaskStatus.PENDING)),
                    new UpdateTask(withStatus(r, TaskStatus.RUNNING, null), TaskStatus.PENDING),
                    new AppendEvent(statusEvent("t1", 2, TaskStatus.RUNNING)),
                    new AddMessage(message("t1", "m1", "x", T0)), new RemoveMessage("t1", "m1"));
            assertThat(stored("t1").task().status()).isEqualTo(TaskStatus.RUNNING);
            assertThat(seqs("t1")).containsExactly(1L, 2L);
            assertThat(store.pendingMessages("t1")).isEmpty();
        }
    }

    /** Append and page the event log. */
    @Nested
    @DisplayName("event log")
    class EventLog {

        @BeforeEach
        void task() {
            insert(record("t1", TaskStatus.RUNNING, T0));
        }

        @Test
        void eventsReadBackInSeqOrderWithEveryField() {
            append("t1", 1, 10);
            List<TaskEvent> events = store.events("t1", 0, 100);
            assertThat(events).extracting(TaskEvent::seq).containsExactlyElementsOf(range(1, 10));
            for (TaskEvent e : events) {
                TaskEvent expected = event("t1", e.seq());
                assertThat(e.taskId()).isEqualTo("t1");
                assertThat(e.type()).isEqualTo(expected.type());
                assertThat(e.timestamp()).isEqualTo(expected.timestamp());
                assertJsonEquals(e.data(), expected.data());
            }
        }

        @Test
        void pagesByAfterSeqAndLimit() {
            append("t1", 1, 10);
            assertThat(store.events("t1", 3, 4)).extracting(TaskEvent::seq).containsExactly(4L, 5L, 6L, 7L);
            assertThat(store.events("t1", 8, 100)).extracting(TaskEvent::seq).containsExactly(9L, 10L);
            assertThat(store.events("t1", 10, 100)).isEmpty();
            assertThat(store.events("t1", 50, 100)).isEmpty();
            assertThat(store.events("t1", 0, 1)).extracting(TaskEvent::seq).containsExactly(1L);
        }

        @Test
        void pagingOneByOneWalksTheWholeLog() {
            append("t1", 1, 200);
            List<Long> seen = new ArrayList<>();
            long after = 0;
            while (true) {
                List<TaskEvent> page = store.events("t1", after, 7);
                if (page.isEmpty()) {
                    break;
                }
                assertThat(page.size()).isLessThanOrEqualTo(7);
                page.forEach(e -> seen.add(e.seq()));
                after = page.get(page.size() - 1).seq();
            }
            assertThat(seen).containsExactlyElementsOf(range(1, 200));
        }

        @Test
        void appendsAcrossBatchesExtendTheLog() {
            for (int i = 0; i < 20; i++) {
                append("t1", i * 5L + 1, 5);
            }
            assertThat(seqs("t1")).containsExactlyElementsOf(range(1, 100));
            assertThat(stored("t1").lastSeq()).isEqualTo(100);
        }

        @Test
        void lastSeqFollowsTheLog() {
            assertThat(stored("t1").lastSeq()).isZero();
            append("t1", 1, 1);
            assertThat(stored("t1").lastSeq()).isEqualTo(1);
            append("t1", 2, 9);
            assertThat(stored("t1").lastSeq()).isEqualTo(10);
            assertThat(store.list(TaskQuery.all(), null, 10)).singleElement()
                    .satisfies(r -> assertThat(r.lastSeq()).isEqualTo(10));
        }

        @Test
        void duplicateSeqIsRejected() {
            append("t1", 1, 3);
            assertThatThrownBy(() -> write(new AppendEvent(new TaskEvent("t1", 2, "other", Map.of(), T0))))
                    .isInstanceOf(StoreConflictException.class)
                    .satisfies(e -> assertThat(((StoreConflictException) e).taskId()).isEqualTo("t1"));
            assertThat(store.events("t1", 1, 1)).singleElement().satisfies(e -> assertThat(e.type()).isEqualTo("text"));
            assertThat(stored("t1").lastSeq()).isEqualTo(3);
        }

        @Test
        void duplicateSeqWithinOneBatchIsRejected() {
            assertThatThrownBy(() -> write(new AppendEvent(event("t1", 1)), new AppendEvent(event("t1", 2)),
                    new AppendEvent(event("t1", 2))))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.events("t1", 0, 10)).isEmpty();
            assertThat(stored("t1").lastSeq()).isZero();
        }

        @Test
        void eventOfUnknownTaskIsRejected() {
            assertThatThrownBy(() -> write(new AppendEvent(event("ghost", 1))))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.task("ghost")).isEmpty();
            assertThat(store.events("ghost", 0, 10)).isEmpty();
        }

        @Test
        void eventOfUnknownTaskFailsTheWholeBatch() {
            assertThatThrownBy(() -> write(new AppendEvent(event("t1", 1)), new AppendEvent(event("ghost", 1))))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.events("t1", 0, 10)).isEmpty();
        }

        @Test
        void eventsOfUnknownTaskAreEmpty() {
            assertThat(store.events("ghost", 0, 10)).isEmpty();
        }

        @Test
        void logsOfTasksAreIndependent() {
            insert(record("t2", TaskStatus.RUNNING, T0));
            List<StoreOp> ops = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                ops.add(new AppendEvent(event("t1", i)));
                ops.add(new AppendEvent(event("t2", i)));
            }
            store.write(ops);
            append("t2", 6, 2);
            assertThat(seqs("t1")).containsExactlyElementsOf(range(1, 5));
            assertThat(seqs("t2")).containsExactlyElementsOf(range(1, 7));
            assertThat(store.events("t2", 0, 100)).allSatisfy(e -> assertThat(e.taskId()).isEqualTo("t2"));
        }
    }

    /** Pending follow-up messages. */
    @Nested
    @DisplayName("pending messages")
    class Messages {

        @BeforeEach
        void task() {
            insert(record("t1", TaskStatus.RUNNING, T0));
        }

        @Test
        void messagesComeBackInTheOrderAdded() {
            write(new AddMessage(message("t1", "m-c", "third?", T0.plusMillis(3))));
            write(new AddMessage(message("t1", "m-a", "first?", T0.plusMillis(1))),
                    new AddMessage(message("t1", "m-b", "second?", T0.plusMillis(1))));
            List<PendingMessage> got = store.pendingMessages("t1");
            assertThat(got).extracting(PendingMessage::messageId).containsExactly("m-c", "m-a", "m-b");
            assertThat(got.get(0).message().text()).isEqualTo("third?");
            assertThat(got.get(0).createdAt()).isEqualTo(T0.plusMillis(3));
            assertThat(got).allSatisfy(m -> assertThat(m.taskId()).isEqualTo("t1"));
        }

        @Test
        void removeTakesOutOneMessage() {
            write(new AddMessage(message("t1", "m1", "a", T0)), new AddMessage(message("t1", "m2", "b", T0)),
                    new AddMessage(message("t1", "m3", "c", T0)));
            write(new RemoveMessage("t1", "m2"));
            assertThat(store.pendingMessages("t1")).extracting(PendingMessage::messageId).containsExactly("m1", "m3");
            write(new RemoveMessage("t1", "m1"), new RemoveMessage("t1", "m3"));
            assertThat(store.pendingMessages("t1")).isEmpty();
        }

        @Test
        void removingAMissingMessageIsNotAnError() {
            write(new RemoveMessage("t1", "never-added"));
            assertThat(store.pendingMessages("t1")).isEmpty();
        }

        @Test
        void messageOfUnknownTaskIsRejected() {
            assertThatThrownBy(() -> write(new AddMessage(message("ghost", "m1", "x", T0))))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.pendingMessages("ghost")).isEmpty();
        }

        @Test
        void aTaskCreatedWithoutMessageKeepsANullMessage() {
            write(new AddMessage(new PendingMessage("t1", "m0", null, T0)));
            assertThat(store.pendingMessages("t1")).singleElement()
                    .satisfies(m -> assertThat(m.message()).isNull());
        }

        @Test
        void contentBlocksRoundTrip() {
            List<Map<String, Object>> blocks = List.of(
                    Map.of("type", "text", "text", "Look at this 📎"),
                    Map.of("type", "image", "source", Map.of("kind", "url", "url", "https://example.org/a.png"),
                            "size", 1234));
            write(new AddMessage(new PendingMessage("t1", "m1", TaskMessage.content(blocks), T0)));
            PendingMessage got = store.pendingMessages("t1").get(0);
            assertThat(got.message().text()).isNull();
            assertJsonEquals(got.message().content(), blocks);
        }

        @Test
        void messagesOfTasksAreIndependent() {
            insert(record("t2", TaskStatus.RUNNING, T0));
            write(new AddMessage(message("t1", "m1", "for t1", T0)), new AddMessage(message("t2", "m2", "for t2", T0)));
            assertThat(store.pendingMessages("t1")).extracting(PendingMessage::messageId).containsExactly("m1");
            assertThat(store.pendingMessages("t2")).extracting(PendingMessage::messageId).containsExactly("m2");
            assertThat(store.pendingMessages("ghost")).isEmpty();
        }
    }

    /** List filters, ordering and cursor paging. */
    @Nested
    @DisplayName("listing and paging")
    class Listing {

        private List<TaskRecord> all;

        @BeforeEach
        void tasks() {
            // 30 tasks; several share a createdAt, so ties must be broken by id descending.
            all = new ArrayList<>();
            TaskStatus[] statuses = TaskStatus.values();
            for (int i = 0; i < 30; i++) {
                String id = String.format("task-%02d", (i * 7) % 30);
                Instant created = T0.plusSeconds(i / 3);
                String agent = i % 2 == 0 ? "agent-a" : "agent-b";
                String title = i % 5 == 0 ? "Fix the BUG number " + i : "Write docs " + i;
                all.add(record(id, statuses[i % statuses.length], created, agent, title));
            }
            List<TaskRecord> shuffled = new ArrayList<>(all);
            java.util.Collections.shuffle(shuffled, new java.util.Random(7));
            insert(shuffled.toArray(new TaskRecord[0]));
        }

        private List<String> expected(java.util.function.Predicate<TaskRecord> filter) {
            return all.stream().filter(filter)
                    .sorted(java.util.Comparator.comparing((TaskRecord r) -> r.task().createdAt())
                            .thenComparing(TaskRecord::id).reversed())
                    .map(TaskRecord::id).toList();
        }

        private List<String> listAllPages(TaskQuery q, int pageSize) {
            List<String> out = new ArrayList<>();
            TaskCursor after = null;
            for (int guard = 0; guard < 1000; guard++) {
                List<TaskRecord> page = store.list(q, after, pageSize);
                assertThat(page.size()).isLessThanOrEqualTo(pageSize);
                if (page.isEmpty()) {
                    return out;
                }
                out.addAll(ids(page));
                TaskRecord last = page.get(page.size() - 1);
                after = new TaskCursor(last.task().createdAt(), last.id());
            }
            return fail("paging did not end");
        }

        @Test
        void newestFirstWithTiesBrokenByIdDescending() {
            assertThat(ids(store.list(TaskQuery.all(), null, 100))).containsExactlyElementsOf(expected(r -> true));
        }

        @Test
        void limitCutsThePage() {
            assertThat(ids(store.list(TaskQuery.all(), null, 4)))
                    .containsExactlyElementsOf(expected(r -> true).subList(0, 4));
        }

        @Test
        void cursorPagesHaveNoDuplicatesOrGaps() {
            for (int pageSize : new int[] {1, 2, 3, 4, 7, 30, 31}) {
                List<String> paged = listAllPages(TaskQuery.all(), pageSize);
                assertThat(paged).as("page size " + pageSize).containsExactlyElementsOf(expected(r -> true));
            }
        }

        @Test
        void cursorIsAPositionNotARow() {
            // The row the cursor names may have been deleted meanwhile; listing resumes strictly after it.
            List<String> order = expected(r -> true);
            TaskRecord pivot = all.stream().filter(r -> r.id().equals(order.get(9))).findFirst().orElseThrow();
            assertThat(store.delete(pivot.id())).isTrue();
            List<TaskRecord> next = store.list(TaskQuery.all(), new TaskCursor(pivot.task().createdAt(), pivot.id()), 5);
            assertThat(ids(next)).containsExactlyElementsOf(order.subList(10, 15));
        }

        @Test
        void filtersByStatusSet() {
            Set<TaskStatus> wanted = EnumSet.of(TaskStatus.RUNNING, TaskStatus.FAILED);
            TaskQuery q = TaskQuery.all().withStatuses(wanted);
            assertThat(ids(store.list(q, null, 100)))
                    .containsExactlyElementsOf(expected(r -> wanted.contains(r.task().status())));
            assertThat(listAllPages(q, 2)).containsExactlyElementsOf(expected(r -> wanted.contains(r.task().status())));
        }

        @Test
        void filtersByAgent() {
            TaskQuery q = TaskQuery.all().withAgentId("agent-b");
            assertThat(ids(store.list(q, null, 100)))
                    .containsExactlyElementsOf(expected(r -> r.task().agentId().equals("agent-b")));
            assertThat(store.list(TaskQuery.all().withAgentId("agent-zzz"), null, 100)).isEmpty();
        }

        @Test
        void filtersByTitleIgnoringCase() {
            List<String> bugs = expected(r -> r.task().title().contains("BUG"));
            assertThat(bugs).isNotEmpty();
            assertThat(ids(store.list(TaskQuery.all().withTitleContains("bug"), null, 100))).containsExactlyElementsOf(bugs);
            assertThat(ids(store.list(TaskQuery.all().withTitleContains("bUg NuMbEr"), null, 100)))
                    .containsExactlyElementsOf(bugs);
            assertThat(store.list(TaskQuery.all().withTitleContains("no such words"), null, 100)).isEmpty();
        }

        @Test
        void combinedFiltersAndPaging() {
            TaskQuery q = TaskQuery.all().withAgentId("agent-a").withTitleContains("docs")
                    .withStatuses(EnumSet.of(TaskStatus.PENDING, TaskStatus.WAITING_FOR_INPUT, TaskStatus.CANCELLED));
            List<String> want = expected(r -> r.task().agentId().equals("agent-a") && r.task().title().contains("docs")
                    && q.statuses().contains(r.task().status()));
            assertThat(want).isNotEmpty();
            assertThat(listAllPages(q, 1)).containsExactlyElementsOf(want);
        }

        @Test
        void titleFilterTreatsWildcardsLiterally() {
            insert(record("w1", TaskStatus.PENDING, T0.plusSeconds(100), "agent-w", "100% done"),
                    record("w2", TaskStatus.PENDING, T0.plusSeconds(101), "agent-w", "under_score"),
                    record("w3", TaskStatus.PENDING, T0.plusSeconds(102), "agent-w", "back\\slash [x] *star* ?q"),
                    record("w4", TaskStatus.PENDING, T0.plusSeconds(103), "agent-w", "plain words"));
            TaskQuery w = TaskQuery.all().withAgentId("agent-w");
            assertThat(ids(store.list(w.withTitleContains("%"), null, 10))).containsExactly("w1");
            assertThat(ids(store.list(w.withTitleContains("_"), null, 10))).containsExactly("w2");
            assertThat(ids(store.list(w.withTitleContains("\\"), null, 10))).containsExactly("w3");
            assertThat(ids(store.list(w.withTitleContains("[x]"), null, 10))).containsExactly("w3");
            assertThat(ids(store.list(w.withTitleContains("*star*"), null, 10))).containsExactly("w3");
            assertThat(ids(store.list(w.withTitleContains("?"), null, 10))).containsExactly("w3");
            assertThat(ids(store.list(w.withTitleContains("'"), null, 10))).isEmpty();
        }

        @Test
        void titleFilterMatchesUnicodeSubstrings() {
            insert(record("u1", TaskStatus.PENDING, T0.plusSeconds(100), "agent-u", "Résumé 日本語 🚀 task"),
                    record("u2", TaskStatus.PENDING, T0.plusSeconds(101), "agent-u", "other"));
            TaskQuery u = TaskQuery.all().withAgentId("agent-u");
            assertThat(ids(store.list(u.withTitleContains("日本"), null, 10))).containsExactly("u1");
            assertThat(ids(store.list(u.withTitleContains("🚀"), null, 10))).containsExactly("u1");
            assertThat(ids(store.list(u.withTitleContains("sumé"), null, 10))).containsExactly("u1");
        }
    }

    /** The recovery query and the per-status counts. */
    @Nested
    @DisplayName("recovery query and counts")
    class StatusQueries {

        @Test
        void findByStatusReturnsOldestFirst() {
            insert(record("r2", TaskStatus.RUNNING, T0.plusSeconds(2)), record("p1", TaskStatus.PENDING, T0.plusSeconds(1)),
                    record("w0", TaskStatus.WAITING_FOR_INPUT, T0), record("p3", TaskStatus.PENDING, T0.plusSeconds(3)),
                    record("c0", TaskStatus.COMPLETED, T0), record("r4", TaskStatus.RUNNING, T0.plusSeconds(4)));
            assertThat(ids(store.findByStatus(EnumSet.of(TaskStatus.PENDING, TaskStatus.RUNNING))))
                    .containsExactly("p1", "r2", "p3", "r4");
            assertThat(ids(store.findByStatus(EnumSet.of(TaskStatus.WAITING_FOR_INPUT)))).containsExactly("w0");
            assertThat(store.findByStatus(EnumSet.of(TaskStatus.CANCELLED))).isEmpty();
        }

        @Test
        void findByStatusReturnsFullRecords() {
            TaskRecord r = record("r1", TaskStatus.RUNNING, T0);
            insert(r);
            append("r1", 1, 4);
            TaskRecord got = store.findByStatus(EnumSet.of(TaskStatus.RUNNING)).get(0);
            assertSameTask(got.task(), r.task());
            assertThat(got.lastSeq()).isEqualTo(4);
            assertJsonEquals(got.options(), r.options());
        }

        @Test
        void findByStatusSeesStatusUpdates() {
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            insert(r);
            write(new UpdateTask(withStatus(r, TaskStatus.RUNNING, null), TaskStatus.PENDING));
            assertThat(store.findByStatus(EnumSet.of(TaskStatus.PENDING))).isEmpty();
            assertThat(ids(store.findByStatus(EnumSet.of(TaskStatus.RUNNING)))).containsExactly("t1");
        }

        @Test
        void countsPerStatus() {
            assertThat(store.countByStatus().values()).allSatisfy(n -> assertThat(n).isZero());
            insert(record("a", TaskStatus.PENDING, T0), record("b", TaskStatus.PENDING, T0),
                    record("c", TaskStatus.RUNNING, T0), record("d", TaskStatus.FAILED, T0),
                    record("e", TaskStatus.WAITING_FOR_INPUT, T0));
            Map<TaskStatus, Long> counts = store.countByStatus();
            assertThat(count(counts, TaskStatus.PENDING)).isEqualTo(2);
            assertThat(count(counts, TaskStatus.RUNNING)).isEqualTo(1);
            assertThat(count(counts, TaskStatus.WAITING_FOR_INPUT)).isEqualTo(1);
            assertThat(count(counts, TaskStatus.FAILED)).isEqualTo(1);
            assertThat(count(counts, TaskStatus.COMPLETED)).isZero();
            assertThat(count(counts, TaskStatus.CANCELLED)).isZero();

            store.delete("a");
            write(new UpdateTask(withStatus(record("c", TaskStatus.RUNNING, T0), TaskStatus.COMPLETED, T0),
                    TaskStatus.RUNNING));
            counts = store.countByStatus();
            assertThat(count(counts, TaskStatus.PENDING)).isEqualTo(1);
            assertThat(count(counts, TaskStatus.RUNNING)).isZero();
            assertThat(count(counts, TaskStatus.COMPLETED)).isEqualTo(1);
        }
    }

    /** Delete and retention. */
    @Nested
    @DisplayName("deletion and retention")
    class Deletion {

        private void taskWithEventsAndMessages(String id, TaskStatus status, Instant createdAt, Instant completedAt) {
            TaskRecord r = record(id, status, createdAt);
            if (completedAt != null) {
                r = withStatus(r, status, completedAt);
            }
            write(new InsertTask(r), new AppendEvent(event(id, 1)), new AppendEvent(event(id, 2)),
                    new AddMessage(message(id, id + "-m", "hi", createdAt)));
        }

        @Test
        void deleteRemovesTaskEventsAndMessages() {
            taskWithEventsAndMessages("t1", TaskStatus.RUNNING, T0, null);
            taskWithEventsAndMessages("t2", TaskStatus.RUNNING, T0, null);
            assertThat(store.delete("t1")).isTrue();

            assertThat(store.task("t1")).isEmpty();
            assertThat(store.events("t1", 0, 10)).isEmpty();
            assertThat(store.pendingMessages("t1")).isEmpty();
            assertThat(ids(store.list(TaskQuery.all(), null, 10))).containsExactly("t2");
            assertThat(store.findByStatus(EnumSet.of(TaskStatus.RUNNING))).extracting(TaskRecord::id).containsExactly("t2");
            assertThat(count(store.countByStatus(), TaskStatus.RUNNING)).isEqualTo(1);
            // the other task is untouched
            assertThat(seqs("t2")).containsExactly(1L, 2L);
            assertThat(store.pendingMessages("t2")).hasSize(1);
        }

        @Test
        void deleteOfUnknownOrDeletedTaskReturnsFalse() {
            assertThat(store.delete("ghost")).isFalse();
            insert(record("t1", TaskStatus.PENDING, T0));
            assertThat(store.delete("t1")).isTrue();
            assertThat(store.delete("t1")).isFalse();
        }

        @Test
        void writesToADeletedTaskConflict() {
            TaskRecord r = record("t1", TaskStatus.RUNNING, T0);
            insert(r);
            store.delete("t1");
            assertThatThrownBy(() -> write(new AppendEvent(event("t1", 1)))).isInstanceOf(StoreConflictException.class);
            assertThatThrownBy(() -> write(new UpdateTask(withStatus(r, TaskStatus.COMPLETED, T0), TaskStatus.RUNNING)))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.task("t1")).isEmpty();
        }

        @Test
        void purgeRemovesOnlyTerminalTasksCompletedBeforeTheCutOff() {
            Instant cutOff = T0.plusSeconds(100);
            taskWithEventsAndMessages("old-done", TaskStatus.COMPLETED, T0, T0.plusSeconds(10));
            taskWithEventsAndMessages("old-failed", TaskStatus.FAILED, T0, T0.plusSeconds(20));
            taskWithEventsAndMessages("old-cancelled", TaskStatus.CANCELLED, T0, T0.plusSeconds(30));
            taskWithEventsAndMessages("new-done", TaskStatus.COMPLETED, T0, T0.plusSeconds(200));
            taskWithEventsAndMessages("at-cut-off", TaskStatus.COMPLETED, T0, cutOff);
            taskWithEventsAndMessages("old-running", TaskStatus.RUNNING, T0, null);
            taskWithEventsAndMessages("old-pending", TaskStatus.PENDING, T0, null);
            taskWithEventsAndMessages("old-waiting", TaskStatus.WAITING_FOR_INPUT, T0, null);

            assertThat(store.purgeTerminal(cutOff, 100)).isEqualTo(3);

            for (String gone : List.of("old-done", "old-failed", "old-cancelled")) {
                assertThat(store.task(gone)).as(gone).isEmpty();
                assertThat(store.events(gone, 0, 10)).as(gone).isEmpty();
                assertThat(store.pendingMessages(gone)).as(gone).isEmpty();
            }
            assertThat(ids(store.list(TaskQuery.all(), null, 100))).containsExactlyInAnyOrder("new-done", "at-cut-off",
                    "old-running", "old-pending", "old-waiting");
            assertThat(seqs("new-done")).containsExactly(1L, 2L);
            assertThat(store.purgeTerminal(cutOff, 100)).isZero();
        }

        @Test
        void purgeIsBoundedByTheLimit() {
            for (int i = 0; i < 5; i++) {
                taskWithEventsAndMessages("done-" + i, TaskStatus.COMPLETED, T0, T0.plusSeconds(i));
            }
            Instant cutOff = T0.plusSeconds(100);
            assertThat(store.purgeTerminal(cutOff, 2)).isEqualTo(2);
            assertThat(store.list(TaskQuery.all(), null, 100)).hasSize(3);
            assertThat(store.purgeTerminal(cutOff, 2)).isEqualTo(2);
            assertThat(store.purgeTerminal(cutOff, 2)).isEqualTo(1);
            assertThat(store.purgeTerminal(cutOff, 2)).isZero();
            assertThat(store.list(TaskQuery.all(), null, 100)).isEmpty();
        }
    }

    /** JSON-compatible data, metadata and text survive the store unchanged. */
    @Nested
    @DisplayName("data round-trips")
    class RoundTrips {

        private Map<String, Object> richData() {
            Map<String, Object> nested = new LinkedHashMap<>();
            nested.put("null", null);
            nested.put("true", true);
            nested.put("false", false);
            nested.put("int", 42);
            nested.put("negative", -7);
            nested.put("long", 9_007_199_254_740_993L);
            nested.put("double", 3.25);
            nested.put("small", 1.0e-9);
            nested.put("empty string", "");
            nested.put("empty list", List.of());
            nested.put("empty map", Map.of());
            List<Object> list = new ArrayList<>();
            list.add(1);
            list.add("two");
            list.add(null);
            list.add(List.of(3, List.of(4, Map.of("five", 5))));
            list.add(Map.of("k", List.of(true, false)));
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("text", "Hello, wörld! 日本語 🚀 \"quotes\" 'single' \\ back\nslash\ttab\u0001control");
            data.put("nested", nested);
            data.put("list", list);
            data.put("emoji key 🔑", "value");
            data.put("deep", Map.of("a", Map.of("b", Map.of("c", Map.of("d", List.of("e"))))));
            return data;
        }

        @Test
        void eventDataRoundTrips() {
            insert(record("t1", TaskStatus.RUNNING, T0));
            Map<String, Object> data = richData();
            write(new AppendEvent(new TaskEvent("t1", 1, "rich", data, T0.plusMillis(123))));
            TaskEvent got = store.events("t1", 0, 1).get(0);
            assertThat(got.type()).isEqualTo("rich");
            assertThat(got.timestamp()).isEqualTo(T0.plusMillis(123));
            assertJsonEquals(got.data(), data);
        }

        @Test
        void stringsWithNulCharactersRoundTrip() {
            // JSON strings may hold U+0000; a store on a database that rejects it in text must encode it
            insert(record("t1", TaskStatus.RUNNING, T0));
            String text = "before\u0000after";
            write(new AppendEvent(new TaskEvent("t1", 1, "nul", Map.of("text", text), T0)));
            assertThat(store.events("t1", 0, 1).get(0).data().get("text")).isEqualTo(text);
        }

        @Test
        void optionsRoundTrip() {
            Map<String, Object> options = richData();
            TaskRecord r = new TaskRecord(record("t1", TaskStatus.PENDING, T0).task(), options, 0, null, null, 0);
            insert(r);
            assertJsonEquals(stored("t1").options(), options);
            assertJsonEquals(store.list(TaskQuery.all(), null, 1).get(0).options(), options);
        }

        @Test
        void metadataTitleAndTextFieldsRoundTrip() {
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("user", "Zoë 😀");
            metadata.put("empty", "");
            metadata.put("quote\"key", "line\nbreak");
            metadata.put("日本", "語");
            Task t = new Task("t-ü", "agent-ß", "sess-💬", TaskStatus.FAILED, "Title with 🚀 and \"quotes\"",
                    "model-ö", T0, T0.plusMillis(1), T0.plusMillis(2), "error: ✗ failed\nsecond line", "/tmp/dir ü",
                    metadata);
            insert(new TaskRecord(t, Map.of(), 0, "host-é", null, 0));
            assertSameTask(stored("t-ü").task(), t);
        }

        @Test
        void messageWithRichContentRoundTrips() {
            insert(record("t1", TaskStatus.RUNNING, T0));
            List<Map<String, Object>> blocks = List.of(Map.of("type", "text", "text", "日本語 🚀"), richData());
            write(new AddMessage(new PendingMessage("t1", "m1", TaskMessage.content(blocks), T0)),
                    new AddMessage(new PendingMessage("t1", "m2", TaskMessage.text("plain 🚀 \"text\""), T0)));
            List<PendingMessage> got = store.pendingMessages("t1");
            assertJsonEquals(got.get(0).message().content(), blocks);
            assertThat(got.get(1).message().text()).isEqualTo("plain 🚀 \"text\"");
            assertThat(got.get(1).message().content()).isNull();
        }

        @Test
        void largeEventDataRoundTrips() {
            insert(record("t1", TaskStatus.RUNNING, T0));
            String big = "x".repeat(200_000) + "🚀";
            write(new AppendEvent(new TaskEvent("t1", 1, "big", Map.of("text", big), T0)));
            assertThat(store.events("t1", 0, 1).get(0).data().get("text")).isEqualTo(big);
        }
    }

    /** Reads from many threads while one writes; writes from several threads serialised by the caller. */
    @Nested
    @DisplayName("concurrency")
    class Concurrency {

        @Test
        @Timeout(value = 60, unit = TimeUnit.SECONDS)
        void readersSeeConsistentPrefixesWhileAWriterAppends() throws Exception {
            TaskRecord r = record("t1", TaskStatus.RUNNING, T0);
            insert(r);
            int total = 2000;
            AtomicBoolean done = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                CyclicBarrier start = new CyclicBarrier(4);
                List<Future<Integer>> readers = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    readers.add(pool.submit(() -> {
                        start.await();
                        int reads = 0;
                        while (!done.get() || reads == 0) {
                            // The row's error field carries the seq of the last event committed with it,
                            // in the same batch: once a reader sees it, the log must hold that event.
                            TaskRecord row = stored("t1");
                            long committed = row.task().error() == null ? 0 : Long.parseLong(row.task().error());
                            List<TaskEvent> events = store.events("t1", 0, Integer.MAX_VALUE);
                            for (int k = 0; k < events.size(); k++) {
                                if (events.get(k).seq() != k + 1) {
                                    throw new AssertionError("gap or disorder at index " + k + ": " + events.get(k).seq());
                                }
                            }
                            if (events.size() < committed) {
                                throw new AssertionError("row says seq " + committed + " committed but the log has "
                                        + events.size());
                            }
                            if (row.lastSeq() < committed) {
                                throw new AssertionError("lastSeq " + row.lastSeq() + " behind committed " + committed);
                            }
                            List<TaskEvent> tail = store.events("t1", Math.max(0, events.size() - 3), 3);
                            if (!tail.isEmpty() && tail.get(0).seq() != Math.max(0, events.size() - 3) + 1) {
                                throw new AssertionError("page does not start after afterSeq");
                            }
                            store.list(TaskQuery.all(), null, 10);
                            store.countByStatus();
                            reads++;
                        }
                        return reads;
                    }));
                }
                Future<?> writer = pool.submit(() -> {
                    start.await();
                    long seq = 0;
                    int batch = 1;
                    while (seq < total) {
                        List<StoreOp> ops = new ArrayList<>();
                        int n = (int) Math.min(batch, total - seq);
                        for (int k = 0; k < n; k++) {
                            ops.add(new AppendEvent(event("t1", ++seq)));
                        }
                        Task o = r.task();
                        Task t = new Task(o.id(), o.agentId(), o.sessionId(), TaskStatus.RUNNING, o.title(), o.model(),
                                o.createdAt(), o.startedAt(), o.completedAt(), Long.toString(seq), o.workDir(),
                                o.metadata());
                        ops.add(new UpdateTask(r.withTask(t), TaskStatus.RUNNING));
                        store.write(ops);
                        batch = batch % 17 + 1;
                    }
                    return null;
                });
                try {
                    writer.get(60, TimeUnit.SECONDS);
                } finally {
                    done.set(true);
                }
                for (Future<Integer> f : readers) {
                    assertThat(f.get(60, TimeUnit.SECONDS)).isPositive();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(seqs("t1")).containsExactlyElementsOf(range(1, total));
            assertThat(stored("t1").lastSeq()).isEqualTo(total);
        }

        @Test
        @Timeout(value = 60, unit = TimeUnit.SECONDS)
        void writesFromSeveralThreadsSerialisedByTheCallerAreConsistent() throws Exception {
            int threads = 4;
            int perThread = 300;
            Object writeLock = new Object();
            for (int i = 0; i < threads; i++) {
                insert(record("t" + i, TaskStatus.RUNNING, T0.plusMillis(i)));
            }
            insert(record("shared", TaskStatus.RUNNING, T0));
            long[] sharedSeq = {0};
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> futures = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    String id = "t" + i;
                    futures.add(pool.submit(() -> {
                        start.await();
                        for (int k = 1; k <= perThread; k++) {
                            synchronized (writeLock) {
                                // each batch: an event of the thread's own task, one of the shared task and a
                                // message, as an engine's group commit would mix them
                                long s = ++sharedSeq[0];
                                store.write(List.of(new AppendEvent(event(id, k)), new AppendEvent(event("shared", s)),
                                        new AddMessage(message(id, id + "-" + k, "m" + k, T0))));
                                if (k % 3 == 0) {
                                    store.write(List.of(new RemoveMessage(id, id + "-" + k)));
                                }
                            }
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> f : futures) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            for (int i = 0; i < threads; i++) {
                String id = "t" + i;
                assertThat(seqs(id)).containsExactlyElementsOf(range(1, perThread));
                assertThat(stored(id).lastSeq()).isEqualTo(perThread);
                List<String> expectedMessages = IntStream.rangeClosed(1, perThread).filter(k -> k % 3 != 0)
                        .mapToObj(k -> id + "-" + k).toList();
                assertThat(store.pendingMessages(id)).extracting(PendingMessage::messageId)
                        .containsExactlyElementsOf(expectedMessages);
            }
            assertThat(seqs("shared")).containsExactlyElementsOf(range(1, (long) threads * perThread));
            assertThat(stored("shared").lastSeq()).isEqualTo((long) threads * perThread);
        }

        @Test
        @Timeout(value = 60, unit = TimeUnit.SECONDS)
        void concurrentConflictingInsertsLetExactlyOneWin() throws Exception {
            int threads = 4;
            Object writeLock = new Object();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Boolean>> futures = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    String agent = "agent-" + i;
                    futures.add(pool.submit(() -> {
                        start.await();
                        synchronized (writeLock) {
                            try {
                                insert(record("same", TaskStatus.PENDING, T0, agent, "t"));
                                return true;
                            } catch (StoreConflictException e) {
                                return false;
                            }
                        }
                    }));
                }
                start.countDown();
                int wins = 0;
                for (Future<Boolean> f : futures) {
                    wins += f.get(60, TimeUnit.SECONDS) ? 1 : 0;
                }
                assertThat(wins).isEqualTo(1);
            } finally {
                pool.shutdownNow();
            }
            assertThat(store.list(TaskQuery.all(), null, 10)).hasSize(1);
        }
    }

    /** Close and use after close. */
    @Nested
    @DisplayName("lifecycle")
    class Lifecycle {

        @Test
        void closeIsIdempotent() {
            store.close();
            store.close();
        }

        @Test
        void everyOperationAfterCloseThrowsTaskStoreException() {
            insert(record("t1", TaskStatus.RUNNING, T0));
            store.close();
            Map<String, Runnable> ops = new LinkedHashMap<>();
            ops.put("write", () -> insert(record("t2", TaskStatus.PENDING, T0)));
            ops.put("task", () -> store.task("t1"));
            ops.put("list", () -> store.list(TaskQuery.all(), null, 10));
            ops.put("findByStatus", () -> store.findByStatus(EnumSet.allOf(TaskStatus.class)));
            ops.put("events", () -> store.events("t1", 0, 10));
            ops.put("pendingMessages", () -> store.pendingMessages("t1"));
            ops.put("countByStatus", () -> store.countByStatus());
            ops.put("delete", () -> store.delete("t1"));
            ops.put("purgeTerminal", () -> store.purgeTerminal(T0, 10));
            List<String> notThrowing = new ArrayList<>();
            ops.forEach((name, op) -> {
                try {
                    op.run();
                    notThrowing.add(name + " (returned normally)");
                } catch (TaskStoreException expected) {
                    // right
                } catch (RuntimeException other) {
                    notThrowing.add(name + " (threw " + other + ")");
                }
            });
            assertThat(notThrowing).as("operations that did not throw TaskStoreException after close").isEmpty();
        }
    }
}
