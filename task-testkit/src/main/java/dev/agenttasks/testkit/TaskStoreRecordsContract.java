package dev.agenttasks.testkit;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.StoreOp.AddMessage;
import dev.agenttasks.spi.StoreOp.AppendEvent;
import dev.agenttasks.spi.StoreOp.InsertTask;
import dev.agenttasks.spi.StoreOp.RemoveMessage;
import dev.agenttasks.spi.StoreOp.UpdateTask;
import dev.agenttasks.spi.TaskRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The part of the {@link TaskStoreContract} about what a batch writes: task rows and conditional updates, batch
 * atomicity, the event log and pending messages. Store tests extend {@link TaskStoreContract}, which runs these
 * tests with the others.
 */
public abstract class TaskStoreRecordsContract extends TaskStoreContractSupport {

    /** Subclasses have a no-argument constructor. */
    protected TaskStoreRecordsContract() {
    }

    /** Insert, get, conditional update. */
    @Nested
    @DisplayName("task rows")
    class TaskRows {

        @Test
        void insertedTaskReadsBackWithEveryField() {
            Task t = new Task("t1", "agent-a", "s-1", TaskStatus.RUNNING, "Write a haiku", "model-x", T0,
                    T0.plusMillis(5), null, null, "/tmp/work", Map.of("user", "ann", "tenant", "acme"));
            TaskRecord r = new TaskRecord(t, Map.of("enable_mcp", false, "add_dirs", List.of("/a", "/b")), 1500,
                    "host-1", T0.plusSeconds(30), 0);
            insert(r);

            TaskRecord got = stored("t1");
            assertSameTask(got.task(), t);
            assertJsonEquals(got.options(), r.options());
            assertThat(got.timeoutMillis()).isEqualTo(1500);
            assertThat(got.owner()).isEqualTo("host-1");
            assertThat(got.leaseUntil()).isEqualTo(T0.plusSeconds(30));
            assertThat(got.lastSeq()).isZero();
        }

        @Test
        void nullableFieldsStayNull() {
            Task t = new Task("t1", "agent-a", null, TaskStatus.PENDING, "x", null, T0, null, null, null, null,
                    Map.of());
            insert(new TaskRecord(t, Map.of(), 0, null, null, 0));
            TaskRecord got = stored("t1");
            assertSameTask(got.task(), t);
            assertThat(got.owner()).isNull();
            assertThat(got.leaseUntil()).isNull();
            assertThat(got.options()).isEmpty();
        }

        @Test
        void unknownTaskIsEmpty() {
            assertThat(store.task("nope")).isEmpty();
        }

        @Test
        void lastSeqGivenOnInsertIsIgnored() {
            insert(record("t1", TaskStatus.PENDING, T0).withLastSeq(42));
            assertThat(stored("t1").lastSeq()).isZero();
            assertThat(store.events("t1", 0, 100)).isEmpty();
        }

        @Test
        void duplicateInsertConflictsAndKeepsTheOriginal() {
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            insert(r);
            TaskRecord other = record("t1", TaskStatus.RUNNING, T0.plusSeconds(1), "agent-b", "Other");
            assertThatThrownBy(() -> insert(other))
                    .isInstanceOf(StoreConflictException.class)
                    .satisfies(e -> assertThat(((StoreConflictException) e).taskId()).isEqualTo("t1"));
            assertSameTask(stored("t1").task(), r.task());
        }

        @Test
        void duplicateInsertInOneBatchConflictsAndAppliesNothing() {
            assertThatThrownBy(() -> insert(record("t1", TaskStatus.PENDING, T0), record("t2", TaskStatus.PENDING, T0),
                    record("t1", TaskStatus.PENDING, T0)))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.task("t1")).isEmpty();
            assertThat(store.task("t2")).isEmpty();
        }

