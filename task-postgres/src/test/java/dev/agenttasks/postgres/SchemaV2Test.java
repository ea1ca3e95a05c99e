package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.Task;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Schema version 2: status counts kept by triggers (and folded), the pg_trgm title index, and the migration of
 * a version 1 schema with tasks in it.
 */
class SchemaV2Test {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static HikariDataSource pool;

    @BeforeAll
    static void openPool() {
        pool = PgFixture.pool(PG.server(), 4);
    }

    @AfterAll
    static void closePool() {
        pool.close();
    }

    private static TaskRecord task(String id, TaskStatus status, String title) {
        Task t = new Task(id, "agent-a", null, status, title, null, Data.T0, null,
                status.isTerminal() ? Data.T0 : null, null, null, Map.of());
        return new TaskRecord(t, Map.of(), 0, null, null, 0);
    }

    private static List<String> strings(String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = pool.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static long count(String sql) throws SQLException {
        return Long.parseLong(strings(sql).get(0));
    }

    /** The counts computed the slow way, from the tasks themselves. */
    private static Map<TaskStatus, Long> scanned(String schema) throws SQLException {
        Map<TaskStatus, Long> out = new EnumMap<>(TaskStatus.class);
        for (String row : strings("SELECT status || ':' || count(*) FROM \"" + schema + "\".tasks GROUP BY status")) {
            String[] p = row.split(":");
            out.put(TaskStatus.valueOf(p[0]), Long.parseLong(p[1]));
        }
        return out;
    }

    @Test
    void aVersion1SchemaWithTasksIsMigratedAndItsCountsCarriedOver() throws Exception {
        String schema = PG.server().uniqueSchemaName("v1");
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA \"" + schema + "\"");
            s.execute("SET search_path TO \"" + schema + "\"");
            s.execute(Migrations.VERSION_TABLE_DDL);
            for (String stmt : Migrations.statements(1)) {
                s.execute(stmt);
            }
            s.execute("INSERT INTO schema_version VALUES (1, 'init', 0)");
            s.execute("INSERT INTO tasks (id, agent_id, status, title, title_lower, created_at, metadata, options, "
                    + "timeout_millis) SELECT 't' || i, 'a', CASE WHEN i % 10 = 0 THEN 'RUNNING' ELSE 'COMPLETED' END, "
                    + "'Old task ' || i, 'old task ' || i, i, '{}', '{}', 0 FROM generate_series(1, 50) AS i");
            s.execute("RESET search_path");
        }
        try (PostgresTaskStore store = PostgresTaskStore.builder(pool).schema(schema).build()) {
            assertThat(store.countByStatus())
                    .containsExactlyInAnyOrderEntriesOf(Map.of(TaskStatus.RUNNING, 5L, TaskStatus.COMPLETED, 45L));
            store.write(List.of(new StoreOp.InsertTask(task("new", TaskStatus.PENDING, "New task"))));
            assertThat(store.countByStatus()).containsEntry(TaskStatus.PENDING, 1L).containsEntry(TaskStatus.RUNNING, 5L);
            assertThat(store.list(TaskQuery.all().withTitleContains("TASK 4"), null, 100))
                    .extracting(TaskRecord::id).containsExactlyInAnyOrder("t4", "t40", "t41", "t42", "t43", "t44",
                            "t45", "t46", "t47", "t48", "t49");
        }
        assertThat(strings("SELECT version FROM \"" + schema + "\".schema_version ORDER BY version"))
                .containsExactly("1", "2", "3");
        assertThat(strings("SELECT indexname FROM pg_indexes WHERE schemaname = '" + schema + "'"))
                .contains("tasks_title_trgm_idx");
    }

    @Test
    void countsFollowInsertsUpdatesAndDeletesAndAreFolded() throws Exception {
        String schema = PG.server().uniqueSchemaName("counts");
        try (PostgresTaskStore store = PostgresTaskStore.builder(pool).schema(schema).build()) {
            for (int i = 0; i < 80; i++) {
                store.write(List.of(new StoreOp.InsertTask(task("t" + i, TaskStatus.PENDING, "Task " + i))));
            }
            for (int i = 0; i < 30; i++) {
                store.write(List.of(new StoreOp.UpdateTask(task("t" + i, TaskStatus.RUNNING, "Task " + i),
                        TaskStatus.PENDING)));
            }
            for (int i = 0; i < 10; i++) {
                store.write(List.of(new StoreOp.UpdateTask(task("t" + i, TaskStatus.FAILED, "Task " + i),
                        TaskStatus.RUNNING)));
            }
            assertThat(store.delete("t0")).isTrue();
            assertThat(store.delete("t50")).isTrue();
            // 80 + 30 + 10 + 2 delta rows so far: over the fold threshold
            assertThat(count("SELECT count(*) FROM \"" + schema + "\".task_counts")).isGreaterThan(64);
            Map<TaskStatus, Long> expected = Map.of(TaskStatus.PENDING, 49L, TaskStatus.RUNNING, 20L,
                    TaskStatus.FAILED, 9L);
            assertThat(store.countByStatus()).containsExactlyInAnyOrderEntriesOf(expected);
            assertThat(scanned(schema)).containsExactlyInAnyOrderEntriesOf(expected);
            // the count folded the deltas: one row per status left, and the counts unchanged
            assertThat(count("SELECT count(*) FROM \"" + schema + "\".task_counts")).isEqualTo(3);
            assertThat(store.countByStatus()).containsExactlyInAnyOrderEntriesOf(expected);
            // a status whose tasks are all gone leaves no entry, as with a count over the tasks
            for (int i = 1; i < 10; i++) {
                assertThat(store.delete("t" + i)).isTrue();
            }
            assertThat(store.countByStatus()).doesNotContainKey(TaskStatus.FAILED);
        }
    }

    @Test
    void theTitleSearchMatchesLiterallyAndCanUseTheTrigramIndex() throws Exception {
        String schema = PG.server().uniqueSchemaName("trgm");
        try (PostgresTaskStore store = PostgresTaskStore.builder(pool).schema(schema).build()) {
            store.write(List.of(
                    new StoreOp.InsertTask(task("a", TaskStatus.PENDING, "Raise coverage to 50%_now")),
                    new StoreOp.InsertTask(task("b", TaskStatus.PENDING, "Raise coverage to 50 percent")),
                    new StoreOp.InsertTask(task("c", TaskStatus.PENDING, "Path C:\\tmp\\x")),
                    new StoreOp.InsertTask(task("d", TaskStatus.PENDING, "Path C:/tmp/x"))));
            assertThat(store.list(TaskQuery.all().withTitleContains("50%_"), null, 10))
                    .extracting(TaskRecord::id).containsExactly("a");
            assertThat(store.list(TaskQuery.all().withTitleContains("50%"), null, 10))
                    .extracting(TaskRecord::id).containsExactly("a");
            assertThat(store.list(TaskQuery.all().withTitleContains("c:\\tmp"), null, 10))
                    .extracting(TaskRecord::id).containsExactly("c");
            assertThat(store.list(TaskQuery.all().withTitleContains("RAISE"), null, 10))
                    .extracting(TaskRecord::id).containsExactlyInAnyOrder("a", "b");
        }
        // with sequential scans priced out, the planner answers the store's predicate from the trigram index
        List<String> plan = new ArrayList<>();
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("SET LOCAL enable_seqscan = off");
            try (ResultSet rs = s.executeQuery("EXPLAIN SELECT id FROM \"" + schema
                    + "\".tasks t WHERE t.title_lower LIKE '%coverage%'")) {
                while (rs.next()) {
                    plan.add(rs.getString(1));
                }
            }
            c.rollback();
        }
        assertThat(String.join("\n", plan)).contains("tasks_title_trgm_idx");
    }

    @Test
    void likePatternsEscapeTheWildcards() {
        assertThat(Reads.likeContains("a%b_c\\d")).isEqualTo("%a\\%b\\_c\\\\d%");
        assertThat(Reads.likeContains("")).isEqualTo("%%");
    }

    /** A database of its own (no pg_trgm in it yet); dropped after {@code body}. */
    private static void inFreshDatabase(SqlBody body) throws Exception {
        String db = PG.server().uniqueSchemaName("trgmdb");
        try (Connection c = PG.server().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        }
        try {
            body.run(PG.server().jdbcUrl().replaceFirst("/[^/?]*(\\?.*)?$", "/" + db), db);
        } finally {
            try (Connection c = PG.server().connect(); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            }
        }
    }

    interface SqlBody {
        void run(String url, String db) throws Exception;
    }

    private static boolean hasTitleIndex(Connection c, String schema) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_indexes "
                + "WHERE schemaname = '" + schema + "' AND indexname = 'tasks_title_trgm_idx'")) {
            rs.next();
            return rs.getInt(1) == 1;
        }
    }

    @Test
    void storesMigratingSeveralSchemasAtOnceAllGetTheTitleIndex() throws Exception {
        inFreshDatabase((url, db) -> {
            int stores = 4;
            java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(stores);
            java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
            List<java.util.concurrent.Future<?>> opened = new ArrayList<>();
            try {
                for (int i = 0; i < stores; i++) {
                    String schema = "s" + i;
                    opened.add(threads.submit(() -> {
                        go.await();
                        PostgresTaskStore.builder(url, PG.server().user(), PG.server().password()).schema(schema)
                                .build().close();
                        return null;
                    }));
                }
                go.countDown();
                for (java.util.concurrent.Future<?> f : opened) {
                    f.get(60, java.util.concurrent.TimeUnit.SECONDS);
                }
            } finally {
                threads.shutdownNow();
            }
            try (Connection c = java.sql.DriverManager.getConnection(url, PG.server().user(), PG.server().password())) {
                for (int i = 0; i < stores; i++) {
                    assertThat(hasTitleIndex(c, "s" + i)).as("schema s%d", i).isTrue();
                }
            }
        });
    }

    @Test
    void aRoleThatCannotCreateTheExtensionGetsAWorkingStoreWithoutTheIndex() throws Exception {
        inFreshDatabase((url, db) -> {
            String role = db + "_app";
            try (Connection c = PG.server().connect(); Statement s = c.createStatement()) {
                s.execute("CREATE ROLE " + role + " LOGIN PASSWORD 'pw'");
                // no CREATE on the database (which a trusted extension needs), only a schema of its own
                s.execute("GRANT CONNECT ON DATABASE " + db + " TO " + role);
            }
            try {
                try (Connection c = java.sql.DriverManager.getConnection(url, PG.server().user(), PG.server().password());
                     Statement s = c.createStatement()) {
                    s.execute("CREATE SCHEMA app AUTHORIZATION " + role);
                }
                try (PostgresTaskStore store = PostgresTaskStore.builder(url, role, "pw").schema("app").build()) {
                    store.write(List.of(new StoreOp.InsertTask(task("a", TaskStatus.RUNNING, "Find 50%_ here")),
                            new StoreOp.InsertTask(task("b", TaskStatus.PENDING, "Find 50 here"))));
                    assertThat(store.list(TaskQuery.all().withTitleContains("50%_"), null, 10))
                            .extracting(TaskRecord::id).containsExactly("a");
                    assertThat(store.countByStatus()).containsExactlyInAnyOrderEntriesOf(
                            Map.of(TaskStatus.RUNNING, 1L, TaskStatus.PENDING, 1L));
                }
                try (Connection c = java.sql.DriverManager.getConnection(url, PG.server().user(), PG.server().password())) {
                    assertThat(hasTitleIndex(c, "app")).isFalse();
                    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                            "SELECT max(version) FROM app.schema_version")) {
                        rs.next();
                        assertThat(rs.getInt(1)).isEqualTo(PostgresTaskStore.SCHEMA_VERSION);
                    }
                }
            } finally {
                try (Connection c = PG.server().connect(); Statement s = c.createStatement()) {
                    s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
                    s.execute("DROP ROLE IF EXISTS " + role);
                }
            }
        });
    }
}
