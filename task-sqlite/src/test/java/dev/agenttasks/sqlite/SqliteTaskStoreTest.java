package dev.agenttasks.sqlite;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskCursor;
import dev.agenttasks.spi.TaskRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Focused tests of the SQLite store's own behaviour (the shared contract is in the testkit suite). */
class SqliteTaskStoreTest {

    static final Instant T0 = Instant.parse("2026-11-25T10:00:00.123456789Z");

    @TempDir
    Path dir;
    SqliteTaskStore store;

    @BeforeEach
    void open() {
        store = SqliteTaskStore.builder(dir.resolve("tasks.db")).readConnections(2).build();
    }

    @AfterEach
    void close() {
        store.close();
    }

    static Task task(String id, TaskStatus status, Instant created, String title) {
        return new Task(id, "agent-a", null, status, title, "model-x", created, null, null, null, null, Map.of());
    }

    static TaskRecord record(String id, Instant created) {
        return new TaskRecord(task(id, TaskStatus.PENDING, created, "Title " + id), Map.of(), 0, null, null, 0);
    }

    static StoreOp insert(String id, Instant created) {
        return new StoreOp.InsertTask(record(id, created));
    }

    static StoreOp event(String id, long seq, Map<String, Object> data) {
        return new StoreOp.AppendEvent(new TaskEvent(id, seq, "text_delta", data, T0.plusNanos(seq)));
    }

    static StoreOp status(TaskRecord current, TaskStatus to, Instant at) {
        Task t = current.task();
        Task next = new Task(t.id(), t.agentId(), t.sessionId(), to, t.title(), t.model(), t.createdAt(),
                to == TaskStatus.RUNNING ? at : t.startedAt(), to.isTerminal() ? at : t.completedAt(),
                to == TaskStatus.FAILED ? "boom" : t.error(), t.workDir(), t.metadata());
        return new StoreOp.UpdateTask(current.withTask(next), t.status());
    }

    @Test
    void taskRoundTripsEveryFieldExactly() {
        Instant created = Instant.parse("2026-01-02T03:04:05.987654321Z");
        Task t = new Task("task_1", "agent-a", "sess-1", TaskStatus.RUNNING, "Grüße 🌍", "m", created,
                created.plusNanos(1), Instant.parse("1970-01-01T00:00:00Z").minusNanos(1), "err", "/w",
                Map.of("k", "v", "x", "ÿ"));
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("enable_skills", true);
        options.put("dirs", List.of("a", "b"));
        options.put("nothing", null);
        options.put("nested", Map.of("n", 3L));
        TaskRecord r = new TaskRecord(t, options, 1500, "host-1", created.plusSeconds(30), 77);

        store.write(List.of(new StoreOp.InsertTask(r)));

        TaskRecord back = store.task("task_1").orElseThrow();
        assertThat(back.task()).isEqualTo(t);
        assertThat(back.options()).isEqualTo(options);
        assertThat(back.timeoutMillis()).isEqualTo(1500);
        assertThat(back.owner()).isEqualTo("host-1");
        assertThat(back.leaseUntil()).isEqualTo(created.plusSeconds(30));
        assertThat(back.lastSeq()).as("lastSeq is maintained by the store").isZero();
        assertThat(store.task("nope")).isEmpty();
    }

    @Test
    void eventsAppendInBatchesAndPageBySeq() {
        List<StoreOp> ops = new ArrayList<>();
        ops.add(insert("a", T0));
        for (int i = 1; i <= 50; i++) {
            ops.add(event("a", i, Map.of("i", (long) i, "s", "x".repeat(i))));
        }
        store.write(ops);

        assertThat(store.task("a").orElseThrow().lastSeq()).isEqualTo(50);
        List<TaskEvent> page = store.events("a", 10, 5);
        assertThat(page).extracting(TaskEvent::seq).containsExactly(11L, 12L, 13L, 14L, 15L);
        assertThat(page.get(0).data()).isEqualTo(Map.of("i", 11L, "s", "x".repeat(11)));
        assertThat(page.get(0).timestamp()).isEqualTo(T0.plusNanos(11));
        assertThat(store.events("a", 50, 10)).isEmpty();
        assertThat(store.events("a", 0, Integer.MAX_VALUE)).hasSize(50);
        assertThat(store.events("missing", 0, 10)).isEmpty();
    }

