package dev.agenttasks.testkit;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp.AddMessage;
import dev.agenttasks.spi.StoreOp.AppendEvent;
import dev.agenttasks.spi.StoreOp.InsertTask;
import dev.agenttasks.spi.StoreOp.UpdateTask;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The {@link TaskStoreContract} plus durability: what was committed is still there after the store is
 * closed and opened again on the same data. Extend it for stores that survive a restart and implement
 * {@link #reopenStore()} as well as {@link #newStore()}.
 */
public abstract class DurableTaskStoreContract extends TaskStoreContract {

    /** Subclasses have a no-argument constructor. */
    protected DurableTaskStoreContract() {
    }

    /**
     * Opens a new store instance on the data of the store last returned by {@link #newStore()} (or by this
     * method). The test has already closed the previous instance.
     *
     * @return the reopened store
     * @throws Exception if it cannot be opened
     */
    protected abstract TaskStore reopenStore() throws Exception;

    /**
     * Closes {@link #store} and replaces it by a reopened instance.
     *
     * @throws Exception if it cannot be reopened
     */
    protected void reopen() throws Exception {
        store.close();
        store = reopenStore();
    }

    /** Committed state survives closing and reopening. */
    @Nested
    @DisplayName("durability")
    class Durability {

        @Test
        void committedWritesSurviveReopen() throws Exception {
            TaskRecord a = record("a", TaskStatus.PENDING, T0);
            TaskRecord b = record("b", TaskStatus.WAITING_FOR_INPUT, T0.plusSeconds(1));
            write(new InsertTask(a), new AppendEvent(statusEvent("a", 1, TaskStatus.PENDING)), new InsertTask(b),
                    new AddMessage(message("b", "m1", "answer 🚀", T0)));
            write(new UpdateTask(withStatus(a, TaskStatus.RUNNING, null), TaskStatus.PENDING),
                    new AppendEvent(statusEvent("a", 2, TaskStatus.RUNNING)), new AppendEvent(event("a", 3)));

            reopen();

            TaskRecord gotA = store.task("a").orElseThrow();
            assertThat(gotA.task().status()).isEqualTo(TaskStatus.RUNNING);
            assertThat(gotA.lastSeq()).isEqualTo(3);
            assertSameTask(store.task("b").orElseThrow().task(), b.task());
            assertThat(store.events("a", 0, 10)).extracting(TaskEvent::seq).containsExactly(1L, 2L, 3L);
            assertJsonEquals(store.events("a", 2, 1).get(0).data(), event("a", 3).data());
            assertThat(store.pendingMessages("b")).extracting(PendingMessage::messageId).containsExactly("m1");
            assertThat(store.pendingMessages("b").get(0).message().text()).isEqualTo("answer 🚀");
            assertThat(store.list(TaskQuery.all(), null, 10)).extracting(TaskRecord::id).containsExactly("b", "a");
            assertThat(store.findByStatus(EnumSet.of(TaskStatus.RUNNING))).extracting(TaskRecord::id).containsExactly("a");

            // the reopened store goes on where the log ended
            write(new AppendEvent(event("a", 4)));
            assertThatThrownBy(() -> write(new AppendEvent(event("a", 4)))).isInstanceOf(StoreConflictException.class);
            assertThat(store.task("a").orElseThrow().lastSeq()).isEqualTo(4);
        }

        @Test
        void failedBatchesAndDeletionsStayThatWayAfterReopen() throws Exception {
            TaskRecord a = record("a", TaskStatus.RUNNING, T0);
            insert(a, record("gone", TaskStatus.COMPLETED, T0));
            append("gone", 1, 5);
            assertThatThrownBy(() -> store.write(List.of(new AppendEvent(event("a", 1)),
                    new UpdateTask(withStatus(a, TaskStatus.COMPLETED, T0), TaskStatus.PENDING))))
                    .isInstanceOf(StoreConflictException.class);
            store.delete("gone");

            reopen();

            assertThat(store.events("a", 0, 10)).isEmpty();
            assertThat(store.task("a").orElseThrow().task().status()).isEqualTo(TaskStatus.RUNNING);
            assertThat(store.task("gone")).isEmpty();
            assertThat(store.events("gone", 0, 10)).isEmpty();
            Map<TaskStatus, Long> counts = store.countByStatus();
            assertThat(counts.getOrDefault(TaskStatus.COMPLETED, 0L)).isZero();
        }
    }
}
