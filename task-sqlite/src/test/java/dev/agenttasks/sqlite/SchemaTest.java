package dev.agenttasks.sqlite;

import dev.agenttasks.TaskStoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Opening: migrations, idempotence, and refusing files this store must not touch. */
class SchemaTest {

    @TempDir
    Path dir;

    @Test
    void newFileGetsEveryMigrationOnceAndReopeningIsANoOp() throws Exception {
        Path db = dir.resolve("sub/dir/tasks.db");
        SqliteTaskStore.open(db).close();
        SqliteTaskStore.open(db).close();

        assertThat(query(db, "SELECT version, description FROM schema_version ORDER BY version"))
                .containsExactly("1 init", "2 compact events and indexed counts", "3 hosts",
                        "4 task upkeep without triggers");
        assertThat(query(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                + "AND name NOT LIKE 'tasks_title_%' ORDER BY name"))
                .containsExactly("events", "hosts", "idempotency_keys", "messages", "requests", "schema_version",
                        "task_counts", "tasks", "tasks_title");
        assertThat(query(db, "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%' "
                + "ORDER BY name")).contains("idx_tasks_agent", "idx_tasks_created", "idx_tasks_hw",
                "idx_tasks_status");
        assertThat(query(db, "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")).containsExactly(
                "tasks_count_delete", "tasks_events_delete", "tasks_title_delete", "tasks_title_update");
        // a new file gets the large pages from its first write
        assertThat(query(db, "PRAGMA page_size")).containsExactly(String.valueOf(SqliteTaskStore.PAGE_SIZE));
        assertThat(query(db, "PRAGMA journal_mode")).containsExactly("wal");
    }

