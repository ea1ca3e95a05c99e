package dev.agenttasks.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.Task;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.postgres.PostgresTaskStore;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import dev.agenttasks.testkit.postgres.PostgresServer;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issue 11 point 9 on PostgreSQL ({@code only=pgqueries}): the cost of {@code countByStatus()} (what the running
 * count calls) and of a title search at N kept tasks, schema version 2 (the store's own calls: kept counts, pg_trgm
 * index) against the version 1 SQL on the same table in the same run ({@code count(*) GROUP BY status} over the
 * tasks; the {@code strpos} filter newest first); and the write cost of version 2's triggers and title index
 * (store batches of insert + 2 updates per task) against the same store with them switched off (the version 1
 * write path). Sizes: {@code -Dbench.pgqueries.sizes=1000,100000,1000000} (quick: 1000).
 */
final class PgQueryBench {
    private static final String[] PHRASES = {"fix the login bug", "write release notes", "refactor the parser",
        "update dependencies", "review pull request", "draft the roadmap", "answer support mail"};
    private final Env env;
    private PostgresServer server;
    private HikariDataSource pool;

    PgQueryBench(Env env) {
        this.env = env;
    }

    void run() throws Exception {
        server = new PostgresExtension().server();
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(server.jdbcUrl());
        c.setUsername(server.user());
        c.setPassword(server.password());
        c.setMaximumPoolSize(4);
        pool = new HikariDataSource(c);
        try {
            String sizes = System.getProperty("bench.pgqueries.sizes", env.quick ? "1000" : "1000,100000,1000000");
            for (String n : sizes.split(",")) {
                queries(Integer.parseInt(n.trim()));
            }
            writes(env.size(3_000, 300), env.size(5, 1));
        } finally {
            pool.close();
        }
    }

    private void exec(String sql) throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private String trigramSchema() throws SQLException {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                     + "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private void queries(int n) throws Exception {
        String schema = server.uniqueSchemaName("pgq");
        String s = '"' + schema + '"';
        try (PostgresTaskStore store = PostgresTaskStore.builder(pool).schema(schema).build()) {
            String ext = trigramSchema();
            long t0 = System.nanoTime();
            // bulk load: index built after the rows (as a migration of an existing table would)
            exec("DROP INDEX IF EXISTS " + s + ".tasks_title_trgm_idx");
            exec("INSERT INTO " + s + ".tasks (id, agent_id, status, title, title_lower, created_at, metadata, options, "
                    + "timeout_millis) SELECT 'task_' || lpad(i::text, 8, '0'), 'agent', CASE WHEN i > " + n + " - 15 "
                    + "THEN 'RUNNING' WHEN i > " + n + " - 20 THEN 'PENDING' ELSE 'COMPLETED' END, "
                    + "(ARRAY['" + String.join("','", PHRASES) + "'])[1 + i % 7] || ' #' || i, "
                    + "(ARRAY['" + String.join("','", PHRASES) + "'])[1 + i % 7] || ' #' || i, "
                    + "i::bigint * 1000000, '{}', '{}', 0 FROM generate_series(1, " + n + ") AS i");
            if (ext != null) {
                exec("CREATE INDEX tasks_title_trgm_idx ON " + s + ".tasks USING gin (title_lower \"" + ext
                        + "\".gin_trgm_ops)");
            }
            exec("ANALYZE " + s + ".tasks");
            Env.log("== PostgreSQL queries at %,d tasks (loaded in %.1f s, trigram index: %s)", n,
                    (System.nanoTime() - t0) / 1e9, ext != null);
            String v1Count = "SELECT status, count(*) FROM " + s + ".tasks GROUP BY status";
            String v1Search = "SELECT * FROM " + s + ".tasks t WHERE strpos(t.title_lower, ?) > 0 "
                    + "ORDER BY t.created_at DESC, t.id DESC LIMIT 50";
            String rare = "#" + (n / 2 + 7);
            String common = "login bug";
            Samples count2 = new Samples();
            Samples count1 = new Samples();
            Samples rare2 = new Samples();
            Samples rare1 = new Samples();
            Samples common2 = new Samples();
            Samples common1 = new Samples();
            int rounds = env.size(5, 2);
            for (int r = 0; r <= rounds; r++) {
                boolean warm = r == 0;
                add(count2, warm, perCall(() -> check(store.countByStatus().get(TaskStatus.RUNNING) == 15)));
                add(count1, warm, perCall(() -> raw(v1Count, null)));
                add(rare2, warm, perCall(() -> check(store.list(TaskQuery.all().withTitleContains(rare), null, 50)
                        .size() == 1)));
                add(rare1, warm, perCall(() -> raw(v1Search, rare)));
                add(common2, warm, perCall(() -> check(store.list(TaskQuery.all().withTitleContains(common), null,
                        50).size() == Math.min(50, n / 7))));
                add(common1, warm, perCall(() -> raw(v1Search, common)));
            }
            row("countByStatus() (the running count)", n, count2, count1);
            row("title search, 1 match (" + rare + ")", n, rare2, rare1);
            row("title search, 1 in 7 match (" + common + ")", n, common2, common1);
        } finally {
            server.dropSchema(schema);
        }
    }

