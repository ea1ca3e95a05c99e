package dev.agenttasks.sqlite;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A file of schema version 3, whose counts, title index and {@code created_hw} were kept by row triggers,
 * is moved to version 4 (the store keeps them in its write transaction): the counts, the search and the
 * newest-first order stay right, for the rows that were there and for the ones the store writes after.
 */
class MigrationFromV3Test {

    static final Instant T0 = Instant.parse("2026-11-28T08:00:00Z");
    static final TaskStatus[] STATUSES = TaskStatus.values();

    @TempDir
    Path dir;

    /** Writes a version 3 file (its own migrations) with {@code n} tasks through its triggers, some moved, one deleted. */
    static void writeV3(Path db, int n) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            s.execute("PRAGMA page_size = " + SqliteTaskStore.PAGE_SIZE);
            s.execute("PRAGMA journal_mode = WAL");
            s.execute(Migrations.VERSION_TABLE_DDL);
            for (int v = 1; v <= 3; v++) {
                for (String stmt : Migrations.statements(v)) {
                    s.execute(stmt);
                }
                s.execute("INSERT INTO schema_version VALUES (" + v + ", '" + Migrations.description(v) + "', 0)");
            }
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(8);
            }
            c.setAutoCommit(false);
            try (PreparedStatement task = c.prepareStatement("INSERT INTO tasks (id, agent_id, status, title, "
                    + "title_lower, created_at, metadata, options, timeout_millis, epoch) VALUES (?, 'agent', 'PENDING', ?, "
                    + "?, ?, '{}', '{}', 0, 0)");
                 PreparedStatement move = c.prepareStatement("UPDATE tasks SET status = ? WHERE id = ?")) {
                for (int i = 0; i < n; i++) {
                    String title = (i % 2 == 0 ? "Deploy Service " : "Rotate KEYS ") + i;
                    task.setString(1, "task_" + i);
                    task.setString(2, title);
                    task.setString(3, title.toLowerCase(Locale.ROOT));
                    // not in key order: created_hw is what makes newest first right
                    task.setLong(4, Times.toNanos(T0.plusSeconds(i % 7 == 3 ? i - 5L : i), "c"));
                    task.executeUpdate();
                    TaskStatus st = STATUSES[i % STATUSES.length];
                    if (st != TaskStatus.PENDING) {
                        move.setString(1, st.name());
                        move.setString(2, "task_" + i);
                        move.executeUpdate();
                    }
                }
            }
            s.execute("DELETE FROM tasks WHERE id = 'task_" + (n - 1) + "'");
            c.commit();
        }
    }

    static Map<TaskStatus, Long> recount(Path db) throws Exception {
        Map<TaskStatus, Long> out = new EnumMap<>(TaskStatus.class);
        for (String row : SchemaTest.query(db, "SELECT status || ' ' || count(*) FROM tasks GROUP BY status")) {
            String[] p = row.split(" ");
            out.put(TaskStatus.valueOf(p[0]), Long.parseLong(p[1]));
        }
        return out;
    }

    static List<String> ids(List<TaskRecord> records) {
        return records.stream().map(TaskRecord::id).toList();
    }

    @Test
    void aVersion3FileKeepsItsCountsSearchAndOrderAndTheStoreKeepsThemFromThen() throws Exception {
        Path db = dir.resolve("v3.db");
        writeV3(db, 48);
        List<String> deployBefore = SchemaTest.query(db, "SELECT id FROM tasks WHERE title_lower LIKE 'deploy%' "
                + "ORDER BY created_at DESC, id DESC");
        // a wrong count row, as a hand edit would leave: the migration recounts
        SchemaTest.exec(db, "UPDATE task_counts SET n = n + 5 WHERE status = 'RUNNING'");

        try (SqliteTaskStore store = SqliteTaskStore.open(db)) {
            assertThat(SchemaTest.query(db, "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"))
                    .containsExactly("tasks_count_delete", "tasks_events_delete", "tasks_title_delete",
                            "tasks_title_update");
            Map<TaskStatus, Long> counts = store.countByStatus();
            assertThat(counts).isEqualTo(recount(db));
            assertThat(counts.get(TaskStatus.RUNNING)).isEqualTo(8L);
            assertThat(counts.get(TaskStatus.CANCELLED)).isEqualTo(7L);
            assertThat(ids(store.list(TaskQuery.all().withTitleContains("DEPLOY service"), null, 100)))
                    .containsExactlyElementsOf(deployBefore).hasSize(24);
            assertThat(ids(store.list(TaskQuery.all().withTitleContains("keys 1"), null, 100)))
                    .containsExactlyInAnyOrder("task_1", "task_11", "task_13", "task_15", "task_17", "task_19");

            // new tasks through the store: keys follow the last row, titles are indexed, counts follow
            List<StoreOp> ops = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Task t = new Task("new_" + i, "agent", null, TaskStatus.PENDING, "Deploy Service new " + i, null,
                        T0.plusSeconds(100 + i), null, null, null, null, Map.of());
                ops.add(new StoreOp.InsertTask(new TaskRecord(t, Map.of(), 0, null, null, 0)));
                ops.add(new StoreOp.AppendEvent(new TaskEvent(t.id(), 1, "status", Map.of("status", "pending"),
                        t.createdAt())));
            }
            store.write(ops);
            TaskRecord n0 = store.task("new_0").orElseThrow();
            Task running = new Task(n0.id(), "agent", null, TaskStatus.RUNNING, n0.task().title(), null,
                    n0.task().createdAt(), T0.plusSeconds(101), null, null, null, Map.of());
            store.write(List.of(new StoreOp.UpdateTask(n0.withTask(running), TaskStatus.PENDING)));
            assertThat(SchemaTest.query(db, "SELECT pk FROM tasks WHERE id LIKE 'new_%' ORDER BY id"))
                    .containsExactly("48", "49", "50");
            assertThat(store.countByStatus()).isEqualTo(recount(db));
            assertThat(store.countByStatus().get(TaskStatus.RUNNING)).isEqualTo(9L);
            assertThat(ids(store.list(TaskQuery.all().withTitleContains("service new"), null, 100)))
                    .containsExactly("new_2", "new_1", "new_0");
            assertThat(ids(store.list(TaskQuery.all().withTitleContains("deploy"), null, 3)))
                    .containsExactly("new_2", "new_1", "new_0");
            assertThat(store.events("new_1", 0, 10)).extracting(TaskEvent::seq).containsExactly(1L);
            store.delete("new_2");
            assertThat(store.countByStatus()).isEqualTo(recount(db));
        }
        // created_hw is the running maximum of created_at along the key, for old and new rows alike
        assertThat(SchemaTest.query(db, "SELECT count(*) FROM tasks t WHERE created_hw IS NOT "
                + "(SELECT max(p.created_at) FROM tasks p WHERE p.pk <= t.pk)")).containsExactly("0");
        assertThat(SchemaTest.query(db, "SELECT max(version) FROM schema_version")).containsExactly("4");
        // integrity_check also compares the title index with the rows
        assertThat(SchemaTest.query(db, "PRAGMA integrity_check")).containsExactly("ok");
    }
}
