package dev.agenttasks.benchmarks;

import dev.agenttasks.Task;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.sqlite.SqliteTaskStore;

import java.nio.file.Path;
import java.sql.Connection;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * A late subscriber reading every event of a finished task from the SQLite store, against one raw
 * {@code SELECT ... ORDER BY seq} of the same rows that also parses each row's JSON.
 */
final class ReplayBench {
    private final Env env;

    ReplayBench(Env env) {
        this.env = env;
    }

    private static double replay(TaskManager tasks, String taskId, int expected) throws Exception {
        Subscribers.Counting sub = new Subscribers.Counting();
        long start = System.nanoTime();
        tasks.events(taskId).subscribe(sub);
        sub.await(300);
        if (sub.count < expected) {
            throw new IllegalStateException("replay saw " + sub.count + " of " + expected);
        }
        return sub.count / ((sub.completedAt - start) / 1e9);
    }

    private static double raw(Path file, String taskId, int expected) throws Exception {
        try (Connection c = RawSqlite.connect(file)) {
            long start = System.nanoTime();
            long n = RawSqlite.readEvents(c, taskId);
            double rate = n / ((System.nanoTime() - start) / 1e9);
            if (n < expected) {
                throw new IllegalStateException("raw read saw " + n + " of " + expected);
            }
            return rate;
        }
    }

    void run() throws Exception {
        int events = env.size(100_000, 10_000);
        int rounds = env.size(5, 2);
        Env.log("== replay: a late subscriber reading %,d events of a finished task, %d rounds (+1 warm-up)", events, rounds);
        Path file = env.newDb("replay");
        String taskId;
        try {
            try (SqliteTaskStore store = Env.sqlite(file);
                 TaskManager tasks = Env.manager(store, Agents.runner(Agents.stream(new CountDownLatch(0), events))).build()) {
                Task task = tasks.create(TaskRequest.of("bench", "replay"));
                taskId = task.id();
                Subscribers.Counting live = new Subscribers.Counting();
                tasks.events(taskId).subscribe(live);
                live.await(300);
            }
            Samples engine = new Samples();
            Samples raw = new Samples();
            Samples bigPages = new Samples();
            try (SqliteTaskStore store = Env.sqlite(file);
                 TaskManager tasks = Env.manager(store, Agents.runner(Agents.stream(new CountDownLatch(0), 0))).build()) {
                replay(tasks, taskId, events);
                raw(file, taskId, events);
                for (int r = 0; r < rounds; r++) {
                    double e = replay(tasks, taskId, events);
                    double w = raw(file, taskId, events);
                    engine.add(e);
                    raw.add(w);
                    Env.log("  round %d: engine %,.0f events/s, raw %,.0f rows/s", r + 1, e, w);
                }
            }
            try (SqliteTaskStore store = Env.sqlite(file);
                 TaskManager tasks = Env.manager(store, Agents.runner(Agents.stream(new CountDownLatch(0), 0)))
                         .pageSize(4096).build()) {
                replay(tasks, taskId, events);
                for (int r = 0; r < rounds; r++) {
                    bigPages.add(replay(tasks, taskId, events));
                }
                Env.log("  pageSize 4096: %s events/s", bigPages.rounds("%,.0f"));
            }
            double ratio = engine.median() / raw.median();
            env.report.row("Replay (late subscriber, " + String.format(Locale.ROOT, "%,d", events) + " events, SQLite)",
                    Report.fmt(engine.median(), "events/s"),
                    "raw JDBC SELECT ... ORDER BY seq, parsed with the store's own JSON reader: " + Report.fmt(raw.median(), "rows/s"),
                    Report.ratio(ratio), ">= 0.8", ratio >= 0.8);
            double ratioBig = bigPages.median() / raw.median();
            env.report.row("Replay with pageSize 4096 (default " + TaskManager.Builder.DEFAULT_PAGE_SIZE + ")", Report.fmt(bigPages.median(), "events/s"),
                    "same raw read", Report.ratio(ratioBig), null, null);
            env.report.note(String.format(Locale.ROOT,
                    "Replay of %,d events (+ status events), default page size " + TaskManager.Builder.DEFAULT_PAGE_SIZE + ", subscriber requests Long.MAX_VALUE: engine %s events/s "
                            + "(spread %s); raw %s rows/s (spread %s). The raw baseline runs one SELECT seq, type, data, ts "
                            + "on an already open connection, parses every data column with the store's own fast path "
                            + "(SqliteTaskStore's Json.readMap, the streaming parser into immutable maps) and builds a "
                            + "TaskEvent; it does no paging and no delivery to a subscriber",
                    events, engine.rounds("%,.0f"), Report.pct(engine.spread()), raw.rounds("%,.0f"),
                    Report.pct(raw.spread())));
        } finally {
            env.deleteDbFiles();
        }
    }
}
