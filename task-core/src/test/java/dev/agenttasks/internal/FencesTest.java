package dev.agenttasks.internal;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Where the writer puts fences in a batch. The fences lead the batch so the store can check them in one
 * statement and keep the ops of one kind together; the no-pending-message condition of a finishing
 * unit rides on the task's leading fence unless the batch itself consumes one of the task's messages
 * before it. (It once always went at the unit's place: on PostgreSQL that broke every batch's statement
 * runs, about 7 more statements per task in the {@code pghosts} bench.)
 */
class FencesTest {
    private static final Instant T = Instant.parse("2026-11-30T00:00:00Z");

    private final TaskRecord running = record("t1", TaskStatus.RUNNING).withClaim("h", 3);
    private final TaskState state = new TaskState(running, 16, 1 << 20);

    private static TaskRecord record(String id, TaskStatus status) {
        Task t = new Task(id, "a", null, status, "task " + id, "m", T, T, null, null, null, Map.of());
        return new TaskRecord(t, Map.of(), 0, null, null, 0);
    }

    private Writer.Unit unit(TaskState s, StoreOp... ops) {
        return new Writer.Unit(s, 0, List.of(ops), null, null);
    }

    private Writer.Unit finishing(TaskState s) {
        Writer.Unit u = unit(s, new StoreOp.UpdateTask(s.record, TaskStatus.RUNNING), event(s.id, 9));
        u.guard = new Finishing.Guard(running, 9);
        return u;
    }

    private static StoreOp event(String id, long seq) {
        return new StoreOp.AppendEvent(new TaskEvent(id, seq, TaskEvent.STATUS, Map.of("status", "completed"), T));
    }

    private static List<StoreOp> batch(Writer.Unit... units) {
        List<StoreOp> fences = new ArrayList<>();
        List<StoreOp> ops = new ArrayList<>();
        Set<TaskState> fenced = new HashSet<>();
        for (Writer.Unit u : units) {
            Fences.add(fences, ops, fenced, u);
        }
        return Fences.join(fences, ops);
    }

    private static List<StoreOp.Fence> fences(List<StoreOp> batch) {
        return batch.stream().filter(StoreOp.Fence.class::isInstance).map(StoreOp.Fence.class::cast).toList();
    }

    @Test
    void aFinishAfterEventsOfTheSameBatchPutsItsConditionOnTheLeadingFence() {
        List<StoreOp> b = batch(unit(state, event("t1", 7)), unit(state, event("t1", 8)), finishing(state));

        assertThat(b.get(0)).isEqualTo(new StoreOp.Fence("t1", "h", 3, true));
        assertThat(fences(b)).hasSize(1);
        assertThat(b).hasSize(5);
    }

    @Test
    void aFinishAloneGuardsItsLeadingFence() {
        List<StoreOp> b = batch(finishing(state));

        assertThat(b.get(0)).isEqualTo(new StoreOp.Fence("t1", "h", 3, true));
        assertThat(fences(b)).hasSize(1);
    }

    @Test
    void aTaskTheBatchInsertsNeedsNoFenceAtAll() {
        TaskRecord fresh = record("t2", TaskStatus.PENDING).withClaim("h", 1);
        TaskState s = new TaskState(fresh, 16, 1 << 20);

        List<StoreOp> b = batch(unit(s, new StoreOp.InsertTask(fresh), event("t2", 1)), unit(s, event("t2", 2)),
                finishing(s));

        assertThat(fences(b)).isEmpty();
        assertThat(b.get(0)).isInstanceOf(StoreOp.InsertTask.class);
    }

    @Test
    void aFinishAfterTheBatchConsumedAMessageIsCheckedAtItsPlace() {
        Writer.Unit begin = unit(state, new StoreOp.RemoveMessage("t1", "m1"), event("t1", 8));

        List<StoreOp> b = batch(begin, finishing(state));

        assertThat(b.get(0)).isEqualTo(new StoreOp.Fence("t1", "h", 3, false));
        assertThat(b.get(3)).isEqualTo(new StoreOp.Fence("t1", "h", 3, true)); // after the removal
        assertThat(fences(b)).hasSize(2);
    }

    @Test
    void otherTasksKeepTheirOwnLeadingFences() {
        TaskState other = new TaskState(record("t3", TaskStatus.RUNNING).withClaim("h", 5), 16, 1 << 20);

        List<StoreOp> b = batch(unit(state, event("t1", 8)), unit(other, event("t3", 4)), finishing(state));

        assertThat(b.subList(0, 2)).containsExactly(new StoreOp.Fence("t1", "h", 3, true),
                new StoreOp.Fence("t3", "h", 5, false));
        assertThat(fences(b)).hasSize(2);
    }
}
