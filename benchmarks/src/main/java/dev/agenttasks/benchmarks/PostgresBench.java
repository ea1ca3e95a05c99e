package dev.agenttasks.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.Task;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.postgres.PostgresTaskStore;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.TurnResult;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import dev.agenttasks.testkit.postgres.PostgresServer;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The PostgreSQL store against its baselines on the same server in the same run: event throughput (1 task, 1
 * subscriber) against raw pgjdbc batched inserts of the same rows (the ceiling; as {@code text} and as
 * {@code jsonb}) and against the SQLite store; task throughput (tasks x 3 events, limit 64) against the SQLite store
 * and raw pgjdbc with one transaction per task (insert + 2 updates). The server is the testkit's: an embedded
 * PostgreSQL (fsync off, as the SQLite store's default NORMAL durability does not sync each commit either), or the
 * one named by {@code AGENT_TASKS_PG_URL}.
 */
final class PostgresBench {
    private final Env env;
    private PostgresServer server;
    private HikariDataSource pool;
    private HikariDataSource rawPool;

    PostgresBench(Env env) {
        this.env = env;
    }

    private HikariDataSource pool(boolean rewriteBatchedInserts, int size) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(server.jdbcUrl());
        c.setUsername(server.user());
        c.setPassword(server.password());
        c.setMaximumPoolSize(size);
        if (rewriteBatchedInserts) {
            c.addDataSourceProperty("reWriteBatchedInserts", "true");
        }
        return new HikariDataSource(c);
    }

    void run() throws Exception {
        server = new PostgresExtension().server();
        String version;
        pool = pool(false, 8);
        rawPool = pool(true, 2);
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
             var rs = s.executeQuery("SHOW server_version")) {
            rs.next();
            version = rs.getString(1);
        }
        try {
            Env.log("== PostgreSQL %s (%s)", version, server);
            events();
            tasks();
            if (!Boolean.getBoolean("bench.pg.skipJobRunr")) {
                jobRunr();
            }
            if (!Boolean.getBoolean("bench.pg.skipDbScheduler")) {
                dbScheduler();
            }
            env.report.note("PostgreSQL rows: " + server + ", version " + version + "; store pool 8 connections "
                    + "(HikariCP), raw baselines reWriteBatchedInserts=true");
        } finally {
            pool.close();
            rawPool.close();
        }
    }

    private PostgresTaskStore pgStore(String schema) {
        return PostgresTaskStore.builder(pool).schema(schema).build();
    }

    // ------------------------------------------------------------------------------------------ events

    private void events() throws Exception {
        int events = env.size(100_000, 5_000);
        int rounds = env.size(3, 1);
        Env.log("== PostgreSQL event throughput: %,d events, %d rounds (+1 warm-up)", events, rounds);
        rawEvents(events, false);
        engineEvents(() -> pgStore(server.uniqueSchemaName("bench")), events);
        Samples pg = new Samples();
        Samples sqlite = new Samples();
        Samples rawText = new Samples();
        Samples rawJsonb = new Samples();
        for (int r = 0; r < rounds; r++) {
            rawText.add(rawEvents(events, false));
            rawJsonb.add(rawEvents(events, true));
            pg.add(engineEvents(() -> pgStore(server.uniqueSchemaName("bench")), events));
            sqlite.add(engineEvents(() -> Env.sqlite(env.newDb("pg-cmp")), events));
            env.deleteDbFiles();
            Env.log("  round %d: PG store %,.0f events/s, SQLite store %,.0f events/s, raw text %,.0f rows/s, "
                    + "raw jsonb %,.0f rows/s", r + 1, pg.last(), sqlite.last(), rawText.last(), rawJsonb.last());
        }
        double vsRaw = pg.median() / rawText.median();
        env.report.row("Event throughput (1 task, 1 subscriber, PostgreSQL store)", Report.fmt(pg.median(), "events/s"),
                "raw pgjdbc batched inserts, 1,000 rows/tx, data as text: " + Report.fmt(rawText.median(), "rows/s"),
                Report.ratio(vsRaw), ">= 0.8", vsRaw >= 0.8);
        env.report.row("Event throughput, PostgreSQL store vs SQLite store", Report.fmt(pg.median(), "events/s"),
                "SQLite store: " + Report.fmt(sqlite.median(), "events/s"), Report.ratio(pg.median() / sqlite.median()),
                null, null);
        env.report.row("Raw event inserts: data as jsonb vs text", Report.fmt(rawJsonb.median(), "rows/s"),
                "text: " + Report.fmt(rawText.median(), "rows/s"), Report.ratio(rawJsonb.median() / rawText.median()),
                null, null);
        env.report.note(String.format(Locale.ROOT, "PostgreSQL event throughput, %,d events per round: PG store %s events/s; "
                        + "SQLite store %s; raw text %s rows/s; raw jsonb %s rows/s", events, pg.rounds("%,.0f"),
                sqlite.rounds("%,.0f"), rawText.rounds("%,.0f"), rawJsonb.rounds("%,.0f")));
    }

    private double engineEvents(Supplier<TaskStore> stores, int events) throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        TaskStore store = stores.get();
        try (TaskManager tasks = Env.manager(store, Agents.runner(Agents.stream(gate, events))).build()) {
            Task task = tasks.create(TaskRequest.of("bench", "stream"));
            Subscribers.Counting s = new Subscribers.Counting();
            tasks.events(task.id()).subscribe(s);
            long start = System.nanoTime();
            gate.countDown();
            s.await(300);
            if (s.count < events) {
                throw new IllegalStateException("subscriber saw " + s.count + " of " + events + " events");
            }
            return events / ((s.completedAt - start) / 1e9);
        } finally {
            dropIfPostgres(store);
        }
    }

    private void dropIfPostgres(TaskStore store) {
        if (store instanceof PostgresTaskStore) {
            server.dropSchema(((PostgresTaskStore) store).schema());
        }
    }

    /** Raw pgjdbc: one task's event rows, 1,000 per transaction, JDBC batches rewritten to multi-row inserts. */
    private double rawEvents(int count, boolean jsonb) throws SQLException {
        String schema = server.uniqueSchemaName("raw");
        try (Connection c = rawPool.getConnection()) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE SCHEMA " + schema);
                s.execute("CREATE TABLE " + schema + ".events (task_id text COLLATE \"C\" NOT NULL, seq bigint NOT NULL, "
                        + "type text NOT NULL, data " + (jsonb ? "jsonb" : "text") + " NOT NULL, ts bigint NOT NULL, "
                        + "PRIMARY KEY (task_id, seq))");
            }
            c.setAutoCommit(false);
            long start = System.nanoTime();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + schema + ".events (task_id, seq, type, data, ts) "
                    + "VALUES (?, ?, ?, ?" + (jsonb ? "::jsonb" : "") + ", ?)")) {
                for (int i = 0; i < count; i++) {
                    ps.setString(1, "raw-task");
                    ps.setLong(2, i + 1);
                    ps.setString(3, Agents.TYPE);
                    ps.setString(4, Agents.payloadJson(i, System.nanoTime()));
                    ps.setLong(5, System.currentTimeMillis() * 1_000_000L);
                    ps.addBatch();
                    if ((i + 1) % 1000 == 0 || i == count - 1) {
                        ps.executeBatch();
                        c.commit();
                    }
                }
            }
            double rate = count / ((System.nanoTime() - start) / 1e9);
            c.setAutoCommit(true);
            return rate;
        } finally {
            server.dropSchema(schema);
        }
    }

    // ------------------------------------------------------------------------------------------ JobRunr

    private double lastPgTasks = Double.NaN;
    private int jobRunrDatabases;

    /** JobRunr 8.7.0 on the same server, a fresh database per round, batch enqueue, two worker counts. */
    private void jobRunr() throws Exception {
        int jobs = env.size(10_000, 500);
        int rounds = env.size(2, 1);
        int poll = TaskThroughputBench.jobRunrPollSeconds();
        Env.log("== JobRunr %s on PostgreSQL: %,d no-op jobs, batch enqueue from %d threads, poll %d s, %d rounds per "
                + "worker count", TaskThroughputBench.jobRunrVersion(), jobs, TaskThroughputBench.CREATORS, poll, rounds);
        double best = 0;
        int bestWorkers = 0;
        StringBuilder note = new StringBuilder();
        for (int workers : new int[] {16, 64}) {
            Samples s = new Samples();
            for (int r = 0; r < rounds; r++) {
                JobRunrBaseline.Result j = jobRunrRound(jobs, workers, poll);
                s.add(j.jobsPerSecond());
                Env.log("  %d workers, round %d: %,.0f jobs/s (%d succeeded%s)", workers, r + 1, j.jobsPerSecond(),
                        j.succeeded(), j.complete() ? "" : ", time-limited");
            }
            note.append(String.format(Locale.ROOT, "%s%d workers %s jobs/s", note.length() == 0 ? "" : "; ", workers,
                    s.rounds("%,.0f")));
            if (s.median() > best) {
                best = s.median();
                bestWorkers = workers;
            }
        }
        double ratio = lastPgTasks / best;
        env.report.row("Task throughput, PostgreSQL store vs JobRunr on the same PostgreSQL",
                Report.fmt(lastPgTasks, "tasks/s"), "JobRunr " + TaskThroughputBench.jobRunrVersion() + ", "
                        + String.format(Locale.ROOT, "%,d", jobs) + " no-op jobs, batch enqueue, best of 16/64 workers ("
                        + bestWorkers + "): " + Report.fmt(best, "jobs/s"), Report.ratio(ratio), ">= 5", ratio >= 5);
        env.report.note("JobRunr on PostgreSQL (poll " + poll + " s): " + note);
    }

    private void dbScheduler() throws Exception {
        int tasks = env.size(10_000, 500);
        int rounds = env.size(2, 1);
        Env.log("== db-scheduler 16.7.1 on PostgreSQL: %,d no-op one-time tasks, lock-and-fetch, %d rounds per thread "
                + "count", tasks, rounds);
        double best = 0;
        int bestThreads = 0;
        StringBuilder note = new StringBuilder();
        for (int threads : new int[] {10, 32, 64}) {
            Samples s = new Samples();
            for (int r = 0; r < rounds; r++) {
                DbSchedulerBaseline.Result d = dbSchedulerRound(tasks, threads);
                s.add(d.tasksPerSecond());
                Env.log("  %d threads, round %d: %,.0f tasks/s (%d executed%s)", threads, r + 1, d.tasksPerSecond(),
                        d.executed(), d.complete() ? "" : ", time-limited");
            }
            note.append(String.format(Locale.ROOT, "%s%d threads %s tasks/s", note.length() == 0 ? "" : "; ", threads,
                    s.rounds("%,.0f")));
            if (s.median() > best) {
                best = s.median();
                bestThreads = threads;
            }
        }
        env.report.row("Task throughput, PostgreSQL store vs db-scheduler on the same PostgreSQL",
                Report.fmt(lastPgTasks, "tasks/s"), "db-scheduler 16.7.1, " + String.format(Locale.ROOT, "%,d", tasks)
                        + " no-op one-time tasks, scheduleBatch, lock-and-fetch, best of 10/32/64 threads ("
                        + bestThreads + "): " + Report.fmt(best, "tasks/s"), Report.ratio(lastPgTasks / best), null, null);
        env.report.note("db-scheduler on PostgreSQL (lock-and-fetch 0.5/1.0, polling interval 1 s): " + note);
    }

    private DbSchedulerBaseline.Result dbSchedulerRound(int tasks, int threads) throws Exception {
        String db = "dbsched_" + (++jobRunrDatabases) + "_" + Long.toHexString(System.nanoTime());
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(server.jdbcUrl().replaceFirst("/[^/?]*(\\?.*)?$", "/" + db));
        config.setUsername(server.user());
        config.setPassword(server.password());
        config.setMaximumPoolSize(threads + 4);
        try (HikariDataSource ds = new HikariDataSource(config)) {
            return DbSchedulerBaseline.run(ds, tasks, threads, java.time.Duration.ofSeconds(env.size(180, 60)));
        } finally {
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            }
        }
    }

    private JobRunrBaseline.Result jobRunrRound(int jobs, int workers, int poll) throws Exception {
        String db = "jobrunr_" + (++jobRunrDatabases) + "_" + Long.toHexString(System.nanoTime());
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(server.jdbcUrl().replaceFirst("/[^/?]*(\\?.*)?$", "/" + db));
        config.setUsername(server.user());
        config.setPassword(server.password());
        config.setMaximumPoolSize(Math.min(workers, 32) + 4);
        try (HikariDataSource ds = new HikariDataSource(config)) {
            return JobRunrBaseline.runPostgres(ds, jobs, TaskThroughputBench.CREATORS, workers,
                    java.time.Duration.ofSeconds(poll), java.time.Duration.ofSeconds(env.size(180, 60)));
        } finally {
            try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            }
        }
    }

    // ------------------------------------------------------------------------------------------- tasks

    private void tasks() throws Exception {
        int count = env.size(10_000, 500);
        int rounds = env.size(3, 1);
        Env.log("== PostgreSQL task throughput: %,d tasks x 3 events, limit %d, %d creators, %d rounds (+1 warm-up)",
                count, TaskThroughputBench.MAX_CONCURRENT, TaskThroughputBench.CREATORS, rounds);
        engineTasks(() -> pgStore(server.uniqueSchemaName("bench")), Math.min(count, 2000));
        Samples pg = new Samples();
        Samples sqlite = new Samples();
        Samples raw = new Samples();
        for (int r = 0; r < rounds; r++) {
            raw.add(rawTasks(count));
            pg.add(engineTasks(() -> pgStore(server.uniqueSchemaName("bench")), count));
            String pgWrites = lastTaskWrites;
            sqlite.add(engineTasks(() -> Env.sqlite(env.newDb("pg-cmp")), count));
            Env.log("    PG store: %s; SQLite store: %s", pgWrites, lastTaskWrites);
            if (r == rounds - 1) {
                env.report.note("PostgreSQL task throughput, last round: PG store " + pgWrites + "; SQLite store "
                        + lastTaskWrites);
            }
            env.deleteDbFiles();
            Env.log("  round %d: PG store %,.0f tasks/s, SQLite store %,.0f tasks/s, raw PG 1 tx/task %,.0f tasks/s",
                    r + 1, pg.last(), sqlite.last(), raw.last());
        }
        lastPgTasks = pg.median();
        env.report.row("Task throughput (" + String.format(Locale.ROOT, "%,d", count) + " tasks x 3 events, limit 64, "
                        + "PostgreSQL store)", Report.fmt(pg.median(), "tasks/s"),
                "raw pgjdbc, 1 tx per task (insert + 2 updates), 1 thread: " + Report.fmt(raw.median(), "tasks/s"),
                Report.ratio(pg.median() / raw.median()), null, null);
        env.report.row("Task throughput, PostgreSQL store vs SQLite store", Report.fmt(pg.median(), "tasks/s"),
                "SQLite store: " + Report.fmt(sqlite.median(), "tasks/s"), Report.ratio(pg.median() / sqlite.median()),
                null, null);
        env.report.note(String.format(Locale.ROOT, "PostgreSQL task throughput, %,d tasks per round: PG store %s tasks/s; "
                        + "SQLite store %s; raw PG %s", count, pg.rounds("%,.0f"), sqlite.rounds("%,.0f"),
                raw.rounds("%,.0f")));
    }

    /** Where the last engine task round spent its time: store transactions and the writer's wall time in them. */
    private String lastTaskWrites = "";

    private double engineTasks(Supplier<TaskStore> stores, int count) throws Exception {
        TaskThroughputBench.Finished finished = new TaskThroughputBench.Finished(count);
        TaskStore inner = stores.get();
        CountingStore store = new CountingStore(inner);
        try (TaskManager tasks = Env.manager(store, Agents.runner((turn, ctx) -> {
            for (long i = 0; i < 3; i++) {
                ctx.emit("step", Map.of("n", i));
            }
            return TurnResult.completed();
        })).maxConcurrentTasks(TaskThroughputBench.MAX_CONCURRENT).listener(finished).build()) {
            long start = System.nanoTime();
            int creators = TaskThroughputBench.CREATORS;
            Thread[] threads = new Thread[creators];
            Throwable[] failure = new Throwable[1];
            for (int t = 0; t < creators; t++) {
                int from = count * t / creators;
                int to = count * (t + 1) / creators;
                threads[t] = new Thread(() -> {
                    try {
                        for (int i = from; i < to; i++) {
                            tasks.create(TaskRequest.of("bench", "task " + i));
                        }
                    } catch (Throwable e) {
                        failure[0] = e;
                    }
                }, "bench-create-" + t);
                threads[t].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            if (failure[0] != null) {
                throw new IllegalStateException("create failed", failure[0]);
            }
            if (!finished.all.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException("only " + (count - finished.all.getCount()) + " of " + count + " finished");
            }
            if (finished.other.get() > 0) {
                throw new IllegalStateException(finished.other.get() + " tasks did not complete");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long[] writes = store.sortedWriteNanos();
            double inWrite = java.util.Arrays.stream(writes).sum() / 1e9;
            lastTaskWrites = String.format(Locale.ROOT, "%,d store transactions (%.1f tasks each), %.2f ms median "
                            + "TaskStore.write, writer busy %.0f%% of the round", writes.length,
                    count / (double) Math.max(1, writes.length),
                    writes.length == 0 ? 0 : writes[writes.length / 2] / 1e6, 100 * inWrite / seconds);
            return count / seconds;
        } finally {
            dropIfPostgres(inner);
        }
    }

    /** Raw pgjdbc, one thread: per task one transaction (insert the row, update to RUNNING, update to COMPLETED). */
    private double rawTasks(int count) throws SQLException {
        String schema = server.uniqueSchemaName("rawtasks");
        pgStore(schema).close(); // the store's table and indexes
        try (Connection c = rawPool.getConnection()) {
            c.setAutoCommit(false);
            long start = System.nanoTime();
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO " + schema + ".tasks (id, agent_id, status, "
                    + "title, title_lower, created_at, metadata, options, timeout_millis) VALUES (?, 'bench', 'PENDING', ?, "
                    + "?, ?, '{}', '{}', 0)");
                 PreparedStatement running = c.prepareStatement("UPDATE " + schema + ".tasks SET status = 'RUNNING', "
                         + "started_at = ?, owner = 'raw' WHERE id = ? AND status = 'PENDING'");
                 PreparedStatement done = c.prepareStatement("UPDATE " + schema + ".tasks SET status = 'COMPLETED', "
                         + "completed_at = ?, owner = NULL WHERE id = ? AND status = 'RUNNING'")) {
                for (int i = 0; i < count; i++) {
                    String id = "raw-task-" + i;
                    insert.setString(1, id);
                    insert.setString(2, "Raw task " + id);
                    insert.setString(3, "raw task " + id);
                    insert.setLong(4, System.currentTimeMillis() * 1_000_000L);
                    insert.executeUpdate();
                    running.setLong(1, System.currentTimeMillis() * 1_000_000L);
                    running.setString(2, id);
                    running.executeUpdate();
                    done.setLong(1, System.currentTimeMillis() * 1_000_000L);
                    done.setString(2, id);
                    done.executeUpdate();
                    c.commit();
                }
            }
            double rate = count / ((System.nanoTime() - start) / 1e9);
            c.setAutoCommit(true);
            return rate;
        } finally {
            server.dropSchema(schema);
        }
    }
}
