package dev.agenttasks.testkit;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp.AddMessage;
import dev.agenttasks.spi.StoreOp.AppendEvent;
import dev.agenttasks.spi.StoreOp.InsertTask;
import dev.agenttasks.spi.StoreOp.UpdateTask;
import dev.agenttasks.spi.TaskCursor;
import dev.agenttasks.spi.TaskRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * The part of the {@link TaskStoreContract} about reading and removing: listing and paging, the recovery query
 * and counts, deletion and retention, and data round-trips. Store tests extend {@link TaskStoreContract}, which
 * runs these tests with the others.
 */
public abstract class TaskStoreQueriesContract extends TaskStoreRecordsContract {

    /** Subclasses have a no-argument constructor. */
    protected TaskStoreQueriesContract() {
    }

    /** List filters, ordering and cursor paging. */
    @Nested
    @DisplayName("listing and paging")
    class Listing {

        private List<TaskRecord> all;

        @BeforeEach
        void tasks() {
            // 30 tasks; several share a createdAt, so ties must be broken by id descending.
            all = new ArrayList<>();
            TaskStatus[] statuses = TaskStatus.values();
            for (int i = 0; i < 30; i++) {
                String id = String.format("task-%02d", (i * 7) % 30);
                Instant created = T0.plusSeconds(i / 3);
                String agent = i % 2 == 0 ? "agent-a" : "agent-b";
                String title = i % 5 == 0 ? "Fix the BUG number " + i : "Write docs " + i;
                all.add(record(id, statuses[i % statuses.length], created, agent, title));
            }
            List<TaskRecord> shuffled = new ArrayList<>(all);
            java.util.Collections.shuffle(shuffled, new java.util.Random(7));
            insert(shuffled.toArray(new TaskRecord[0]));
        }

        private List<String> expected(java.util.function.Predicate<TaskRecord> filter) {
            return all.stream().filter(filter)
                    .sorted(java.util.Comparator.comparing((TaskRecord r) -> r.task().createdAt())
                            .thenComparing(TaskRecord::id).reversed())
                    .map(TaskRecord::id).toList();
        }

        private List<String> listAllPages(TaskQuery q, int pageSize) {
            List<String> out = new ArrayList<>();
            TaskCursor after = null;
            for (int guard = 0; guard < 1000; guard++) {
                List<TaskRecord> page = store.list(q, after, pageSize);
                assertThat(page.size()).isLessThanOrEqualTo(pageSize);
                if (page.isEmpty()) {
                    return out;
                }
                out.addAll(ids(page));
                TaskRecord last = page.get(page.size() - 1);
                after = new TaskCursor(last.task().createdAt(), last.id());
            }
            return fail("paging did not end");
        }

        @Test
        void newestFirstWithTiesBrokenByIdDescending() {
            assertThat(ids(store.list(TaskQuery.all(), null, 100))).containsExactlyElementsOf(expected(r -> true));
        }

        @Test
        void limitCutsThePage() {
            assertThat(ids(store.list(TaskQuery.all(), null, 4)))
                    .containsExactlyElementsOf(expected(r -> true).subList(0, 4));
        }

        @Test
        void cursorPagesHaveNoDuplicatesOrGaps() {
            for (int pageSize : new int[] {1, 2, 3, 4, 7, 30, 31}) {
                List<String> paged = listAllPages(TaskQuery.all(), pageSize);
                assertThat(paged).as("page size " + pageSize).containsExactlyElementsOf(expected(r -> true));
            }
        }

        @Test
        void cursorIsAPositionNotARow() {
            // The row the cursor names may have been deleted meanwhile; listing resumes strictly after it.
            List<String> order = expected(r -> true);
            TaskRecord pivot = all.stream().filter(r -> r.id().equals(order.get(9))).findFirst().orElseThrow();
            assertThat(store.delete(pivot.id())).isTrue();
            List<TaskRecord> next = store.list(TaskQuery.all(), new TaskCursor(pivot.task().createdAt(), pivot.id()), 5);
            assertThat(ids(next)).containsExactlyElementsOf(order.subList(10, 15));
        }