    @Test
    void returnedDataIsDeeplyImmutable() {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("list", List.of(Map.of("a", 1L)));
        data.put("null", null);
        store.write(List.of(insert("a", T0), event("a", 1, data)));

        Map<String, Object> back = store.events("a", 0, 1).get(0).data();
        assertThat(back).isEqualTo(data);
        assertThatThrownBy(() -> back.put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> list = (List<Map<String, Object>>) back.get("list");
        assertThatThrownBy(() -> list.add(Map.of())).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> list.get(0).put("b", 2)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void duplicateInsertConflictsAndRollsBackTheWholeBatch() {
        store.write(List.of(insert("a", T0)));

        assertThatThrownBy(() -> store.write(List.of(insert("b", T0), event("b", 1, Map.of()), insert("a", T0))))
                .isInstanceOfSatisfying(StoreConflictException.class, e -> assertThat(e.taskId()).isEqualTo("a"));

        assertThat(store.task("b")).isEmpty();
        assertThat(store.events("b", 0, 10)).isEmpty();
        // the writer is usable afterwards
        store.write(List.of(insert("b", T0)));
        assertThat(store.task("b")).isPresent();
    }

    @Test
    void duplicateOrGappedSeqConflicts() {
        store.write(List.of(insert("a", T0), event("a", 1, Map.of())));

        assertThatThrownBy(() -> store.write(List.of(event("a", 2, Map.of()), event("a", 2, Map.of()))))
                .isInstanceOf(StoreConflictException.class).hasMessageContaining("seq 2");
        assertThatThrownBy(() -> store.write(List.of(event("a", 3, Map.of()))))
                .isInstanceOf(StoreConflictException.class).hasMessageContaining("does not follow 1");
        assertThatThrownBy(() -> store.write(List.of(event("a", 1, Map.of()))))
                .isInstanceOf(StoreConflictException.class);

        assertThat(store.task("a").orElseThrow().lastSeq()).isEqualTo(1);
        store.write(List.of(event("a", 2, Map.of())));
        assertThat(store.task("a").orElseThrow().lastSeq()).isEqualTo(2);
    }

    @Test
    void appendsWrittenByAnotherConnectionAreSeenByTheSeqCheck() throws Exception {
        store.write(List.of(insert("a", T0), event("a", 1, Map.of())));
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("tasks.db"));
             Statement s = c.createStatement()) {
            s.execute("INSERT INTO events (id, type, data, ts) "
                    + "SELECT pk * 4294967296 + 2, 'x', '{}', 0 FROM tasks WHERE id = 'a'");
        }
        assertThatThrownBy(() -> store.write(List.of(event("a", 2, Map.of()))))
                .isInstanceOf(StoreConflictException.class).hasMessageContaining("does not follow 2");
        store.write(List.of(event("a", 3, Map.of())));
        assertThat(store.task("a").orElseThrow().lastSeq()).isEqualTo(3);
    }

    @Test
    void aDeletedTaskCanBeReinsertedAndStartsAtSeqOne() {
        store.write(List.of(insert("a", T0), event("a", 1, Map.of()), event("a", 2, Map.of())));
        store.delete("a");
        store.write(List.of(insert("a", T0), event("a", 1, Map.of())));
        assertThat(store.task("a").orElseThrow().lastSeq()).isEqualTo(1);
        assertThatThrownBy(() -> store.write(List.of(event("a", 3, Map.of()))))
                .isInstanceOf(StoreConflictException.class);
    }

