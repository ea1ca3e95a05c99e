package dev.agenttasks.benchmarks;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.sqlite.SqliteTaskStore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * The SQLite store's costs that grow with what it keeps: bytes on disk per byte of event data
 * ({@code disk}), and the cost of the running count and of a title search at growing numbers of kept
 * tasks ({@code queries}). Baselines, in the same run: the schema version 1 layout (its DDL, read from
 * task-sqlite's {@code V1__init.sql}) for the disk, the version 1 SQL on the same file for the queries.
 */
final class StorageBench {
    private static final String V1_DDL = "dev/agenttasks/sqlite/migrations/V1__init.sql";
    private static final int[] EVENT_SIZES = {100, 1_000, 2_100, 4_100, 10_000};
    private static final String TYPE = "text_delta";
    private static final String[] TITLE_WORDS = {"Fix the login bug", "Refactor the parser", "Write release notes",
        "Summarise the meeting", "Review pull request", "Translate the docs", "Plan the sprint"};
    /** The version 1 list query with a title filter (a walk of the tasks newest first). */
    private static final String V1_TITLE_SEARCH = "SELECT t.id, t.agent_id, t.session_id, t.status, t.title, t.model, "
            + "t.created_at, t.started_at, t.completed_at, t.error, t.work_dir, t.metadata, t.options, "
            + "t.timeout_millis, t.owner, t.lease_until, (SELECT max(e.id) FROM events e WHERE e.id BETWEEN "
            + "t.pk * 4294967296 AND t.pk * 4294967296 + 4294967295) "
            + "FROM tasks t WHERE instr(t.title_lower, ?) > 0 ORDER BY t.created_at DESC, t.id DESC LIMIT ?";
    /** The version 1 count (what runningCount cost: a walk of every task). */
    private static final String V1_COUNT = "SELECT status, count(*) FROM tasks GROUP BY status";

    private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private final Env env;

    StorageBench(Env env) {
        this.env = env;
    }

    // ------------------------------------------------------------------------------------------ disk

    void runDisk() throws Exception {
        long dataPerSize = env.size(24_000_000, 2_000_000);
        Env.log("== disk: ~%,d bytes of event data per event size %s, 8 tasks appending in turn", dataPerSize,
                java.util.Arrays.toString(EVENT_SIZES));
        for (int size : EVENT_SIZES) {
            int count = (int) Math.max(1_000, dataPerSize / size);
            Path db = env.newDb("disk");
            long start = System.nanoTime();
            long data = writeThroughStore(db, size, count);
            double writeSeconds = (System.nanoTime() - start) / 1e9;
            long bytes = fileBytes(db);
            String[] stat = dbstat(db, "'events'");
            Path old = env.newDb("disk-v1");
            long oldData = writeV1Layout(old, size, count);
            long oldBytes = fileBytes(old);
            String[] oldStat = dbstat(old, "'events', 'sqlite_autoindex_events_1'");
            if (oldData != data) {
                throw new IllegalStateException("the two layouts got different data: " + data + " vs " + oldData);
            }
            double ratio = bytes / (double) data;
            double oldRatio = oldBytes / (double) oldData;
            env.report.row(String.format(Locale.ROOT, "Disk: file bytes per byte of event data, %,d events of %,d B",
                            count, size),
                    String.format(Locale.ROOT, "%.2f (%s for %s)", ratio, mb(bytes), mb(data)),
                    String.format(Locale.ROOT, "schema v1 layout, same rows: %.2f (%s)", oldRatio, mb(oldBytes)),
                    Report.ratio(ratio / oldRatio) + " (v2 / v1)", "<= 1.5", ratio <= 1.5);
            env.report.note(String.format(Locale.ROOT, "Disk, events of %,d B: schema v2 (%d B pages) events table "
                            + "%s, of which unused %s; v1 (%d B pages) %s, unused %s; %.1f s to append %,d "
                            + "events through the store", size, pageSize(db), stat[0], stat[1], pageSize(old), oldStat[0],
                    oldStat[1], writeSeconds, count));
            env.deleteDbFiles();
        }
        env.report.note("Disk: event data = UTF-8 bytes of each event's type and JSON data; file bytes = the database "
                + "file after the store is closed (WAL checkpointed), with its tasks table and indexes");
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    /** Event data of about {@code size} bytes with its type: {"i":…,"text":"…"} with random letters. */
    private static Map<String, Object> data(int size, long i) {
        int pad = Math.max(1, size - TYPE.length() - ("{\"i\":" + i + ",\"text\":\"\"}").length());
        StringBuilder b = new StringBuilder(pad);
        Random r = new Random(i);
        for (int k = 0; k < pad; k++) {
            b.append((char) ('a' + r.nextInt(26)));
        }
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("i", i);
        m.put("text", b.toString());
        return m;
    }

    private static String json(Map<String, Object> data) throws IOException {
        return MAPPER.writeValueAsString(data);
    }

    /** Appends {@code count} events to 8 tasks in turn through the store, 256 per write; returns the data bytes. */
    private static long writeThroughStore(Path db, int size, int count) throws IOException {
        long data = 0;
        Instant now = Instant.parse("2026-11-29T12:00:00Z");
        try (SqliteTaskStore store = SqliteTaskStore.open(db)) {
            List<StoreOp> ops = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                ops.add(new StoreOp.InsertTask(new TaskRecord(new Task("disk-" + t, "bench", null, TaskStatus.RUNNING,
                        "Disk task " + t, null, now, now, null, null, null, Map.of()), Map.of(), 0, null, null, 0)));
            }
            store.write(ops);
            ops.clear();
            for (int i = 0; i < count; i++) {
                Map<String, Object> d = data(size, i);
                data += TYPE.length() + json(d).getBytes(StandardCharsets.UTF_8).length;
                ops.add(new StoreOp.AppendEvent(new TaskEvent("disk-" + (i % 8), i / 8 + 1, TYPE, d, now.plusNanos(i))));
                if (ops.size() == 256) {
                    store.write(ops);
                    ops.clear();
                }
            }
            if (!ops.isEmpty()) {
                store.write(ops);
            }
        }
        return data;
    }

    /** The same rows in a file with the version 1 schema, as a version 1 store made it (4 KB pages, WAL). */
    private static long writeV1Layout(Path db, int size, int count) throws Exception {
        long data = 0;
        try (Connection c = RawSqlite.connect(db); Statement s = c.createStatement()) {
            for (String stmt : v1Statements()) {
                s.execute(stmt);
            }
            c.setAutoCommit(false);
            try (PreparedStatement task = c.prepareStatement("INSERT INTO tasks (id, agent_id, status, title, title_lower, "
                    + "created_at, metadata, options, timeout_millis) VALUES (?, 'bench', 'RUNNING', ?, ?, 0, '{}', '{}', 0)");
                 PreparedStatement ev = c.prepareStatement("INSERT INTO events VALUES (?, ?, ?, ?, ?)")) {
                for (int t = 0; t < 8; t++) {
                    task.setString(1, "disk-" + t);
                    task.setString(2, "Disk task " + t);
                    task.setString(3, "disk task " + t);
                    task.executeUpdate();
                }
                for (int i = 0; i < count; i++) {
                    String json = json(data(size, i));
                    data += TYPE.length() + json.getBytes(StandardCharsets.UTF_8).length;
                    ev.setString(1, "disk-" + (i % 8));
                    ev.setLong(2, i / 8 + 1);
                    ev.setString(3, TYPE);
                    ev.setString(4, json);
                    ev.setLong(5, i);
                    ev.addBatch();
                    if (i % 256 == 255) {
                        ev.executeBatch();
                        c.commit();
                    }
                }
                ev.executeBatch();
                c.commit();
            }
        }
        return data;
    }

    static List<String> v1Statements() throws IOException {
        String sql;
        try (InputStream in = ClassLoader.getSystemResourceAsStream(V1_DDL)) {
            if (in == null) {
                throw new IOException(V1_DDL + " is not on the class path");
            }
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        StringBuilder body = new StringBuilder();
        for (String line : sql.split("\n")) {
            if (!line.strip().startsWith("--")) {
                body.append(line).append('\n');
            }
        }
        List<String> out = new ArrayList<>();
        for (String st : body.toString().split(";")) {
            if (!st.isBlank()) {
                out.add(st.strip());
            }
        }
        out.add("CREATE TABLE schema_version (version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, "
                + "applied_at INTEGER NOT NULL)");
        out.add("INSERT INTO schema_version VALUES (1, 'init', 0)");
        return out;
    }

    private static long fileBytes(Path db) throws IOException {
        long n = Files.size(db);
        Path wal = Path.of(db + "-wal");
        return Files.exists(wal) ? n + Files.size(wal) : n;
    }

    private static int pageSize(Path db) throws SQLException {
        try (Connection c = RawSqlite.connect(db); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("PRAGMA page_size")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** {size, unused} of the named tables and indexes, from the dbstat virtual table (or "n/a"). */
    private static String[] dbstat(Path db, String names) {
        try (Connection c = RawSqlite.connect(db); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT sum(pgsize), sum(unused) FROM dbstat WHERE name IN (" + names + ")")) {
            rs.next();
            return new String[] {mb(rs.getLong(1)), mb(rs.getLong(2))};
        } catch (SQLException e) {
            return new String[] {"n/a", "n/a (" + e.getMessage() + ")"};
        }
    }

    // --------------------------------------------------------------------------------------- queries

    void runQueries() throws Exception {
        int[] sizes = env.quick ? new int[] {1_000, 10_000} : new int[] {1_000, 100_000, 1_000_000};
        Env.log("== queries: running count and title search with %s kept tasks", java.util.Arrays.toString(sizes));
        for (int n : sizes) {
            Path db = env.newDb("queries");
            long start = System.nanoTime();
            generate(db, n);
            double genSeconds = (System.nanoTime() - start) / 1e9;
            String selective = "#" + (n / 2 + 7);
            String broad = "login bug";
            try (SqliteTaskStore store = SqliteTaskStore.builder(db).readConnections(1).build();
                 Connection raw = RawSqlite.connect(db);
                 PreparedStatement v1Count = raw.prepareStatement(V1_COUNT);
                 PreparedStatement v1Search = raw.prepareStatement(V1_TITLE_SEARCH)) {
                Callable<Object> count = () -> running(store.countByStatus());
                Callable<Object> oldCount = () -> {
                    try (ResultSet rs = v1Count.executeQuery()) {
                        long running = 0;
                        while (rs.next()) {
                            TaskStatus st = TaskStatus.valueOf(rs.getString(1));
                            running += st == TaskStatus.RUNNING || st == TaskStatus.WAITING_FOR_INPUT ? rs.getLong(2) : 0;
                        }
                        return running;
                    }
                };
                Object a = count.call();
                Object b = oldCount.call();
                if (!a.equals(b) || !a.equals(15L)) {
                    throw new IllegalStateException("running counts differ: " + a + " vs " + b);
                }
                compare(n, "Running count (countByStatus, as TaskManager.runningCount)", count, oldCount,
                        "v1 SQL: " + V1_COUNT);
                for (String q : List.of(selective, broad)) {
                    TaskQuery query = TaskQuery.all().withTitleContains(q);
                    Callable<Object> search = () -> ids(store.list(query, null, TaskQuery.DEFAULT_LIMIT));
                    Callable<Object> oldSearch = () -> {
                        v1Search.setString(1, q.toLowerCase(Locale.ROOT));
                        v1Search.setInt(2, TaskQuery.DEFAULT_LIMIT);
                        List<String> out = new ArrayList<>();
                        try (ResultSet rs = v1Search.executeQuery()) {
                            while (rs.next()) {
                                for (int col = 2; col <= 17; col++) {
                                    rs.getString(col);
                                }
                                out.add(rs.getString(1));
                            }
                        }
                        return out;
                    };
                    Object found = search.call();
                    if (!found.equals(oldSearch.call())) {
                        throw new IllegalStateException("title search '" + q + "' differs from the v1 SQL");
                    }
                    compare(n, String.format(Locale.ROOT, "Title search '%s' (%d of %,d match, first %d)", q,
                                    matches(raw, q), n, TaskQuery.DEFAULT_LIMIT),
                            search, oldSearch, "v1 SQL: instr() walk newest first, same file");
                }
            }
            env.report.note(String.format(Locale.ROOT, "Queries, %,d tasks (15 running or waiting, 5 pending, the rest "
                    + "finished): generated with raw inserts (counts and title index rebuilt in bulk) in %.1f s; %s on disk", n,
                    genSeconds, mb(fileBytes(db))));
            env.deleteDbFiles();
        }
    }

    private static long running(Map<TaskStatus, Long> counts) {
        return counts.getOrDefault(TaskStatus.RUNNING, 0L) + counts.getOrDefault(TaskStatus.WAITING_FOR_INPUT, 0L);
    }

    private static List<String> ids(List<TaskRecord> records) {
        List<String> out = new ArrayList<>();
        for (TaskRecord r : records) {
            out.add(r.id());
        }
        return out;
    }

    private static long matches(Connection c, String q) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM tasks WHERE instr(title_lower, ?) > 0")) {
            ps.setString(1, q.toLowerCase(Locale.ROOT));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Times both in alternating rounds; reports the medians per call. */
    private void compare(int n, String what, Callable<Object> fresh, Callable<Object> old, String baseline)
            throws Exception {
        Samples a = new Samples();
        Samples b = new Samples();
        perCall(fresh);
        perCall(old);
        for (int r = 0; r < 5; r++) {
            a.add(perCall(fresh));
            b.add(perCall(old));
        }
        boolean goal = n >= 1_000_000 && !what.contains("login bug");
        env.report.row(String.format(Locale.ROOT, "%s, %,d tasks", what, n), Report.fmt(a.median(), "µs"),
                baseline + ": " + Report.fmt(b.median(), "µs"), Report.ratio(a.median() / b.median()) + " (v2 / v1)",
                goal ? "<= 2 ms at 1M" : null, goal ? a.median() <= 2_000 : null);
        env.report.note(String.format(Locale.ROOT, "%s, %,d tasks: v2 rounds %s µs (spread %s); v1 rounds %s µs",
                what, n, a.rounds("%,.1f"), Report.pct(a.spread()), b.rounds("%,.1f")));
    }

    /** Microseconds per call: calls repeated for at least 200 ms (at least 3 calls). */
    private static double perCall(Callable<Object> call) throws Exception {
        long start = System.nanoTime();
        int calls = 0;
        long elapsed;
        do {
            call.call();
            calls++;
            elapsed = System.nanoTime() - start;
        } while (calls < 3 || elapsed < 200_000_000L);
        return elapsed / 1e3 / calls;
    }

    /**
     * Creates a store file with {@code n} tasks by raw inserts in one transaction: 10 RUNNING, 5
     * WAITING_FOR_INPUT, 5 PENDING spread over the history, the rest COMPLETED, FAILED or CANCELLED; titles
     * "&lt;words&gt; #&lt;i&gt;", in creation order. For speed the schema's triggers are dropped during the load;
     * what they keep (the per-status counts, the title index, created_hw) is then rebuilt in bulk and the
     * triggers are created again from their own SQL, all before the transaction commits.
     */
    private static void generate(Path db, int n) throws SQLException {
        SqliteTaskStore.open(db).close();
        long t0 = Instant.parse("2026-01-01T00:00:00Z").getEpochSecond() * 1_000_000_000L;
        try (Connection c = RawSqlite.connect(db)) {
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA cache_size = -262144");
            }
            c.setAutoCommit(false);
            List<String> triggers = new ArrayList<>();
            try (Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                        + "AND tbl_name = 'tasks'")) {
                    while (rs.next()) {
                        triggers.add(rs.getString(1));
                        triggers.add(rs.getString(2));
                    }
                }
                for (int k = 0; k < triggers.size(); k += 2) {
                    s.execute("DROP TRIGGER " + triggers.get(k));
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO tasks (id, agent_id, status, title, title_lower, "
                    + "created_at, completed_at, metadata, options, timeout_millis, created_hw) "
                    + "VALUES (?, 'bench', ?, ?, ?, ?, ?, '{}', '{}', 0, ?5)")) {
                int step = Math.max(1, n / 20);
                for (int i = 0; i < n; i++) {
                    TaskStatus st;
                    int active = i % step == step / 2 ? (i / step) : -1;
                    if (active >= 0 && active < 20) {
                        st = active < 10 ? TaskStatus.RUNNING : active < 15 ? TaskStatus.WAITING_FOR_INPUT
                                : TaskStatus.PENDING;
                    } else {
                        st = i % 10 == 3 ? TaskStatus.FAILED : i % 10 == 7 ? TaskStatus.CANCELLED : TaskStatus.COMPLETED;
                    }
                    String title = TITLE_WORDS[i % TITLE_WORDS.length] + " #" + i;
                    ps.setString(1, String.format(Locale.ROOT, "task_%026d", i));
                    ps.setString(2, st.name());
                    ps.setString(3, title);
                    ps.setString(4, title.toLowerCase(Locale.ROOT));
                    ps.setLong(5, t0 + i * 1_000_000L);
                    if (st.isTerminal()) {
                        ps.setLong(6, t0 + i * 1_000_000L + 500_000L);
                    } else {
                        ps.setNull(6, java.sql.Types.INTEGER);
                    }
                    ps.addBatch();
                    if (i % 10_000 == 9_999) {
                        ps.executeBatch();
                    }
                }
                ps.executeBatch();
            }
            try (Statement s = c.createStatement()) {
                s.execute("DELETE FROM task_counts");
                s.execute("INSERT INTO task_counts (status, n) SELECT status, count(*) FROM tasks GROUP BY status");
                s.execute("INSERT INTO tasks_title (tasks_title) VALUES ('rebuild')");
                for (int k = 1; k < triggers.size(); k += 2) {
                    s.execute(triggers.get(k));
                }
            }
            c.commit();
        }
    }
}