    @Test
    void everyMigrationFileOnTheClassPathIsListed() throws Exception {
        Path folder = Path.of(SchemaTest.class.getResource("/dev/agenttasks/sqlite/migrations").toURI());
        List<String> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(folder)) {
            s.forEach(p -> files.add(p.getFileName().toString()));
        }
        assertThat(files).containsExactlyInAnyOrderElementsOf(Migrations.FILES);
        for (int v = 1; v <= Migrations.LATEST; v++) {
            assertThat(Migrations.FILES.get(v - 1)).startsWith("V" + v + "__");
            assertThat(Migrations.statements(v)).isNotEmpty();
        }
        // the trigger bodies stay whole: each statement is one complete SQL statement
        List<String> v2 = Migrations.statements(2);
        assertThat(v2).filteredOn(st -> st.startsWith("CREATE TRIGGER")).hasSize(8)
                .allSatisfy(st -> assertThat(st).contains("BEGIN").endsWith("END;"));
        assertThat(v2).noneSatisfy(st -> assertThat(st).startsWith("END"));
    }

    @Test
    void aTextFileIsRefusedAndLeftUntouched() throws Exception {
        Path file = dir.resolve("notes.db");
        String text = "these are my notes, not a database\n".repeat(20);
        Files.writeString(file, text);

        assertThatThrownBy(() -> SqliteTaskStore.open(file))
                .isInstanceOfSatisfying(NotASqliteDatabaseException.class,
                        e -> assertThat(e.path()).isEqualTo(file.toAbsolutePath()));

        assertThat(Files.readString(file)).isEqualTo(text);
        assertThat(siblings()).containsExactly("notes.db");
    }

    @Test
    void aShortFileAndADirectoryAreRefused() throws Exception {
        Path small = dir.resolve("small.db");
        Files.write(small, new byte[] {1, 2, 3});
        assertThatThrownBy(() -> SqliteTaskStore.open(small)).isInstanceOf(NotASqliteDatabaseException.class);
        assertThat(Files.readAllBytes(small)).containsExactly(1, 2, 3);

        Path folder = Files.createDirectory(dir.resolve("folder.db"));
        assertThatThrownBy(() -> SqliteTaskStore.open(folder)).isInstanceOf(NotASqliteDatabaseException.class);
    }

    @Test
    void aDatabaseOfANewerSchemaIsRefusedAndLeftUntouched() throws Exception {
        Path db = dir.resolve("future.db");
        SqliteTaskStore.open(db).close();
        int future = SqliteTaskStore.SCHEMA_VERSION + 1;
        exec(db, "INSERT INTO schema_version (version, description, applied_at) VALUES (" + future + ", 'x', 0)");
        byte[] before = Files.readAllBytes(db);
        List<String> filesBefore = siblings();

        assertThatThrownBy(() -> SqliteTaskStore.open(db))
                .isInstanceOfSatisfying(SchemaVersionException.class, e -> {
                    assertThat(e.foundVersion()).isEqualTo(future);
                    assertThat(e.supportedVersion()).isEqualTo(SqliteTaskStore.SCHEMA_VERSION);
                    assertThat(e).hasMessageContaining("newer");
                })
                .isInstanceOf(TaskStoreException.class);

        assertThat(Files.readAllBytes(db)).isEqualTo(before);
        assertThat(siblings()).isEqualTo(filesBefore);
    }

    @Test
    void aDatabaseOfAnotherApplicationIsRefusedAndLeftUntouched() throws Exception {
        Path db = dir.resolve("other.db");
        exec(db, "CREATE TABLE tasks (id INTEGER PRIMARY KEY, what TEXT)");
        byte[] before = Files.readAllBytes(db);

        assertThatThrownBy(() -> SqliteTaskStore.open(db))
                .isInstanceOfSatisfying(SchemaVersionException.class,
                        e -> assertThat(e.foundVersion()).isEqualTo(SchemaVersionException.FOREIGN_DATABASE))
                .hasMessageContaining("another application");

        assertThat(Files.readAllBytes(db)).isEqualTo(before);
        assertThat(query(db, "PRAGMA journal_mode")).containsExactly("delete");
    }

    @Test
    void anEmptyFileBecomesAStore() throws Exception {
        Path db = Files.createFile(dir.resolve("empty.db"));
        SqliteTaskStore.open(db).close();
        assertThat(query(db, "SELECT max(version) FROM schema_version"))
                .containsExactly(String.valueOf(SqliteTaskStore.SCHEMA_VERSION));
    }

    @Test
    void builderRejectsBadSettings() {
        Path db = dir.resolve("x.db");
        assertThatThrownBy(() -> SqliteTaskStore.builder(db).readConnections(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("readConnections");
        assertThatThrownBy(() -> SqliteTaskStore.builder(db).busyTimeout(java.time.Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("busyTimeout");
        assertThatThrownBy(() -> SqliteTaskStore.builder(null)).isInstanceOf(NullPointerException.class);
        assertThat(Files.exists(db)).isFalse();
    }

    @Test
    void settingsReachTheWriterConnection() {
        try (SqliteTaskStore store = SqliteTaskStore.builder(dir.resolve("full.db"))
                .durability(Durability.FULL).build()) {
            assertThat(store.durability()).isEqualTo(Durability.FULL);
            assertThat(store.writerPragma("synchronous")).isEqualTo("2");
            assertThat(store.writerPragma("journal_mode")).isEqualToIgnoringCase("wal");
            assertThat(store.writerPragma("foreign_keys")).isEqualTo("1");
        }
        try (SqliteTaskStore store = SqliteTaskStore.builder(dir.resolve("normal.db"))
                .busyTimeout(java.time.Duration.ofMillis(1234)).build()) {
            assertThat(store.writerPragma("synchronous")).isEqualTo("1");
            assertThat(store.writerPragma("busy_timeout")).isEqualTo("1234");
            assertThat(store.writerPragma("journal_size_limit")).isEqualTo(String.valueOf(64 * 1024 * 1024));
        }
    }

    private List<String> siblings() throws Exception {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> out.add(p.getFileName().toString()));
        }
        out.sort(null);
        return out;
    }

    static void exec(Path db, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    static List<String> query(Path db, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            int cols = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder row = new StringBuilder();
                for (int i = 1; i <= cols; i++) {
                    if (i > 1) {
                        row.append(' ');
                    }
                    row.append(rs.getString(i));
                }
                out.add(row.toString());
            }
        }
        return out;
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