        @Test
        void updateWithExpectedStatusReplacesTheMutableFields() {
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            insert(r);
            Task t = r.task();
            Task running = new Task(t.id(), t.agentId(), "s-9", TaskStatus.RUNNING, t.title(), t.model(), t.createdAt(),
                    T0.plusMillis(10), null, null, t.workDir(), t.metadata());
            write(new UpdateTask(new TaskRecord(running, r.options(), r.timeoutMillis(), "host-2", T0.plusSeconds(60),
                    0), TaskStatus.PENDING));

            TaskRecord got = stored("t1");
            assertSameTask(got.task(), running);
            assertThat(got.owner()).isEqualTo("host-2");
            assertThat(got.leaseUntil()).isEqualTo(T0.plusSeconds(60));
            assertJsonEquals(got.options(), r.options());

            Task failed = new Task(running.id(), running.agentId(), running.sessionId(), TaskStatus.FAILED,
                    running.title(), running.model(), running.createdAt(), running.startedAt(), T0.plusMillis(20),
                    "it broke", running.workDir(), running.metadata());
            write(new UpdateTask(new TaskRecord(failed, r.options(), r.timeoutMillis(), null, null, 0),
                    TaskStatus.RUNNING));
            got = stored("t1");
            assertSameTask(got.task(), failed);
            assertThat(got.owner()).isNull();
            assertThat(got.leaseUntil()).isNull();
        }

        @Test
        void updateDoesNotChangeLastSeq() {
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            insert(r);
            append("t1", 1, 3);
            write(new UpdateTask(withStatus(r, TaskStatus.RUNNING, null).withLastSeq(99), TaskStatus.PENDING));
            assertThat(stored("t1").lastSeq()).isEqualTo(3);
        }

        @Test
        void updateWithWrongExpectedStatusConflictsAndChangesNothing() {
            TaskRecord r = record("t1", TaskStatus.RUNNING, T0);
            insert(r);
            TaskRecord completed = withStatus(r, TaskStatus.COMPLETED, T0.plusSeconds(1));
            assertThatThrownBy(() -> write(new UpdateTask(completed, TaskStatus.PENDING)))
                    .isInstanceOf(StoreConflictException.class)
                    .satisfies(e -> assertThat(((StoreConflictException) e).taskId()).isEqualTo("t1"));
            assertSameTask(stored("t1").task(), r.task());
        }