        @Test
        void filtersByStatusSet() {
            Set<TaskStatus> wanted = EnumSet.of(TaskStatus.RUNNING, TaskStatus.FAILED);
            TaskQuery q = TaskQuery.all().withStatuses(wanted);
            assertThat(ids(store.list(q, null, 100)))
                    .containsExactlyElementsOf(expected(r -> wanted.contains(r.task().status())));
            assertThat(listAllPages(q, 2)).containsExactlyElementsOf(expected(r -> wanted.contains(r.task().status())));
        }

        @Test
        void filtersByAgent() {
            TaskQuery q = TaskQuery.all().withAgentId("agent-b");
            assertThat(ids(store.list(q, null, 100)))
                    .containsExactlyElementsOf(expected(r -> r.task().agentId().equals("agent-b")));
            assertThat(store.list(TaskQuery.all().withAgentId("agent-zzz"), null, 100)).isEmpty();
        }

        @Test
        void filtersByTitleIgnoringCase() {
            List<String> bugs = expected(r -> r.task().title().contains("BUG"));
            assertThat(bugs).isNotEmpty();
            assertThat(ids(store.list(TaskQuery.all().withTitleContains("bug"), null, 100))).containsExactlyElementsOf(bugs);
            assertThat(ids(store.list(TaskQuery.all().withTitleContains("bUg NuMbEr"), null, 100)))
                    .containsExactlyElementsOf(bugs);
            assertThat(store.list(TaskQuery.all().withTitleContains("no such words"), null, 100)).isEmpty();
        }

        @Test
        void combinedFiltersAndPaging() {
            TaskQuery q = TaskQuery.all().withAgentId("agent-a").withTitleContains("docs")
                    .withStatuses(EnumSet.of(TaskStatus.PENDING, TaskStatus.WAITING_FOR_INPUT, TaskStatus.CANCELLED));
            List<String> want = expected(r -> r.task().agentId().equals("agent-a") && r.task().title().contains("docs")
                    && q.statuses().contains(r.task().status()));
            assertThat(want).isNotEmpty();
            assertThat(listAllPages(q, 1)).containsExactlyElementsOf(want);
        }

        @Test
        void titleFilterTreatsWildcardsLiterally() {
            insert(record("w1", TaskStatus.PENDING, T0.plusSeconds(100), "agent-w", "100% done"),
                    record("w2", TaskStatus.PENDING, T0.plusSeconds(101), "agent-w", "under_score"),
                    record("w3", TaskStatus.PENDING, T0.plusSeconds(102), "agent-w", "back\\slash [x] *star* ?q"),
                    record("w4", TaskStatus.PENDING, T0.plusSeconds(103), "agent-w", "plain words"));
            TaskQuery w = TaskQuery.all().withAgentId("agent-w");
            assertThat(ids(store.list(w.withTitleContains("%"), null, 10))).containsExactly("w1");
            assertThat(ids(store.list(w.withTitleContains("_"), null, 10))).containsExactly("w2");
            assertThat(ids(store.list(w.withTitleContains("\\"), null, 10))).containsExactly("w3");
            assertThat(ids(store.list(w.withTitleContains("[x]"), null, 10))).containsExactly("w3");
            assertThat(ids(store.list(w.withTitleContains("*star*"), null, 10))).containsExactly("w3");
            assertThat(ids(store.list(w.withTitleContains("?"), null, 10))).containsExactly("w3");
            assertThat(ids(store.list(w.withTitleContains("'"), null, 10))).isEmpty();
        }

        @Test
        void titleFilterMatchesUnicodeSubstrings() {
            insert(record("u1", TaskStatus.PENDING, T0.plusSeconds(100), "agent-u", "Résumé 日本語 🚀 task"),
                    record("u2", TaskStatus.PENDING, T0.plusSeconds(101), "agent-u", "other"));
            TaskQuery u = TaskQuery.all().withAgentId("agent-u");
            assertThat(ids(store.list(u.withTitleContains("日本"), null, 10))).containsExactly("u1");
            assertThat(ids(store.list(u.withTitleContains("🚀"), null, 10))).containsExactly("u1");
            assertThat(ids(store.list(u.withTitleContains("sumé"), null, 10))).containsExactly("u1");
        }
    }

    /** The recovery query and the per-status counts. */
    @Nested
    @DisplayName("recovery query and counts")
    class StatusQueries {