    @Test
    void opsOnAMissingTaskConflict() {
        store.write(List.of(insert("a", T0)));
        TaskRecord ghost = record("ghost", T0);

        assertThatThrownBy(() -> store.write(List.of(event("a", 1, Map.of()), event("ghost", 1, Map.of()))))
                .isInstanceOfSatisfying(StoreConflictException.class, e -> assertThat(e.taskId()).isEqualTo("ghost"));
        assertThatThrownBy(() -> store.write(List.of(new StoreOp.AddMessage(
                new PendingMessage("ghost", "m1", TaskMessage.text("hi"), T0)))))
                .isInstanceOfSatisfying(StoreConflictException.class, e -> assertThat(e.taskId()).isEqualTo("ghost"));
        assertThatThrownBy(() -> store.write(List.of(status(ghost, TaskStatus.RUNNING, T0))))
                .isInstanceOf(StoreConflictException.class).hasMessageContaining("no such task");
        assertThatThrownBy(() -> store.write(List.of(new StoreOp.RemoveMessage("ghost", "m1"))))
                .isInstanceOf(StoreConflictException.class);

        assertThat(store.events("a", 0, 10)).as("first op of the failed batch rolled back").isEmpty();
        store.write(List.of(new StoreOp.RemoveMessage("a", "never-added")));
    }

    @Test
    void updateIsConditionalOnTheExpectedStatus() {
        TaskRecord a = record("a", T0);
        store.write(List.of(new StoreOp.InsertTask(a), event("a", 1, Map.of("status", "pending"))));
        Instant started = T0.plusMillis(5);

        store.write(List.of(status(a, TaskStatus.RUNNING, started), event("a", 2, Map.of("status", "running"))));
        TaskRecord running = store.task("a").orElseThrow();
        assertThat(running.task().status()).isEqualTo(TaskStatus.RUNNING);
        assertThat(running.task().startedAt()).isEqualTo(started);
        assertThat(running.lastSeq()).isEqualTo(2);

        // stale expectation: the stored row is RUNNING, not PENDING
        assertThatThrownBy(() -> store.write(List.of(event("a", 3, Map.of()), status(a, TaskStatus.CANCELLED, T0))))
                .isInstanceOf(StoreConflictException.class).hasMessageContaining("is RUNNING, expected PENDING");
        assertThat(store.task("a").orElseThrow().lastSeq()).isEqualTo(2);

        // update replaces only the mutable fields
        Task changed = new Task("a", "other-agent", "sess", TaskStatus.FAILED, "other title", "other",
                T0.plusSeconds(9), started, T0.plusSeconds(1), "boom", "/x", Map.of("z", "z"));
        store.write(List.of(new StoreOp.UpdateTask(new TaskRecord(changed, Map.of("o", 1), 9, "h", T0, 0),
                TaskStatus.RUNNING)));
        Task back = store.task("a").orElseThrow().task();
        assertThat(back).isEqualTo(new Task("a", "agent-a", "sess", TaskStatus.FAILED, "Title a", "model-x", T0,
                started, T0.plusSeconds(1), "boom", null, Map.of(), 2)); // the record's lastSeq, given to the task
        assertThat(store.task("a").orElseThrow().owner()).isEqualTo("h");
    }

    @Test
    void pendingMessagesKeepTheirOrderAndAreRemovedById() {
        TaskMessage blocks = TaskMessage.content(List.of(Map.of("type", "text", "text", "look"),
                Map.of("type", "image", "url", "u")));
        store.write(List.of(insert("a", T0),
                new StoreOp.AddMessage(new PendingMessage("a", "m2", TaskMessage.text("first"), T0.plusNanos(2))),
                new StoreOp.AddMessage(new PendingMessage("a", "m1", blocks, T0.plusNanos(1))),
                new StoreOp.AddMessage(new PendingMessage("a", "m3", null, T0))));

        assertThat(store.pendingMessages("a")).containsExactly(
                new PendingMessage("a", "m2", TaskMessage.text("first"), T0.plusNanos(2)),
                new PendingMessage("a", "m1", blocks, T0.plusNanos(1)),
                new PendingMessage("a", "m3", null, T0));

        store.write(List.of(new StoreOp.RemoveMessage("a", "m1")));
        assertThat(store.pendingMessages("a")).extracting(PendingMessage::messageId).containsExactly("m2", "m3");
        assertThat(store.pendingMessages("missing")).isEmpty();
    }

