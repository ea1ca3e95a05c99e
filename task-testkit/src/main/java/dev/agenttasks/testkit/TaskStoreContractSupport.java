package dev.agenttasks.testkit;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.StoreOp.AppendEvent;
import dev.agenttasks.spi.StoreOp.InsertTask;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fixture and test-data helpers of the {@link TaskStoreContract}: the store under test (fresh for each test,
 * closed after it) and builders and assertions for task records, events and messages. Store tests extend
 * {@link TaskStoreContract} (or {@link DurableTaskStoreContract}), not this class; it is public so that the
 * contract's parts, and suites of a store's own, can share the helpers.
 */
public abstract class TaskStoreContractSupport {

    /** The base time of the test data (millisecond precision). */
    protected static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    /** The store under test, fresh for each test. */
    protected TaskStore store;

    /** Subclasses have a no-argument constructor. */
    protected TaskStoreContractSupport() {
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
    TaskRecord stored(String id) {
        return store.task(id).orElseThrow(() -> new AssertionError("task " + id + " is missing"));
    }

    List<Long> seqs(String taskId) {
        return store.events(taskId, 0, Integer.MAX_VALUE).stream().map(TaskEvent::seq).toList();
    }

    static List<Long> range(long from, long to) {
        return java.util.stream.LongStream.rangeClosed(from, to).boxed().toList();
    }

    static List<String> ids(Collection<TaskRecord> records) {
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

    static long count(Map<TaskStatus, Long> counts, TaskStatus s) {
        Long n = counts.get(s);
        return n == null ? 0 : n;
    }
}
