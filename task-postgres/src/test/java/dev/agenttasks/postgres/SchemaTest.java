package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
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
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Migrations: applied once, idempotent, refusing newer or foreign layouts without touching them; schema option. */
class SchemaTest {

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

    private static String fresh() {
        return PG.server().uniqueSchemaName("schema");
    }

    private static void exec(String... sql) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
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

    private static List<String> tables(String schema) throws SQLException {
        return strings("SELECT table_name FROM information_schema.tables WHERE table_schema = '" + schema
                + "' ORDER BY table_name");
    }

    @Test
    void openingAppliesTheMigrationsOnceAndReopeningIsANoOp() throws Exception {
        String schema = fresh();
        PostgresTaskStore.builder(pool).schema(schema).build().close();
        try (PostgresTaskStore store = PostgresTaskStore.builder(pool).schema(schema).build()) {
            store.write(List.of(new StoreOp.InsertTask(Data.task("t1", TaskStatus.PENDING, null))));
        }
        try (PostgresTaskStore store = PostgresTaskStore.builder(pool).schema(schema).build()) {
            assertThat(store.task("t1")).isPresent();
        }
        assertThat(tables(schema)).containsExactly("events", "hosts", "idempotency_keys", "messages", "requests",
                "schema_version", "task_counts", "tasks");
        assertThat(strings("SELECT version || ':' || description FROM \"" + schema + "\".schema_version"
                + " ORDER BY version")).containsExactly("1:init", "2:status counts and title trigrams",
                "3:several hosts");
    }

    @Test
    void aNewerSchemaIsRefusedAndLeftUntouched() throws Exception {
        String schema = fresh();
        try (PostgresTaskStore store = PostgresTaskStore.builder(pool).schema(schema).build()) {
            store.write(List.of(new StoreOp.InsertTask(Data.task("t1", TaskStatus.PENDING, null))));
        }
        exec("INSERT INTO \"" + schema + "\".schema_version VALUES (99, 'from the future', 0)");

        assertThatThrownBy(() -> PostgresTaskStore.builder(pool).schema(schema).build())
                .isInstanceOfSatisfying(PostgresSchemaException.class, e -> {
                    assertThat(e.foundVersion()).isEqualTo(99);
                    assertThat(e.supportedVersion()).isEqualTo(PostgresTaskStore.SCHEMA_VERSION);
                    assertThat(e.schema()).isEqualTo(schema);
                    assertThat(e).hasMessageContaining("newer");
                });
        assertThat(strings("SELECT version FROM \"" + schema + "\".schema_version ORDER BY version"))
                .containsExactly("1", "2", "3", "99");
        assertThat(strings("SELECT id FROM \"" + schema + "\".tasks")).containsExactly("t1");
    }

    @Test
    void anotherApplicationsTablesAreRefusedAndLeftUntouched() throws Exception {
        String schema = fresh();
        exec("CREATE SCHEMA \"" + schema + "\"", "CREATE TABLE \"" + schema + "\".tasks (x int)",
                "INSERT INTO \"" + schema + "\".tasks VALUES (7)");

        assertThatThrownBy(() -> PostgresTaskStore.builder(pool).schema(schema).build())
                .isInstanceOfSatisfying(PostgresSchemaException.class, e -> {
                    assertThat(e.foundVersion()).isEqualTo(PostgresSchemaException.FOREIGN_LAYOUT);
                    assertThat(e).hasMessageContaining("another application");
                });
        assertThat(tables(schema)).containsExactly("tasks");
        assertThat(strings("SELECT x FROM \"" + schema + "\".tasks")).containsExactly("7");
    }

    @Test
    void aForeignSchemaVersionTableIsRefused() throws Exception {
        String schema = fresh();
        exec("CREATE SCHEMA \"" + schema + "\"",
                "CREATE TABLE \"" + schema + "\".schema_version (installed_rank int, script text)");

        assertThatThrownBy(() -> PostgresTaskStore.builder(pool).schema(schema).build())
                .isInstanceOfSatisfying(PostgresSchemaException.class,
                        e -> assertThat(e.foundVersion()).isEqualTo(PostgresSchemaException.FOREIGN_LAYOUT));
        assertThat(tables(schema)).containsExactly("schema_version");
    }

    @Test
    void otherTablesInTheSchemaAreLeftAlone() throws Exception {
        String schema = fresh();
        exec("CREATE SCHEMA \"" + schema + "\"", "CREATE TABLE \"" + schema + "\".app_users (id int)");
        PostgresTaskStore.builder(pool).schema(schema).build().close();
        assertThat(tables(schema)).containsExactly("app_users", "events", "hosts", "idempotency_keys", "messages", "requests",
                "schema_version", "task_counts",
                "tasks");
    }

    @Test
    void storesInTwoSchemasDoNotSeeEachOther() {
        String a = fresh();
        String b = fresh();
        try (PostgresTaskStore sa = PostgresTaskStore.builder(pool).schema(a).build();
             PostgresTaskStore sb = PostgresTaskStore.builder(pool).schema(b).build()) {
            sa.write(List.of(new StoreOp.InsertTask(Data.task("only-a", TaskStatus.PENDING, null))));
            sb.write(List.of(new StoreOp.InsertTask(Data.task("only-b", TaskStatus.PENDING, null))));
            assertThat(sa.list(TaskQuery.all(), null, 10)).extracting(r -> r.id()).containsExactly("only-a");
            assertThat(sb.list(TaskQuery.all(), null, 10)).extracting(r -> r.id()).containsExactly("only-b");
            assertThat(sa.schema()).isEqualTo(a);
        }
    }

    @Test
    void hostsOpeningAFreshSchemaTogetherMigrateItOnce() throws Exception {
        String schema = fresh();
        int hosts = 4;
        ExecutorService pool4 = Executors.newFixedThreadPool(hosts);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> opened = new ArrayList<>();
            for (int i = 0; i < hosts; i++) {
                opened.add(pool4.submit(() -> {
                    start.await();
                    PostgresTaskStore.builder(pool).schema(schema).build().close();
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : opened) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool4.shutdownNow();
        }
        assertThat(strings("SELECT version FROM \"" + schema + "\".schema_version ORDER BY version"))
                .containsExactly("1", "2", "3");
    }

    @Test
    void schemaNamesThatAreNotPlainIdentifiersAreRejected() {
        for (String bad : List.of("", "Upper", "has-dash", "x\"; DROP TABLE y; --", "1abc", "pg_catalog",
                "a".repeat(64))) {
            assertThatThrownBy(() -> PostgresTaskStore.builder(pool).schema(bad))
                    .as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> PostgresTaskStore.builder("jdbc:mysql://x/y", "u", "p"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theUrlFactoryOpensAWorkingStore() {
        String schema = fresh();
        try (PostgresTaskStore store = PostgresTaskStore.builder(PG.server().jdbcUrl(), PG.server().user(),
                PG.server().password()).schema(schema).build()) {
            store.write(List.of(new StoreOp.InsertTask(Data.task("t1", TaskStatus.PENDING, null))));
            assertThat(store.task("t1")).isPresent();
        }
    }
}