    @Test
    void listFiltersOrdersAndPagesNewestFirst() {
        List<StoreOp> ops = new ArrayList<>();
        ops.add(new StoreOp.InsertTask(new TaskRecord(task("t1", TaskStatus.PENDING, T0, "Fix the 100% bug"),
                Map.of(), 0, null, null, 0)));
        ops.add(new StoreOp.InsertTask(new TaskRecord(task("t2", TaskStatus.PENDING, T0, "ÉCOLE snake_case"),
                Map.of(), 0, null, null, 0)));
        ops.add(new StoreOp.InsertTask(new TaskRecord(new Task("t3", "agent-b", null, TaskStatus.PENDING,
                "Write docs", null, T0.plusNanos(1), null, null, null, null, Map.of()), Map.of(), 0, null, null, 0)));
        ops.add(new StoreOp.InsertTask(new TaskRecord(task("t0", TaskStatus.PENDING, T0.minusSeconds(1), "old"),
                Map.of(), 0, null, null, 0)));
        store.write(ops);
        store.write(List.of(status(store.task("t2").orElseThrow(), TaskStatus.RUNNING, T0)));

        TaskQuery all = TaskQuery.all();
        assertThat(ids(store.list(all, null, 10))).containsExactly("t3", "t2", "t1", "t0");
        assertThat(ids(store.list(all, null, 2))).containsExactly("t3", "t2");
        assertThat(ids(store.list(all, new TaskCursor(T0, "t2"), 10))).containsExactly("t1", "t0");
        assertThat(ids(store.list(all, new TaskCursor(T0.plusNanos(1), "t3"), 1))).containsExactly("t2");
        assertThat(ids(store.list(all.withStatus(TaskStatus.RUNNING), null, 10))).containsExactly("t2");
        assertThat(ids(store.list(all.withStatus(TaskStatus.RUNNING, TaskStatus.PENDING), null, 10)))
                .containsExactly("t3", "t2", "t1", "t0");
        assertThat(ids(store.list(all.withAgentId("agent-b"), null, 10))).containsExactly("t3");
        assertThat(ids(store.list(all.withTitleContains("100%"), null, 10))).containsExactly("t1");
        assertThat(ids(store.list(all.withTitleContains("%"), null, 10))).containsExactly("t1");
        assertThat(ids(store.list(all.withTitleContains("e_c"), null, 10))).containsExactly("t2");
        assertThat(ids(store.list(all.withTitleContains("_"), null, 10))).containsExactly("t2");
        assertThat(ids(store.list(all.withTitleContains("école"), null, 10))).containsExactly("t2");
        assertThat(ids(store.list(all.withTitleContains("DOCS"), null, 10))).containsExactly("t3");
        assertThat(ids(store.list(all.withTitleContains("' OR 1=1 --"), null, 10))).isEmpty();
        assertThat(ids(store.list(all.withAgentId("agent-a").withStatus(TaskStatus.PENDING)
                .withTitleContains("o"), null, 10))).containsExactly("t0");
    }

    @Test
    void findByStatusIsOldestFirstAndCountsPerStatus() {
        store.write(List.of(insert("b", T0.plusSeconds(1)), insert("a", T0.plusSeconds(1)), insert("c", T0)));
        store.write(List.of(status(store.task("b").orElseThrow(), TaskStatus.RUNNING, T0)));

        assertThat(ids(store.findByStatus(EnumSet.of(TaskStatus.PENDING, TaskStatus.RUNNING))))
                .containsExactly("c", "a", "b");
        assertThat(ids(store.findByStatus(Set.of(TaskStatus.RUNNING)))).containsExactly("b");
        assertThat(store.findByStatus(Set.of())).isEmpty();
        assertThat(store.countByStatus()).containsExactlyInAnyOrderEntriesOf(
                Map.of(TaskStatus.PENDING, 2L, TaskStatus.RUNNING, 1L));
    }