    private static void add(Samples s, boolean warmUp, double v) {
        if (!warmUp) {
            s.add(v);
        }
    }

    private void row(String what, int n, Samples v2, Samples v1) {
        Env.log("  %s at %,d: v2 %.0f µs, v1 %.0f µs", what, n, v2.median(), v1.median());
        env.report.row(String.format(Locale.ROOT, "PostgreSQL %s, %,d tasks", what, n),
                String.format(Locale.ROOT, "%,.0f µs", v2.median()),
                String.format(Locale.ROOT, "v1 SQL, same table: %,.0f µs", v1.median()),
                Report.ratio(v2.median() / v1.median()), n >= 1_000_000 ? "<= 2 ms" : null,
                n >= 1_000_000 ? v2.median() <= 2_000 : null);
    }

    private static void check(boolean ok) {
        if (!ok) {
            throw new IllegalStateException("unexpected query result");
        }
    }

    private void raw(String sql, String needle) {
        try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            if (needle != null) {
                ps.setString(1, needle);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rs.getString(1);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    interface Call {
        void run() throws Exception;
    }

    /** @return µs per call, calling for at least 200 ms (and at least 3 calls) */
    private static double perCall(Call call) throws Exception {
        long start = System.nanoTime();
        int calls = 0;
        do {
            call.run();
            calls++;
        } while (System.nanoTime() - start < 200_000_000L || calls < 3);
        return (System.nanoTime() - start) / 1e3 / calls;
    }

    // ------------------------------------------------------------------------------------------ writes

    private static TaskRecord task(String id, TaskStatus status, int i) {
        Instant t = Instant.ofEpochSecond(1_700_000_000L + i);
        Task task = new Task(id, "agent", null, status, PHRASES[i % 7] + " #" + i, null, t,
                status == TaskStatus.PENDING ? null : t, status.isTerminal() ? t : null, null, null, Map.of());
        return new TaskRecord(task, Map.of(), 0, null, null, 0);
    }

    /** tasks/s through store.write: per batch of 10 tasks, one batch inserting, one starting, one finishing. */
    private double writeRound(boolean v1, int tasks) throws Exception {
        String schema = server.uniqueSchemaName(v1 ? "pgw1" : "pgw2");
        String s = '"' + schema + '"';
        try (PostgresTaskStore store = PostgresTaskStore.builder(pool).schema(schema).build()) {
            if (v1) {
                exec("ALTER TABLE " + s + ".tasks DISABLE TRIGGER USER");
                exec("DROP INDEX IF EXISTS " + s + ".tasks_title_trgm_idx");
            }
            long t0 = System.nanoTime();
            for (int b = 0; b < tasks; b += 10) {
                List<StoreOp> insert = new ArrayList<>();
                List<StoreOp> start = new ArrayList<>();
                List<StoreOp> finish = new ArrayList<>();
                for (int i = b; i < Math.min(tasks, b + 10); i++) {
                    String id = "task_" + i;
                    insert.add(new StoreOp.InsertTask(task(id, TaskStatus.PENDING, i)));
                    start.add(new StoreOp.UpdateTask(task(id, TaskStatus.RUNNING, i), TaskStatus.PENDING));
                    finish.add(new StoreOp.UpdateTask(task(id, TaskStatus.COMPLETED, i), TaskStatus.RUNNING));
                }
                store.write(insert);
                store.write(start);
                store.write(finish);
            }
            double rate = tasks / ((System.nanoTime() - t0) / 1e9);
            if (!v1) {
                check(store.countByStatus().get(TaskStatus.COMPLETED) == tasks);
            }
            return rate;
        } finally {
            server.dropSchema(schema);
        }
    }

    private void writes(int tasks, int rounds) throws Exception {
        Env.log("== PostgreSQL write cost of schema v2 (%,d tasks, 3 batches of 10 per 10 tasks)", tasks);
        writeRound(false, tasks);
        writeRound(true, tasks);
        Samples v2 = new Samples();
        Samples v1 = new Samples();
        for (int r = 0; r < rounds; r++) {
            v2.add(writeRound(false, tasks));
            v1.add(writeRound(true, tasks));
            Env.log("  round %d: v2 %,.0f tasks/s, v1 write path %,.0f tasks/s", r + 1, v2.last(), v1.last());
        }
        env.report.row("PostgreSQL store writes with v2's count triggers and title index", Report.fmt(v2.median(),
                "tasks/s"), "same store, triggers disabled and index dropped (v1 write path): "
                + Report.fmt(v1.median(), "tasks/s"), Report.ratio(v2.median() / v1.median()), null, null);
        env.report.note(String.format(Locale.ROOT, "PostgreSQL write rounds (tasks/s): v2 %s; v1 path %s",
                v2.rounds("%,.0f"), v1.rounds("%,.0f")));
    }
}
