package dev.agenttasks.sqlite;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A file written with the version 1 schema (made here with that schema's DDL, as a version 1 store left
 * it: WAL, 4 KB pages, events in a WITHOUT ROWID table) is moved to the current schema on open, with
 * every task, event and message intact.
 */
class MigrationFromV1Test {

    /** The version 1 DDL, as released (V1__init.sql), kept here so the test does not follow later edits. */
    static final String V1_DDL = """
            CREATE TABLE tasks (
                id TEXT NOT NULL PRIMARY KEY, agent_id TEXT NOT NULL, session_id TEXT, status TEXT NOT NULL,
                title TEXT NOT NULL, title_lower TEXT NOT NULL, model TEXT, created_at INTEGER NOT NULL,
                started_at INTEGER, completed_at INTEGER, error TEXT, work_dir TEXT, metadata TEXT NOT NULL,
                options TEXT NOT NULL, timeout_millis INTEGER NOT NULL, owner TEXT, lease_until INTEGER);
            CREATE INDEX idx_tasks_created ON tasks (created_at, id);
            CREATE INDEX idx_tasks_status ON tasks (status, created_at, id);
            CREATE INDEX idx_tasks_agent ON tasks (agent_id, created_at, id);
            CREATE INDEX idx_tasks_completed ON tasks (completed_at) WHERE completed_at IS NOT NULL;
            CREATE TABLE events (
                task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE, seq INTEGER NOT NULL,
                type TEXT NOT NULL, data TEXT NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (task_id, seq)) WITHOUT ROWID;
            CREATE TABLE messages (
                id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE, message_id TEXT NOT NULL,
                message TEXT, created_at INTEGER NOT NULL);
            CREATE INDEX idx_messages_task ON messages (task_id, message_id);
            CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL,
                applied_at INTEGER NOT NULL);
            INSERT INTO schema_version VALUES (1, 'init', 0)
            """;

    static final Instant T0 = Instant.parse("2026-11-20T08:00:00.000000001Z");
    static final TaskStatus[] STATUSES = TaskStatus.values();
    static final int[] EVENT_SIZES = {100, 1_000, 2_100, 10_000};

    @TempDir
    Path dir;

