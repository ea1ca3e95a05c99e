package dev.agenttasks.sqlite;

import dev.agenttasks.Task;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
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
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The schema version 2 query paths: the title search through the trigram index gives exactly the
 * substring results of a scan (case rules, short queries, FTS syntax characters), and the per-status
 * counts (kept by the store's writes since schema version 4, by the delete triggers for deletes) always equal
 * a recount.
 */
class IndexedQueriesTest {

    static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");
    static final List<String> TITLES = List.of("Fix the Bug", "fix the bug again", "İstanbul trip", "STRASSE",
            "straße", "Ωmega ΣΊΣΥΦΟΣ", "emoji 😀 party 😀😀", "quote \"here\" and 'there'", "a*b AND c OR d",
            "NEAR(x y) col:umn -minus ^caret", "x", "", "aaa aaa", "tab\there", "100% _done_", "ÉCOLE école Ecole",
            "日本語のタイトル", "ǅemal ǆ", "fix", "FI", "the bug", "bugbugbug");

    @TempDir
    Path dir;
    SqliteTaskStore store;
    List<TaskRecord> records = new ArrayList<>();

    @BeforeEach
    void open() {
        store = SqliteTaskStore.builder(dir.resolve("tasks.db")).readConnections(1).build();
        List<StoreOp> ops = new ArrayList<>();
        for (int i = 0; i < TITLES.size() * 2; i++) {
            TaskStatus status = TaskStatus.values()[i % TaskStatus.values().length];
            Task t = new Task("t" + i, "agent-" + (i % 2), null, status, TITLES.get(i % TITLES.size()), null,
                    T0.plusNanos(i % 5), null, status.isTerminal() ? T0 : null, null, null, Map.of());
            TaskRecord r = new TaskRecord(t, Map.of(), 0, null, null, 0);
            records.add(r);
            ops.add(new StoreOp.InsertTask(r));
        }
        store.write(ops);
    }

    @AfterEach
    void close() {
        store.close();
    }

    /** What the version 1 scan returned: a substring of the Locale.ROOT lower-cased title, newest first. */
    List<String> reference(TaskQuery q, TaskCursor after, int limit) {
        String needle = q.titleContains() == null ? null : q.titleContains().toLowerCase(Locale.ROOT);
        Comparator<TaskRecord> newestFirst = Comparator.comparing((TaskRecord r) -> r.task().createdAt())
                .thenComparing(TaskRecord::id).reversed();
        return records.stream()
                .filter(r -> needle == null || r.task().title().toLowerCase(Locale.ROOT).contains(needle))
                .filter(r -> q.statuses().isEmpty() || q.statuses().contains(r.task().status()))
                .filter(r -> q.agentId() == null || q.agentId().equals(r.task().agentId()))
                .filter(r -> after == null || newestFirst.compare(r, cursorRecord(after)) > 0)
                .sorted(newestFirst).limit(limit).map(TaskRecord::id).toList();
    }

    private static TaskRecord cursorRecord(TaskCursor c) {
        return new TaskRecord(new Task(c.id(), "a", null, TaskStatus.PENDING, "", null, c.createdAt(), null, null, null,
                null, Map.of()), Map.of(), 0, null, null, 0);
    }

    static Set<String> queries() {
        Set<String> qs = new LinkedHashSet<>(List.of("", "x", "FI", "fi", "bug", "BUG", "the bug", "e b", "İ", "i̇st",
                "istanbul", "STRASSE", "strasse", "ß", "SS", "ΣΊΣ", "σίσ", "😀", "😀😀", "y 😀", "\"", "\"here\"",
                "'there'", "*", "a*b", "AND", "and c or", "NEAR(x", "col:umn", "-minus", "^caret", "\t", "tab\th",
                "100%", "%", "_", "_done_", "école", "ECOLE", "日本", "日本語", "タイトル", "ǅ", "ǆemal", "bugbug",
                "gbu", "aaa a", "no such title", "a a"));
        for (String t : TITLES) {
            int n = t.codePointCount(0, t.length());
            for (int len = 1; len <= Math.min(5, n); len++) {
                for (int from = 0; from + len <= n; from += 2) {
                    qs.add(t.substring(t.offsetByCodePoints(0, from), t.offsetByCodePoints(0, from + len)));
                }
            }
        }
        return qs;
    }

    @Test
    void titleSearchGivesTheSubstringResultsOfAScanForEveryQuery() {
        int indexed = 0;
        for (String q : queries()) {
            TaskQuery query = TaskQuery.all().withTitleContains(q);
            assertThat(ids(store.list(query, null, 1000))).as("title contains [%s]", q)
                    .containsExactlyElementsOf(reference(query, null, 1000));
            if (q.toLowerCase(Locale.ROOT).codePointCount(0, q.toLowerCase(Locale.ROOT).length())
                    >= SqliteTaskStore.TRIGRAM) {
                indexed++;
            }
        }
        assertThat(indexed).as("queries that went through the index").isGreaterThan(100);
    }

    @Test
    void titleSearchCombinesWithFiltersCursorAndLimit() {
        for (String q : List.of("bug", "the", "😀 p", "ss", "ß", "e")) {
            TaskQuery query = TaskQuery.all().withTitleContains(q).withStatus(TaskStatus.PENDING, TaskStatus.RUNNING,
                    TaskStatus.COMPLETED).withAgentId("agent-0");
            List<String> all = reference(query, null, 1000);
            assertThat(ids(store.list(query, null, 1000))).as(q).containsExactlyElementsOf(all);
            // page through two at a time with the cursor of the last row
            List<String> paged = new ArrayList<>();
            TaskCursor cursor = null;
            while (true) {
                List<TaskRecord> page = store.list(query, cursor, 2);
                assertThat(ids(page)).containsExactlyElementsOf(reference(query, cursor, 2));
                if (page.isEmpty()) {
                    break;
                }
                page.forEach(r -> paged.add(r.id()));
                TaskRecord last = page.get(page.size() - 1);
                cursor = new TaskCursor(last.task().createdAt(), last.id());
            }
            assertThat(paged).as(q).containsExactlyElementsOf(all);
        }
    }

    @Test
    void manyMatchesInsertedOutOfCreationOrderComeBackNewestFirst() {
        // created_at jumps back and forth along the insertion (key) order, so the newest matches are not
        // the highest keys: the high-water mark must still find every one of them
        List<StoreOp> ops = new ArrayList<>();
        java.util.Random random = new java.util.Random(42);
        // 3,000 tasks: old matches lie more than the key-range budget back, so the index is read from a key
        for (int i = 0; i < 3000; i++) {
            long millis = i % 50 == 0 ? 10_000 + random.nextInt(1000) : i % 7 == 0 ? random.nextInt(100) : i;
            Task t = new Task("c" + i, "agent-" + (i % 2), null, TaskStatus.COMPLETED, "Common chore " + i, null,
                    T0.plusMillis(millis), null, T0, null, null, Map.of());
            TaskRecord r = new TaskRecord(t, Map.of(), 0, null, null, 0);
            records.add(r);
            ops.add(new StoreOp.InsertTask(r));
        }
        store.write(ops);
        for (String q : List.of("chore", "COMMON CH", "chore 42", "e 59", "mmo", "fix the", "ch")) {
            for (int limit : List.of(1, 7, 50, 1000)) {
                TaskQuery query = TaskQuery.all().withTitleContains(q);
                assertThat(ids(store.list(query, null, limit))).as("%s, limit %d", q, limit)
                        .containsExactlyElementsOf(reference(query, null, limit));
                TaskQuery filtered = query.withAgentId("agent-1").withStatus(TaskStatus.COMPLETED);
                TaskCursor cursor = new TaskCursor(T0.plusMillis(50), "c300");
                assertThat(ids(store.list(filtered, cursor, limit))).as("%s, limit %d, filtered", q, limit)
                        .containsExactlyElementsOf(reference(filtered, cursor, limit));
            }
        }
    }

    @Test
    void deletedTasksLeaveTheTitleIndex() throws Exception {
        assertThat(store.delete("t0")).isTrue();
        records.remove(0);
        TaskQuery query = TaskQuery.all().withTitleContains("fix the");
        assertThat(ids(store.list(query, null, 100))).containsExactlyElementsOf(reference(query, null, 100))
                .doesNotContain("t0");
        // a task inserted under the deleted id is found under its new title only
        Task t = new Task("t0", "agent-0", null, TaskStatus.PENDING, "Brand new", null, T0, null, null, null, null,
                Map.of());
        store.write(List.of(new StoreOp.InsertTask(new TaskRecord(t, Map.of(), 0, null, null, 0))));
        assertThat(ids(store.list(TaskQuery.all().withTitleContains("brand"), null, 10))).containsExactly("t0");
        assertThat(ids(store.list(query, null, 100))).doesNotContain("t0");
        // integrity_check also compares the FTS index with its content table
        assertThat(SchemaTest.query(dir.resolve("tasks.db"), "PRAGMA integrity_check")).containsExactly("ok");
    }

    @Test
    void countsFollowEveryKindOfWriteAndEqualARecount() throws Exception {
        assertThat(store.countByStatus()).isEqualTo(recount());
        // moves, a rolled back batch, deletes, a purge, moves by a second store on the file (another process),
        // and a row deleted by another connection
        TaskRecord pending = store.task("t0").orElseThrow();
        store.write(List.of(move(pending, TaskStatus.RUNNING)));
        TaskRecord running = store.task("t0").orElseThrow();
        assertThatThrownBy(() -> store.write(List.of(move(running, TaskStatus.COMPLETED),
                new StoreOp.InsertTask(records.get(1))))).isInstanceOf(StoreConflictException.class);
        assertThat(store.countByStatus()).isEqualTo(recount());
        store.write(List.of(move(running, TaskStatus.COMPLETED)));
        store.delete("t1");
        store.delete("t5");
        assertThat(store.countByStatus()).isEqualTo(recount());
        assertThat(store.purgeTerminal(T0.plusSeconds(3600), 3)).isEqualTo(3);
        assertThat(store.countByStatus()).isEqualTo(recount());
        try (SqliteTaskStore other = SqliteTaskStore.open(dir.resolve("tasks.db"))) {
            List<StoreOp> moves = new ArrayList<>();
            for (TaskRecord r : other.list(TaskQuery.all().withStatus(TaskStatus.PENDING), null, 100)) {
                moves.add(move(r, TaskStatus.FAILED));
            }
            assertThat(moves).isNotEmpty();
            other.write(moves);
            // a batch of the other store that fails (its second move expects the status the first changed)
            // changes no count
            TaskRecord t2 = other.task("t2").orElseThrow();
            assertThatThrownBy(() -> other.write(List.of(move(t2, TaskStatus.COMPLETED), move(t2, TaskStatus.CANCELLED))))
                    .isInstanceOf(StoreConflictException.class);
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("tasks.db"));
             Statement s = c.createStatement()) {
            s.execute("DELETE FROM tasks WHERE id = 't7'");
        }
        Map<TaskStatus, Long> counts = store.countByStatus();
        assertThat(counts).isEqualTo(recount()).doesNotContainKey(TaskStatus.PENDING);
        assertThat(counts.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(44 - 6);
    }

    @Test
    void theQueryPlansReadTheIndexesNotTheWholeTable() throws Exception {
        assertThat(plan(SqliteReads.COUNT_BY_STATUS, List.of())).noneMatch(p -> p.contains("tasks"))
                .anyMatch(p -> p.contains("task_counts"));
        List<Object> args = new ArrayList<>();
        TaskQuery bug = TaskQuery.all().withTitleContains("Bug").withStatus(TaskStatus.RUNNING);
        String sql = SqliteReads.listSql(bug, new TaskCursor(T0, "t9"), 50, SqliteReads.TitlePlan.PROBE, 0, args);
        // the probe reads the index in key order and stops at the limit: no sort
        assertThat(plan(sql, args)).anyMatch(p -> p.contains("VIRTUAL TABLE"))
                .anyMatch(p -> p.contains("SEARCH t USING INTEGER PRIMARY KEY")).noneMatch(p -> p.contains("SCAN t"))
                .noneMatch(p -> p.contains("TEMP B-TREE"));
        args.clear();
        sql = SqliteReads.listSql(bug, null, 50, SqliteReads.TitlePlan.FROM_KEY, 7, args);
        assertThat(plan(sql, args)).anyMatch(p -> p.contains("VIRTUAL TABLE"))
                .anyMatch(p -> p.contains("SEARCH t USING INTEGER PRIMARY KEY")).noneMatch(p -> p.contains("SCAN t"));
        assertThat(args).containsExactly("\"bug\"", 7L, "RUNNING", 50);
        args.clear();
        sql = SqliteReads.listSql(TaskQuery.all().withTitleContains("Bu"), null, 50, SqliteReads.TitlePlan.WALK,
                0, args);
        assertThat(sql).contains("instr(t.title_lower, ?)").doesNotContain("MATCH");
        assertThat(args).containsExactly("bu", 50);
        assertThat(plan(sql, args)).anyMatch(p -> p.contains("idx_tasks_created"));
        args.clear();
        sql = SqliteReads.listSql(bug, null, 50, SqliteReads.TitlePlan.NEWEST, 0, args);
        // a bounded window of the newest tasks (a co-routine), read through the status index
        assertThat(plan(sql, args)).anyMatch(p -> p.startsWith("CO-ROUTINE"))
                .anyMatch(p -> p.contains("idx_tasks_status"));
        assertThat(args).containsExactly("RUNNING", SqliteTaskStore.NEWEST_WINDOW + 400, "bug", 50);
        args.clear();
        sql = SqliteReads.listSql(bug, null, 50, SqliteReads.TitlePlan.KEY_RANGE, 7, args);
        assertThat(plan(sql, args)).anyMatch(p -> p.contains("SEARCH t USING INTEGER PRIMARY KEY (rowid>?)"))
                .noneMatch(p -> p.contains("idx_tasks_status"));
        assertThat(args).containsExactly(7L, "RUNNING", "bug", 50);
    }

    @Test
    void eventsAreReadAndTheirLastSeqFoundByKeyRangeNotByScanning() throws Exception {
        List<String> plan = plan(SqliteReads.SELECT_EVENTS, List.of(0L, "t1", 10));
        assertThat(plan).anyMatch(p -> p.startsWith("SEARCH e USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"))
                .noneMatch(p -> p.contains("SCAN"));
        assertThat(plan(SqliteWrites.TASK_TAIL, List.of("t1"))).anyMatch(p -> p.contains("INTEGER PRIMARY KEY"))
                .noneMatch(p -> p.contains("SCAN"));
        // events of neighbouring tasks (adjacent keys) stay apart, and a delete takes exactly its own
        List<StoreOp> ops = new ArrayList<>();
        for (int seq = 1; seq <= 3; seq++) {
            for (String id : List.of("t1", "t2", "t3")) {
                ops.add(new StoreOp.AppendEvent(new dev.agenttasks.TaskEvent(id, seq, "x", Map.of("of", id), T0)));
            }
        }
        store.write(ops);
        assertThat(store.events("t2", 1, 10)).extracting(e -> e.seq() + ":" + e.data().get("of"))
                .containsExactly("2:t2", "3:t2");
        assertThat(store.events("t2", -5, 1)).extracting(dev.agenttasks.TaskEvent::seq).containsExactly(1L);
        assertThat(store.events("t2", Long.MAX_VALUE, 10)).isEmpty();
        store.delete("t2");
        assertThat(store.task("t1").orElseThrow().lastSeq()).isEqualTo(3);
        assertThat(store.events("t3", 0, 10)).hasSize(3);
        assertThat(SchemaTest.query(dir.resolve("tasks.db"), "SELECT count(*) FROM events")).containsExactly("6");
    }

    @Test
    void aSeqBeyondTheKeyLayoutIsRefusedBeforeAnythingIsWritten() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("tasks.db"));
             Statement s = c.createStatement()) {
            s.execute("INSERT INTO events (id, type, data, ts) SELECT pk * 4294967296 + 4294967295, 'x', '{}', 0 "
                    + "FROM tasks WHERE id = 't4'");
        }
        assertThat(store.task("t4").orElseThrow().lastSeq()).isEqualTo(SqliteTaskStore.MAX_SEQ);
        assertThatThrownBy(() -> store.write(List.of(new StoreOp.AppendEvent(new dev.agenttasks.TaskEvent("t4",
                SqliteTaskStore.MAX_SEQ + 1, "x", Map.of(), T0))))).isInstanceOf(dev.agenttasks.TaskStoreException.class)
                .hasMessageContaining("beyond");
        assertThat(store.task("t5").orElseThrow().lastSeq()).isZero();
        assertThat(SchemaTest.query(dir.resolve("tasks.db"), "SELECT count(*) FROM events")).containsExactly("1");
    }

    private List<String> plan(String sql, List<Object> args) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("tasks.db"));
             PreparedStatement ps = c.prepareStatement("EXPLAIN QUERY PLAN " + sql)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(4));
                }
            }
        }
        return out;
    }

    private Map<TaskStatus, Long> recount() throws Exception {
        Map<TaskStatus, Long> out = new EnumMap<>(TaskStatus.class);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("tasks.db"));
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT status, count(*) FROM tasks GROUP BY status")) {
            while (rs.next()) {
                out.put(TaskStatus.valueOf(rs.getString(1)), rs.getLong(2));
            }
        }
        return out;
    }

    private static StoreOp move(TaskRecord current, TaskStatus to) {
        Task t = current.task();
        Task next = new Task(t.id(), t.agentId(), t.sessionId(), to, t.title(), t.model(), t.createdAt(),
                to == TaskStatus.RUNNING ? T0 : t.startedAt(), to.isTerminal() ? T0 : t.completedAt(), t.error(),
                t.workDir(), t.metadata());
        return new StoreOp.UpdateTask(current.withTask(next), t.status());
    }

    private static List<String> ids(List<TaskRecord> records) {
        return records.stream().map(TaskRecord::id).toList();
    }
}