        @Test
        void findByStatusReturnsOldestFirst() {
            insert(record("r2", TaskStatus.RUNNING, T0.plusSeconds(2)), record("p1", TaskStatus.PENDING, T0.plusSeconds(1)),
                    record("w0", TaskStatus.WAITING_FOR_INPUT, T0), record("p3", TaskStatus.PENDING, T0.plusSeconds(3)),
                    record("c0", TaskStatus.COMPLETED, T0), record("r4", TaskStatus.RUNNING, T0.plusSeconds(4)));
            assertThat(ids(store.findByStatus(EnumSet.of(TaskStatus.PENDING, TaskStatus.RUNNING))))
                    .containsExactly("p1", "r2", "p3", "r4");
            assertThat(ids(store.findByStatus(EnumSet.of(TaskStatus.WAITING_FOR_INPUT)))).containsExactly("w0");
            assertThat(store.findByStatus(EnumSet.of(TaskStatus.CANCELLED))).isEmpty();
        }

        @Test
        void findByStatusReturnsFullRecords() {
            TaskRecord r = record("r1", TaskStatus.RUNNING, T0);
            insert(r);
            append("r1", 1, 4);
            TaskRecord got = store.findByStatus(EnumSet.of(TaskStatus.RUNNING)).get(0);
            assertSameTask(got.task(), r.task());
            assertThat(got.lastSeq()).isEqualTo(4);
            assertJsonEquals(got.options(), r.options());
        }

        @Test
        void findByStatusSeesStatusUpdates() {
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            insert(r);
            write(new UpdateTask(withStatus(r, TaskStatus.RUNNING, null), TaskStatus.PENDING));
            assertThat(store.findByStatus(EnumSet.of(TaskStatus.PENDING))).isEmpty();
            assertThat(ids(store.findByStatus(EnumSet.of(TaskStatus.RUNNING)))).containsExactly("t1");
        }

        @Test
        void countsPerStatus() {
            assertThat(store.countByStatus().values()).allSatisfy(n -> assertThat(n).isZero());
            insert(record("a", TaskStatus.PENDING, T0), record("b", TaskStatus.PENDING, T0),
                    record("c", TaskStatus.RUNNING, T0), record("d", TaskStatus.FAILED, T0),
                    record("e", TaskStatus.WAITING_FOR_INPUT, T0));
            Map<TaskStatus, Long> counts = store.countByStatus();
            assertThat(count(counts, TaskStatus.PENDING)).isEqualTo(2);
            assertThat(count(counts, TaskStatus.RUNNING)).isEqualTo(1);
            assertThat(count(counts, TaskStatus.WAITING_FOR_INPUT)).isEqualTo(1);
            assertThat(count(counts, TaskStatus.FAILED)).isEqualTo(1);
            assertThat(count(counts, TaskStatus.COMPLETED)).isZero();
            assertThat(count(counts, TaskStatus.CANCELLED)).isZero();

            store.delete("a");
            write(new UpdateTask(withStatus(record("c", TaskStatus.RUNNING, T0), TaskStatus.COMPLETED, T0),
                    TaskStatus.RUNNING));
            counts = store.countByStatus();
            assertThat(count(counts, TaskStatus.PENDING)).isEqualTo(1);
            assertThat(count(counts, TaskStatus.RUNNING)).isZero();
            assertThat(count(counts, TaskStatus.COMPLETED)).isEqualTo(1);
        }
    }

    /** Delete and retention. */
    @Nested
    @DisplayName("deletion and retention")
    class Deletion {

        private void taskWithEventsAndMessages(String id, TaskStatus status, Instant createdAt, Instant completedAt) {
            TaskRecord r = record(id, status, createdAt);
            if (completedAt != null) {
                r = withStatus(r, status, completedAt);
            }
            write(new InsertTask(r), new AppendEvent(event(id, 1)), new AppendEvent(event(id, 2)),
                    new AddMessage(message(id, id + "-m", "hi", createdAt)));
        }