    /** Writes a version 1 file with {@code tasks} tasks, as a version 1 store would have; returns what it holds. */
    static List<TaskRecord> writeV1(Path db, int tasks) throws Exception {
        List<TaskRecord> records = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode = WAL");
            for (String stmt : V1_DDL.split(";")) {
                s.execute(stmt);
            }
            c.setAutoCommit(false);
            try (PreparedStatement task = c.prepareStatement("INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                    + "?, ?, ?, ?)");
                 PreparedStatement event = c.prepareStatement("INSERT INTO events VALUES (?, ?, ?, ?, ?)");
                 PreparedStatement message = c.prepareStatement(
                         "INSERT INTO messages (task_id, message_id, message, created_at) VALUES (?, ?, ?, ?)")) {
                for (int i = 0; i < tasks; i++) {
                    TaskStatus status = STATUSES[i % STATUSES.length];
                    String id = "task_" + i;
                    Instant created = T0.plusSeconds(i);
                    Instant started = status == TaskStatus.PENDING ? null : created.plusMillis(5);
                    Instant completed = status.isTerminal() ? created.plusSeconds(2) : null;
                    String title = (i % 2 == 0 ? "Fix the Bug no. " : "Write ÉCOLE docs no. ") + i;
                    Map<String, String> metadata = Map.of("k", "v" + i);
                    Task t = new Task(id, "agent-" + (i % 3), i % 4 == 0 ? null : "session-" + i, status, title,
                            i % 5 == 0 ? null : "model-x", created, started, completed,
                            status == TaskStatus.FAILED ? "boom " + i : null, i % 2 == 0 ? "/work/" + i : null, metadata);
                    long lastSeq = i % 4;
                    TaskRecord r = new TaskRecord(t, Map.of("retries", (long) i), 1000L * i,
                            status == TaskStatus.RUNNING ? "host-1" : null,
                            status == TaskStatus.RUNNING ? created.plusSeconds(30) : null, lastSeq);
                    records.add(r);
                    task.setString(1, id);
                    task.setString(2, t.agentId());
                    task.setString(3, t.sessionId());
                    task.setString(4, status.name());
                    task.setString(5, title);
                    task.setString(6, title.toLowerCase(Locale.ROOT));
                    task.setString(7, t.model());
                    task.setLong(8, Times.toNanos(created, "c"));
                    setNanos(task, 9, started);
                    setNanos(task, 10, completed);
                    task.setString(11, t.error());
                    task.setString(12, t.workDir());
                    task.setString(13, Json.write(metadata));
                    task.setString(14, Json.write(r.options()));
                    task.setLong(15, r.timeoutMillis());
                    task.setString(16, r.owner());
                    setNanos(task, 17, r.leaseUntil());
                    task.executeUpdate();
                    for (int seq = 1; seq <= lastSeq; seq++) {
                        event.setString(1, id);
                        event.setLong(2, seq);
                        event.setString(3, "text_delta");
                        event.setString(4, Json.write(eventData(i, seq)));
                        event.setLong(5, Times.toNanos(eventTime(i, seq), "ts"));
                        event.executeUpdate();
                    }
                    if (status == TaskStatus.WAITING_FOR_INPUT) {
                        for (String m : List.of("m1", "m2")) {
                            message.setString(1, id);
                            message.setString(2, m);
                            message.setString(3, Json.writeMessage(TaskMessage.text("answer " + m + " to " + i)));
                            message.setLong(4, Times.toNanos(created.plusSeconds(1), "m"));
                            message.executeUpdate();
                        }
                    }
                }
            }
            c.commit();
        }
        return records;
    }

    static Map<String, Object> eventData(int task, int seq) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seq", (long) seq);
        m.put("text", "x".repeat(EVENT_SIZES[(task + seq) % EVENT_SIZES.length]));
        return m;
    }

    static Instant eventTime(int task, int seq) {
        return T0.plusSeconds(task).plusNanos(seq * 1_001L);
    }

    private static void setNanos(PreparedStatement ps, int i, Instant t) throws Exception {
        if (t == null) {
            ps.setNull(i, java.sql.Types.INTEGER);
        } else {
            ps.setLong(i, Times.toNanos(t, "t"));
        }
    }

    @Test
    void aVersion1FileIsMovedOverWithEverythingIntact() throws Exception {
        Path db = dir.resolve("v1.db");
        List<TaskRecord> before = writeV1(db, 60);
        assertThat(SchemaTest.query(db, "PRAGMA page_size")).containsExactly("4096");

        try (SqliteTaskStore store = SqliteTaskStore.open(db)) {
            assertThat(store.writerPragma("journal_mode")).isEqualToIgnoringCase("wal");
            assertThat(store.writerPragma("foreign_keys")).isEqualTo("1");
            assertThat(store.writerPragma("page_size")).isEqualTo(String.valueOf(SqliteTaskStore.PAGE_SIZE));
            for (int i = 0; i < before.size(); i++) {
                TaskRecord expected = before.get(i);
                assertThat(store.task(expected.id())).as(expected.id()).contains(expected);
                List<TaskEvent> events = store.events(expected.id(), 0, 100);
                assertThat(events).hasSize((int) expected.lastSeq());
                for (TaskEvent e : events) {
                    int seq = (int) e.seq();
                    assertThat(e).isEqualTo(new TaskEvent(expected.id(), seq, "text_delta", eventData(i, seq),
                            eventTime(i, seq)));
                }
                List<PendingMessage> messages = store.pendingMessages(expected.id());
                if (expected.task().status() == TaskStatus.WAITING_FOR_INPUT) {
                    assertThat(messages).extracting(PendingMessage::messageId).containsExactly("m1", "m2");
                    assertThat(messages.get(0).message()).isEqualTo(TaskMessage.text("answer m1 to " + i));
                } else {
                    assertThat(messages).isEmpty();
                }
            }
            Map<TaskStatus, Long> counts = store.countByStatus();
            for (TaskStatus st : STATUSES) {
                assertThat(counts).containsEntry(st, 10L);
            }
            // the title index was built from the migrated rows: indexed and scanned searches agree
            assertThat(store.list(TaskQuery.all().withTitleContains("école docs no. 1"), null, 100))
                    .extracting(TaskRecord::id).containsExactly("task_19", "task_17", "task_15", "task_13", "task_11",
                            "task_1");
            assertThat(store.list(TaskQuery.all().withTitleContains("BUG"), null, 100)).hasSize(30);
            assertThat(store.list(TaskQuery.all().withTitleContains("59"), null, 100))
                    .extracting(TaskRecord::id).containsExactly("task_59");

            // writes continue where the log ended; a delete still takes the events and messages along
            TaskRecord last = before.get(3);
            store.write(List.of(new StoreOp.AppendEvent(new TaskEvent(last.id(), 4, "x", Map.of(), T0))));
            assertThatThrownBy(() -> store.write(List.of(new StoreOp.AppendEvent(
                    new TaskEvent(last.id(), 4, "x", Map.of(), T0))))).isInstanceOf(StoreConflictException.class);
            assertThat(store.task(last.id()).orElseThrow().lastSeq()).isEqualTo(4);
            String waiting = before.get(2).id();
            assertThat(store.delete(waiting)).isTrue();
            assertThat(store.countByStatus()).containsEntry(TaskStatus.WAITING_FOR_INPUT, 9L);
        }
        assertThat(SchemaTest.query(db, "SELECT count(*) FROM messages WHERE task_id = 'task_2'")).containsExactly("0");
        // every event row still belongs to a task (the deleted task's went with it)
        assertThat(SchemaTest.query(db, "SELECT count(*) FROM events WHERE id / 4294967296 NOT IN "
                + "(SELECT pk FROM tasks)")).containsExactly("0");
        long expectedEvents = before.stream().mapToLong(TaskRecord::lastSeq).sum() - before.get(2).lastSeq() + 1;
        assertThat(SchemaTest.query(db, "SELECT count(*) FROM events")).containsExactly(String.valueOf(expectedEvents));
        assertThat(SchemaTest.query(db, "SELECT max(version) FROM schema_version"))
                .containsExactly(String.valueOf(SqliteTaskStore.SCHEMA_VERSION));
        assertThat(SchemaTest.query(db, "PRAGMA integrity_check")).containsExactly("ok");
        assertThat(SchemaTest.query(db, "PRAGMA foreign_key_check")).isEmpty();
    }

    @Test
    void whenAnotherConnectionHoldsTheFileTheMigrationKeepsTheOldPageSize() throws Exception {
        Path db = dir.resolve("busy.db");
        List<TaskRecord> before = writeV1(db, 12);
        // another process reading the file: the page size cannot change (it needs the file alone)
        try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + db);
             Statement s = other.createStatement()) {
            s.execute("BEGIN");
            s.executeQuery("SELECT count(*) FROM tasks").close();
            try (SqliteTaskStore store = SqliteTaskStore.builder(db).busyTimeout(Duration.ofMillis(50)).build()) {
                assertThat(store.writerPragma("page_size")).isEqualTo("4096");
                assertThat(store.writerPragma("journal_mode")).isEqualToIgnoringCase("wal");
                assertThat(store.task(before.get(5).id())).contains(before.get(5));
                assertThat(store.events(before.get(5).id(), 0, 10)).hasSize(1);
            }
            s.execute("COMMIT");
        }
        assertThat(SchemaTest.query(db, "SELECT max(version) FROM schema_version"))
                .containsExactly(String.valueOf(SqliteTaskStore.SCHEMA_VERSION));
        assertThat(SchemaTest.query(db, "PRAGMA integrity_check")).containsExactly("ok");
    }
}