        @Test
        void updateOfUnknownTaskConflicts() {
            assertThatThrownBy(() -> write(new UpdateTask(record("ghost", TaskStatus.RUNNING, T0), TaskStatus.PENDING)))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.task("ghost")).isEmpty();
        }

        @Test
        void emptyBatchIsANoOp() {
            store.write(List.of());
            assertThat(store.list(TaskQuery.all(), null, 10)).isEmpty();
        }
    }

    /** A batch is applied entirely or not at all. */
    @Nested
    @DisplayName("batch atomicity")
    class Atomicity {

        @Test
        void statusUpdateAndStatusEventCommitTogether() {
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            write(new InsertTask(r), new AppendEvent(statusEvent("t1", 1, TaskStatus.PENDING)));
            write(new UpdateTask(withStatus(r, TaskStatus.RUNNING, null), TaskStatus.PENDING),
                    new AppendEvent(statusEvent("t1", 2, TaskStatus.RUNNING)));

            assertThat(stored("t1").task().status()).isEqualTo(TaskStatus.RUNNING);
            assertThat(stored("t1").lastSeq()).isEqualTo(2);
            List<TaskEvent> events = store.events("t1", 0, 10);
            assertThat(events).extracting(TaskEvent::status).containsExactly(TaskStatus.PENDING, TaskStatus.RUNNING);
        }

        @Test
        void failedCasFailsTheWholeBatch() {
            TaskRecord a = record("a", TaskStatus.RUNNING, T0);
            TaskRecord b = record("b", TaskStatus.PENDING, T0);
            write(new InsertTask(a), new AppendEvent(event("a", 1)), new InsertTask(b),
                    new AddMessage(message("b", "m1", "first", T0)));

            // Everything before the failing CAS must be rolled back: a new task, an event, a message, a
            // removal and a successful update of another task.
            List<StoreOp> batch = List.of(
                    new InsertTask(record("c", TaskStatus.PENDING, T0)),
                    new AppendEvent(event("a", 2)),
                    new UpdateTask(withStatus(b, TaskStatus.RUNNING, null), TaskStatus.PENDING),
                    new AddMessage(message("a", "m2", "second", T0)),
                    new RemoveMessage("b", "m1"),
                    new UpdateTask(withStatus(a, TaskStatus.COMPLETED, T0.plusSeconds(1)), TaskStatus.PENDING),
                    new AppendEvent(event("a", 3)));
            assertThatThrownBy(() -> store.write(batch)).isInstanceOf(StoreConflictException.class);

            assertThat(store.task("c")).isEmpty();
            assertThat(seqs("a")).containsExactly(1L);
            assertThat(stored("a").lastSeq()).isEqualTo(1);
            assertThat(stored("a").task().status()).isEqualTo(TaskStatus.RUNNING);
            assertThat(stored("b").task().status()).isEqualTo(TaskStatus.PENDING);
            assertThat(store.pendingMessages("a")).isEmpty();
            assertThat(store.pendingMessages("b")).extracting(PendingMessage::messageId).containsExactly("m1");
            assertThat(store.countByStatus().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(2);
        }

        @Test
        void duplicateSeqFailsTheStatusUpdateWithIt() {
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            write(new InsertTask(r), new AppendEvent(statusEvent("t1", 1, TaskStatus.PENDING)));
            assertThatThrownBy(() -> write(new UpdateTask(withStatus(r, TaskStatus.RUNNING, null), TaskStatus.PENDING),
                    new AppendEvent(statusEvent("t1", 1, TaskStatus.RUNNING))))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(stored("t1").task().status()).isEqualTo(TaskStatus.PENDING);
            assertThat(store.events("t1", 0, 10)).extracting(TaskEvent::status).containsExactly(TaskStatus.PENDING);
        }

        @Test
        void aBatchSpanningSeveralTasksAppliesToAll() {
            List<StoreOp> ops = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                String id = "t" + i;
                ops.add(new InsertTask(record(id, TaskStatus.PENDING, T0.plusMillis(i))));
                ops.add(new AppendEvent(statusEvent(id, 1, TaskStatus.PENDING)));
                ops.add(new AddMessage(message(id, "m" + i, "hello " + i, T0)));
            }
            store.write(ops);
            for (int i = 0; i < 5; i++) {
                assertThat(stored("t" + i).lastSeq()).isEqualTo(1);
                assertThat(store.pendingMessages("t" + i)).hasSize(1);
            }
        }

        @Test
        void opsOfABatchApplyInOrder() {
            // insert, then update the row inserted by the same batch, then append to it
            TaskRecord r = record("t1", TaskStatus.PENDING, T0);
            write(new InsertTask(r), new AppendEvent(statusEvent("t1", 1, TaskStatus.PENDING)),
                    new UpdateTask(withStatus(r, TaskStatus.RUNNING, null), TaskStatus.PENDING),
                    new AppendEvent(statusEvent("t1", 2, TaskStatus.RUNNING)),
                    new AddMessage(message("t1", "m1", "x", T0)), new RemoveMessage("t1", "m1"));
            assertThat(stored("t1").task().status()).isEqualTo(TaskStatus.RUNNING);
            assertThat(seqs("t1")).containsExactly(1L, 2L);
            assertThat(store.pendingMessages("t1")).isEmpty();
        }
    }

    /** Append and page the event log. */
    @Nested
    @DisplayName("event log")
    class EventLog {

        @BeforeEach
        void task() {
            insert(record("t1", TaskStatus.RUNNING, T0));
        }

        @Test
        void eventsReadBackInSeqOrderWithEveryField() {
            append("t1", 1, 10);
            List<TaskEvent> events = store.events("t1", 0, 100);
            assertThat(events).extracting(TaskEvent::seq).containsExactlyElementsOf(range(1, 10));
            for (TaskEvent e : events) {
                TaskEvent expected = event("t1", e.seq());
                assertThat(e.taskId()).isEqualTo("t1");
                assertThat(e.type()).isEqualTo(expected.type());
                assertThat(e.timestamp()).isEqualTo(expected.timestamp());
                assertJsonEquals(e.data(), expected.data());
            }
        }

        @Test
        void pagesByAfterSeqAndLimit() {
            append("t1", 1, 10);
            assertThat(store.events("t1", 3, 4)).extracting(TaskEvent::seq).containsExactly(4L, 5L, 6L, 7L);
            assertThat(store.events("t1", 8, 100)).extracting(TaskEvent::seq).containsExactly(9L, 10L);
            assertThat(store.events("t1", 10, 100)).isEmpty();
            assertThat(store.events("t1", 50, 100)).isEmpty();
            assertThat(store.events("t1", 0, 1)).extracting(TaskEvent::seq).containsExactly(1L);
        }

        @Test
        void pagingOneByOneWalksTheWholeLog() {
            append("t1", 1, 200);
            List<Long> seen = new ArrayList<>();
            long after = 0;
            while (true) {
                List<TaskEvent> page = store.events("t1", after, 7);
                if (page.isEmpty()) {
                    break;
                }
                assertThat(page.size()).isLessThanOrEqualTo(7);
                page.forEach(e -> seen.add(e.seq()));
                after = page.get(page.size() - 1).seq();
            }
            assertThat(seen).containsExactlyElementsOf(range(1, 200));
        }

        @Test
        void appendsAcrossBatchesExtendTheLog() {
            for (int i = 0; i < 20; i++) {
                append("t1", i * 5L + 1, 5);
            }
            assertThat(seqs("t1")).containsExactlyElementsOf(range(1, 100));
            assertThat(stored("t1").lastSeq()).isEqualTo(100);
        }

        @Test
        void lastSeqFollowsTheLog() {
            assertThat(stored("t1").lastSeq()).isZero();
            append("t1", 1, 1);
            assertThat(stored("t1").lastSeq()).isEqualTo(1);
            append("t1", 2, 9);
            assertThat(stored("t1").lastSeq()).isEqualTo(10);
            assertThat(store.list(TaskQuery.all(), null, 10)).singleElement()
                    .satisfies(r -> assertThat(r.lastSeq()).isEqualTo(10));
        }

        @Test
        void duplicateSeqIsRejected() {
            append("t1", 1, 3);
            assertThatThrownBy(() -> write(new AppendEvent(new TaskEvent("t1", 2, "other", Map.of(), T0))))
                    .isInstanceOf(StoreConflictException.class)
                    .satisfies(e -> assertThat(((StoreConflictException) e).taskId()).isEqualTo("t1"));
            assertThat(store.events("t1", 1, 1)).singleElement().satisfies(e -> assertThat(e.type()).isEqualTo("text"));
            assertThat(stored("t1").lastSeq()).isEqualTo(3);
        }

        @Test
        void duplicateSeqWithinOneBatchIsRejected() {
            assertThatThrownBy(() -> write(new AppendEvent(event("t1", 1)), new AppendEvent(event("t1", 2)),
                    new AppendEvent(event("t1", 2))))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.events("t1", 0, 10)).isEmpty();
            assertThat(stored("t1").lastSeq()).isZero();
        }

        @Test
        void eventOfUnknownTaskIsRejected() {
            assertThatThrownBy(() -> write(new AppendEvent(event("ghost", 1))))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.task("ghost")).isEmpty();
            assertThat(store.events("ghost", 0, 10)).isEmpty();
        }

        @Test
        void eventOfUnknownTaskFailsTheWholeBatch() {
            assertThatThrownBy(() -> write(new AppendEvent(event("t1", 1)), new AppendEvent(event("ghost", 1))))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.events("t1", 0, 10)).isEmpty();
        }

        @Test
        void eventsOfUnknownTaskAreEmpty() {
            assertThat(store.events("ghost", 0, 10)).isEmpty();
        }

        @Test
        void logsOfTasksAreIndependent() {
            insert(record("t2", TaskStatus.RUNNING, T0));
            List<StoreOp> ops = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                ops.add(new AppendEvent(event("t1", i)));
                ops.add(new AppendEvent(event("t2", i)));
            }
            store.write(ops);
            append("t2", 6, 2);
            assertThat(seqs("t1")).containsExactlyElementsOf(range(1, 5));
            assertThat(seqs("t2")).containsExactlyElementsOf(range(1, 7));
            assertThat(store.events("t2", 0, 100)).allSatisfy(e -> assertThat(e.taskId()).isEqualTo("t2"));
        }
    }

    /** Pending follow-up messages. */
    @Nested
    @DisplayName("pending messages")
    class Messages {

        @BeforeEach
        void task() {
            insert(record("t1", TaskStatus.RUNNING, T0));
        }

        @Test
        void messagesComeBackInTheOrderAdded() {
            write(new AddMessage(message("t1", "m-c", "third?", T0.plusMillis(3))));
            write(new AddMessage(message("t1", "m-a", "first?", T0.plusMillis(1))),
                    new AddMessage(message("t1", "m-b", "second?", T0.plusMillis(1))));
            List<PendingMessage> got = store.pendingMessages("t1");
            assertThat(got).extracting(PendingMessage::messageId).containsExactly("m-c", "m-a", "m-b");
            assertThat(got.get(0).message().text()).isEqualTo("third?");
            assertThat(got.get(0).createdAt()).isEqualTo(T0.plusMillis(3));
            assertThat(got).allSatisfy(m -> assertThat(m.taskId()).isEqualTo("t1"));
        }

        @Test
        void removeTakesOutOneMessage() {
            write(new AddMessage(message("t1", "m1", "a", T0)), new AddMessage(message("t1", "m2", "b", T0)),
                    new AddMessage(message("t1", "m3", "c", T0)));
            write(new RemoveMessage("t1", "m2"));
            assertThat(store.pendingMessages("t1")).extracting(PendingMessage::messageId).containsExactly("m1", "m3");
            write(new RemoveMessage("t1", "m1"), new RemoveMessage("t1", "m3"));
            assertThat(store.pendingMessages("t1")).isEmpty();
        }

        @Test
        void removingAMissingMessageIsNotAnError() {
            write(new RemoveMessage("t1", "never-added"));
            assertThat(store.pendingMessages("t1")).isEmpty();
        }

        @Test
        void messageOfUnknownTaskIsRejected() {
            assertThatThrownBy(() -> write(new AddMessage(message("ghost", "m1", "x", T0))))
                    .isInstanceOf(StoreConflictException.class);
            assertThat(store.pendingMessages("ghost")).isEmpty();
        }

        @Test
        void aTaskCreatedWithoutMessageKeepsANullMessage() {
            write(new AddMessage(new PendingMessage("t1", "m0", null, T0)));
            assertThat(store.pendingMessages("t1")).singleElement()
                    .satisfies(m -> assertThat(m.message()).isNull());
        }

        @Test
        void contentBlocksRoundTrip() {
            List<Map<String, Object>> blocks = List.of(
                    Map.of("type", "text", "text", "Look at this 📎"),
                    Map.of("type", "image", "source", Map.of("kind", "url", "url", "https://example.org/a.png"),
                            "size", 1234));
            write(new AddMessage(new PendingMessage("t1", "m1", TaskMessage.content(blocks), T0)));
            PendingMessage got = store.pendingMessages("t1").get(0);
            assertThat(got.message().text()).isNull();
            assertJsonEquals(got.message().content(), blocks);
        }

        @Test
        void messagesOfTasksAreIndependent() {
            insert(record("t2", TaskStatus.RUNNING, T0));
            write(new AddMessage(message("t1", "m1", "for t1", T0)), new AddMessage(message("t2", "m2", "for t2", T0)));
            assertThat(store.pendingMessages("t1")).extracting(PendingMessage::messageId).containsExactly("m1");
            assertThat(store.pendingMessages("t2")).extracting(PendingMessage::messageId).containsExactly("m2");
            assertThat(store.pendingMessages("ghost")).isEmpty();
        }
    }
}