    @Test
    void deleteRemovesTaskEventsAndMessages() throws Exception {
        store.write(List.of(insert("a", T0), event("a", 1, Map.of()),
                new StoreOp.AddMessage(new PendingMessage("a", "m", TaskMessage.text("x"), T0)), insert("b", T0),
                event("b", 1, Map.of())));

        assertThat(store.delete("a")).isTrue();
        assertThat(store.delete("a")).isFalse();
        assertThat(store.task("a")).isEmpty();
        assertThat(count("events")).isEqualTo(1);
        assertThat(count("messages WHERE task_id = 'a'")).isZero();
        assertThat(store.events("b", 0, 10)).hasSize(1);
        // the id can be reused after delete
        store.write(List.of(insert("a", T0), event("a", 1, Map.of())));
    }

    @Test
    void purgeRemovesOnlyOldTerminalTasksInBoundedBatches() throws Exception {
        List<StoreOp> ops = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ops.add(insert("old" + i, T0));
            ops.add(event("old" + i, 1, Map.of()));
        }
        ops.add(insert("young", T0));
        ops.add(insert("live", T0));
        store.write(ops);
        List<StoreOp> finish = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            TaskRecord r = store.task("old" + i).orElseThrow();
            finish.add(status(r, i % 2 == 0 ? TaskStatus.CANCELLED : TaskStatus.FAILED, T0.plusSeconds(i)));
        }
        finish.add(status(store.task("young").orElseThrow(), TaskStatus.CANCELLED, T0.plusSeconds(100)));
        finish.add(status(store.task("live").orElseThrow(), TaskStatus.RUNNING, T0));
        store.write(finish);

        Instant cutoff = T0.plusSeconds(50);
        assertThat(store.purgeTerminal(cutoff, 2)).isEqualTo(2);
        assertThat(store.task("old0")).isEmpty();
        assertThat(store.task("old1")).isEmpty();
        assertThat(store.task("old2")).isPresent();
        assertThat(store.purgeTerminal(cutoff, 0)).isZero();
        assertThat(store.purgeTerminal(cutoff, 10)).isEqualTo(3);
        assertThat(store.purgeTerminal(cutoff, 10)).isZero();
        assertThat(ids(store.list(TaskQuery.all(), null, 10))).containsExactlyInAnyOrder("young", "live");
        assertThat(count("events")).isZero();
    }

    @Test
    void dataSurvivesReopen() {
        store.write(List.of(insert("a", T0), event("a", 1, Map.of("k", "v"))));
        store.close();
        store.close(); // idempotent
        assertThatThrownBy(() -> store.task("a")).isInstanceOf(TaskStoreException.class);

        store = SqliteTaskStore.open(dir.resolve("tasks.db"));
        assertThat(store.task("a").orElseThrow().lastSeq()).isEqualTo(1);
        assertThat(store.events("a", 0, 10).get(0).data()).isEqualTo(Map.of("k", "v"));
    }

    @Test
    void instantsOutsideTheStorableRangeAreRefusedBeforeWriting() {
        TaskRecord far = new TaskRecord(task("far", TaskStatus.PENDING, Instant.parse("2300-01-01T00:00:00Z"), "x"),
                Map.of(), 0, null, null, 0);
        assertThatThrownBy(() -> store.write(List.of(insert("a", T0), new StoreOp.InsertTask(far))))
                .isInstanceOf(TaskStoreException.class).hasMessageContaining("createdAt");
        assertThat(store.task("a")).isEmpty();
    }

    @Test
    void walAndPragmasAreSet() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("tasks.db"));
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualToIgnoringCase("wal");
        }
        assertThat(store.durability()).isEqualTo(Durability.NORMAL);
    }

    private long count(String fromWhere) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("tasks.db"));
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM " + fromWhere)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<String> ids(List<TaskRecord> records) {
        List<String> out = new ArrayList<>();
        for (TaskRecord r : records) {
            out.add(r.id());
        }
        return out;
    }
}