        @Test
        void deleteRemovesTaskEventsAndMessages() {
            taskWithEventsAndMessages("t1", TaskStatus.RUNNING, T0, null);
            taskWithEventsAndMessages("t2", TaskStatus.RUNNING, T0, null);
            assertThat(store.delete("t1")).isTrue();

            assertThat(store.task("t1")).isEmpty();
            assertThat(store.events("t1", 0, 10)).isEmpty();
            assertThat(store.pendingMessages("t1")).isEmpty();
            assertThat(ids(store.list(TaskQuery.all(), null, 10))).containsExactly("t2");
            assertThat(store.findByStatus(EnumSet.of(TaskStatus.RUNNING))).extracting(TaskRecord::id).containsExactly("t2");
            assertThat(count(store.countByStatus(), TaskStatus.RUNNING)).isEqualTo(1);
            // the other task is untouched
            assertThat(seqs("t2")).containsExactly(1L, 2L);
            assertThat(store.pendingMessages("t2")).hasSize(1);
        }

        @Test
        void deleteOfUnknownOrDeletedTaskReturnsFalse() {
            assertThat(store.delete("ghost")).isFalse();
            insert(record("t1", TaskStatus.PENDING, T0));
            assertThat(store.delete("t1")).isTrue();
            assertThat(store.delete("t1")).isFalse();
        }

        @Test
        void writesToADeletedTaskConflict() {
            TaskRecord r = record("t1", TaskStatus.RUNNING, T0);
            insert(r);
            store.delete("t1");
            assertThatThrownBy(() -> write(new AppendEvent(event("t1", 1)))).isInstanceOf(StoreConflictException.class);
            assertThatThrownBy(() -> write(new UpdateTask(withStatus(r, TaskStatus.COMPLETED, T0), TaskStatus.RUNNING)))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.task("t1")).isEmpty();
        }

        @Test
        void purgeRemovesOnlyTerminalTasksCompletedBeforeTheCutOff() {
            Instant cutOff = T0.plusSeconds(100);
            taskWithEventsAndMessages("old-done", TaskStatus.COMPLETED, T0, T0.plusSeconds(10));
            taskWithEventsAndMessages("old-failed", TaskStatus.FAILED, T0, T0.plusSeconds(20));
            taskWithEventsAndMessages("old-cancelled", TaskStatus.CANCELLED, T0, T0.plusSeconds(30));
            taskWithEventsAndMessages("new-done", TaskStatus.COMPLETED, T0, T0.plusSeconds(200));
            taskWithEventsAndMessages("at-cut-off", TaskStatus.COMPLETED, T0, cutOff);
            taskWithEventsAndMessages("old-running", TaskStatus.RUNNING, T0, null);
            taskWithEventsAndMessages("old-pending", TaskStatus.PENDING, T0, null);
            taskWithEventsAndMessages("old-waiting", TaskStatus.WAITING_FOR_INPUT, T0, null);

            assertThat(store.purgeTerminal(cutOff, 100)).isEqualTo(3);

            for (String gone : List.of("old-done", "old-failed", "old-cancelled")) {
                assertThat(store.task(gone)).as(gone).isEmpty();
                assertThat(store.events(gone, 0, 10)).as(gone).isEmpty();
                assertThat(store.pendingMessages(gone)).as(gone).isEmpty();
            }
            assertThat(ids(store.list(TaskQuery.all(), null, 100))).containsExactlyInAnyOrder("new-done", "at-cut-off",
                    "old-running", "old-pending", "old-waiting");
            assertThat(seqs("new-done")).containsExactly(1L, 2L);
            assertThat(store.purgeTerminal(cutOff, 100)).isZero();
        }

        @Test
        void purgeIsBoundedByTheLimit() {
            for (int i = 0; i < 5; i++) {
                taskWithEventsAndMessages("done-" + i, TaskStatus.COMPLETED, T0, T0.plusSeconds(i));
            }
            Instant cutOff = T0.plusSeconds(100);
            assertThat(store.purgeTerminal(cutOff, 2)).isEqualTo(2);
            assertThat(store.list(TaskQuery.all(), null, 100)).hasSize(3);
            assertThat(store.purgeTerminal(cutOff, 2)).isEqualTo(2);
            assertThat(store.purgeTerminal(cutOff, 2)).isEqualTo(1);
            assertThat(store.purgeTerminal(cutOff, 2)).isZero();
            assertThat(store.list(TaskQuery.all(), null, 100)).isEmpty();
        }
    }

    /** JSON-compatible data, metadata and text survive the store unchanged. */
    @Nested
    @DisplayName("data round-trips")
    class RoundTrips {

        private Map<String, Object> richData() {
            Map<String, Object> nested = new LinkedHashMap<>();
            nested.put("null", null);
            nested.put("true", true);
            nested.put("false", false);
            nested.put("int", 42);
            nested.put("negative", -7);
            nested.put("long", 9_007_199_254_740_993L);
            nested.put("double", 3.25);
            nested.put("small", 1.0e-9);
            nested.put("empty string", "");
            nested.put("empty list", List.of());
            nested.put("empty map", Map.of());
            List<Object> list = new ArrayList<>();
            list.add(1);
            list.add("two");
            list.add(null);
            list.add(List.of(3, List.of(4, Map.of("five", 5))));
            list.add(Map.of("k", List.of(true, false)));
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("text", "Hello, wörld! 日本語 🚀 \"quotes\" 'single' \\ back\nslash\ttab\u0001control");
            data.put("nested", nested);
            data.put("list", list);
            data.put("emoji key 🔑", "value");
            data.put("deep", Map.of("a", Map.of("b", Map.of("c", Map.of("d", List.of("e"))))));
            return data;
        }

        @Test
        void eventDataRoundTrips() {
            insert(record("t1", TaskStatus.RUNNING, T0));
            Map<String, Object> data = richData();
            write(new AppendEvent(new TaskEvent("t1", 1, "rich", data, T0.plusMillis(123))));
            TaskEvent got = store.events("t1", 0, 1).get(0);
            assertThat(got.type()).isEqualTo("rich");
            assertThat(got.timestamp()).isEqualTo(T0.plusMillis(123));
            assertJsonEquals(got.data(), data);
        }

        @Test
        void stringsWithNulCharactersRoundTrip() {
            // JSON strings may hold U+0000; a store on a database that rejects it in text must encode it
            insert(record("t1", TaskStatus.RUNNING, T0));
            String text = "before\u0000after";
            write(new AppendEvent(new TaskEvent("t1", 1, "nul", Map.of("text", text), T0)));
            assertThat(store.events("t1", 0, 1).get(0).data().get("text")).isEqualTo(text);
        }

        @Test
        void optionsRoundTrip() {
            Map<String, Object> options = richData();
            TaskRecord r = new TaskRecord(record("t1", TaskStatus.PENDING, T0).task(), options, 0, null, null, 0);
            insert(r);
            assertJsonEquals(stored("t1").options(), options);
            assertJsonEquals(store.list(TaskQuery.all(), null, 1).get(0).options(), options);
        }

        @Test
        void metadataTitleAndTextFieldsRoundTrip() {
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("user", "Zoë 😀");
            metadata.put("empty", "");
            metadata.put("quote\"key", "line\nbreak");
            metadata.put("日本", "語");
            Task t = new Task("t-ü", "agent-ß", "sess-💬", TaskStatus.FAILED, "Title with 🚀 and \"quotes\"",
                    "model-ö", T0, T0.plusMillis(1), T0.plusMillis(2), "error: ✗ failed\nsecond line", "/tmp/dir ü",
                    metadata);
            insert(new TaskRecord(t, Map.of(), 0, "host-é", null, 0));
            assertSameTask(stored("t-ü").task(), t);
        }

        @Test
        void messageWithRichContentRoundTrips() {
            insert(record("t1", TaskStatus.RUNNING, T0));
            List<Map<String, Object>> blocks = List.of(Map.of("type", "text", "text", "日本語 🚀"), richData());
            write(new AddMessage(new PendingMessage("t1", "m1", TaskMessage.content(blocks), T0)),
                    new AddMessage(new PendingMessage("t1", "m2", TaskMessage.text("plain 🚀 \"text\""), T0)));
            List<PendingMessage> got = store.pendingMessages("t1");
            assertJsonEquals(got.get(0).message().content(), blocks);
            assertThat(got.get(1).message().text()).isEqualTo("plain 🚀 \"text\"");
            assertThat(got.get(1).message().content()).isNull();
        }

        @Test
        void largeEventDataRoundTrips() {
            insert(record("t1", TaskStatus.RUNNING, T0));
            String big = "x".repeat(200_000) + "🚀";
            write(new AppendEvent(new TaskEvent("t1", 1, "big", Map.of("text", big), T0)));
            assertThat(store.events("t1", 0, 1).get(0).data().get("text")).isEqualTo(big);
        }
    }
}
