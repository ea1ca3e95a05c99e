package dev.agenttasks.testkit;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.StoreOp.AddMessage;
import dev.agenttasks.spi.StoreOp.AppendEvent;
import dev.agenttasks.spi.StoreOp.RemoveMessage;
import dev.agenttasks.spi.StoreOp.UpdateTask;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The contract every {@link TaskStore} must pass. Extend it in a test of your store and implement
 * {@link #newStore()}; every test gets a fresh, empty store, closed after the test.
 *
 * <pre>{@code
 * class MyStoreContractTest extends TaskStoreContract {
 *     @TempDir Path dir;
 *     @Override protected TaskStore newStore() { return MyStore.open(dir.resolve("tasks.db")); }
 * }
 * }</pre>
 *
 * <p>The tests are grouped by capability in {@link Nested} classes: task rows and conditional updates,
 * batch atomicity, the event log, pending messages, listing and paging, the recovery query and
 * counts, deletion and retention, data round-trips, concurrency, and the store's lifecycle. Stores that
 * survive a restart should extend {@link DurableTaskStoreContract} instead, which adds reopening.
 *
 * <p>What is deliberately not required: a store need not reject a gap in event seqs (the engine never
 * writes one), only a duplicate; and it need not fold non-ASCII case in title filters. Numbers in
 * JSON-compatible data are compared by value, so a store may read {@code 1} back as an {@code Integer}
 * or a {@code Long}. Timestamps in the test data have millisecond precision and must come back exactly.
 *
 * <p>The groups live in a chain of classes, each a part of this contract: {@link TaskStoreContractSupport} (the
 * fixture and helpers), {@link TaskStoreRecordsContract}, {@link TaskStoreQueriesContract}, and this class
 * (concurrency and lifecycle). Extending this class runs them all.
 */
public abstract class TaskStoreContract extends TaskStoreQueriesContract {

    /** Subclasses have a no-argument constructor. */
    protected TaskStoreContract() {
    }

    /** Reads from many threads while one writes; writes from several threads serialised by the caller. */
    @Nested
    @DisplayName("concurrency")
    class Concurrency {

        @Test
        @Timeout(value = 60, unit = TimeUnit.SECONDS)
        void readersSeeConsistentPrefixesWhileAWriterAppends() throws Exception {
            TaskRecord r = record("t1", TaskStatus.RUNNING, T0);
            insert(r);
            int total = 2000;
            AtomicBoolean done = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                CyclicBarrier start = new CyclicBarrier(4);
                List<Future<Integer>> readers = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    readers.add(pool.submit(() -> {
                        start.await();
                        int reads = 0;
                        while (!done.get() || reads == 0) {
                            // The row's error field carries the seq of the last event committed with it,
                            // in the same batch: once a reader sees it, the log must hold that event.
                            TaskRecord row = stored("t1");
                            long committed = row.task().error() == null ? 0 : Long.parseLong(row.task().error());
                            List<TaskEvent> events = store.events("t1", 0, Integer.MAX_VALUE);
                            for (int k = 0; k < events.size(); k++) {
                                if (events.get(k).seq() != k + 1) {
                                    throw new AssertionError("gap or disorder at index " + k + ": " + events.get(k).seq());
                                }
                            }
                            if (events.size() < committed) {
                                throw new AssertionError("row says seq " + committed + " committed but the log has "
                                        + events.size());
                            }
                            if (row.lastSeq() < committed) {
                                throw new AssertionError("lastSeq " + row.lastSeq() + " behind committed " + committed);
                            }
                            List<TaskEvent> tail = store.events("t1", Math.max(0, events.size() - 3), 3);
                            if (!tail.isEmpty() && tail.get(0).seq() != Math.max(0, events.size() - 3) + 1) {
                                throw new AssertionError("page does not start after afterSeq");
                            }
                            store.list(TaskQuery.all(), null, 10);
                            store.countByStatus();
                            reads++;
                        }
                        return reads;
                    }));
                }
                Future<?> writer = pool.submit(() -> {
                    start.await();
                    long seq = 0;
                    int batch = 1;
                    while (seq < total) {
                        List<StoreOp> ops = new ArrayList<>();
                        int n = (int) Math.min(batch, total - seq);
                        for (int k = 0; k < n; k++) {
                            ops.add(new AppendEvent(event("t1", ++seq)));
                        }
                        Task o = r.task();
                        Task t = new Task(o.id(), o.agentId(), o.sessionId(), TaskStatus.RUNNING, o.title(), o.model(),
                                o.createdAt(), o.startedAt(), o.completedAt(), Long.toString(seq), o.workDir(),
                                o.metadata());
                        ops.add(new UpdateTask(r.withTask(t), TaskStatus.RUNNING));
                        store.write(ops);
                        batch = batch % 17 + 1;
                    }
                    return null;
                });
                try {
                    writer.get(60, TimeUnit.SECONDS);
                } finally {
                    done.set(true);
                }
                for (Future<Integer> f : readers) {
                    assertThat(f.get(60, TimeUnit.SECONDS)).isPositive();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(seqs("t1")).containsExactlyElementsOf(range(1, total));
            assertThat(stored("t1").lastSeq()).isEqualTo(total);
        }

        @Test
        @Timeout(value = 60, unit = TimeUnit.SECONDS)
        void writesFromSeveralThreadsSerialisedByTheCallerAreConsistent() throws Exception {
            int threads = 4;
            int perThread = 300;
            Object writeLock = new Object();
            for (int i = 0; i < threads; i++) {
                insert(record("t" + i, TaskStatus.RUNNING, T0.plusMillis(i)));
            }
            insert(record("shared", TaskStatus.RUNNING, T0));
            long[] sharedSeq = {0};
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> futures = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    String id = "t" + i;
                    futures.add(pool.submit(() -> {
                        start.await();
                        for (int k = 1; k <= perThread; k++) {
                            synchronized (writeLock) {
                                // each batch: an event of the thread's own task, one of the shared task and a
                                // message, as an engine's group commit would mix them
                                long s = ++sharedSeq[0];
                                store.write(List.of(new AppendEvent(event(id, k)), new AppendEvent(event("shared", s)),
                                        new AddMessage(message(id, id + "-" + k, "m" + k, T0))));
                                if (k % 3 == 0) {
                                    store.write(List.of(new RemoveMessage(id, id + "-" + k)));
                                }
                            }
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> f : futures) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            for (int i = 0; i < threads; i++) {
                String id = "t" + i;
                assertThat(seqs(id)).containsExactlyElementsOf(range(1, perThread));
                assertThat(stored(id).lastSeq()).isEqualTo(perThread);
                List<String> expectedMessages = IntStream.rangeClosed(1, perThread).filter(k -> k % 3 != 0)
                        .mapToObj(k -> id + "-" + k).toList();
                assertThat(store.pendingMessages(id)).extracting(PendingMessage::messageId)
                        .containsExactlyElementsOf(expectedMessages);
            }
            assertThat(seqs("shared")).containsExactlyElementsOf(range(1, (long) threads * perThread));
            assertThat(stored("shared").lastSeq()).isEqualTo((long) threads * perThread);
        }

        @Test
        @Timeout(value = 60, unit = TimeUnit.SECONDS)
        void concurrentConflictingInsertsLetExactlyOneWin() throws Exception {
            int threads = 4;
            Object writeLock = new Object();
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Boolean>> futures = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    String agent = "agent-" + i;
                    futures.add(pool.submit(() -> {
                        start.await();
                        synchronized (writeLock) {
                            try {
                                insert(record("same", TaskStatus.PENDING, T0, agent, "t"));
                                return true;
                            } catch (StoreConflictException e) {
                                return false;
                            }
                        }
                    }));
                }
                start.countDown();
                int wins = 0;
                for (Future<Boolean> f : futures) {
                    wins += f.get(60, TimeUnit.SECONDS) ? 1 : 0;
                }
                assertThat(wins).isEqualTo(1);
            } finally {
                pool.shutdownNow();
            }
            assertThat(store.list(TaskQuery.all(), null, 10)).hasSize(1);
        }
    }

    /** Close and use after close. */
    @Nested
    @DisplayName("lifecycle")
    class Lifecycle {

        @Test
        void closeIsIdempotent() {
            store.close();
            store.close();
        }

        @Test
        void everyOperationAfterCloseThrowsTaskStoreException() {
            insert(record("t1", TaskStatus.RUNNING, T0));
            store.close();
            Map<String, Runnable> ops = new LinkedHashMap<>();
            ops.put("write", () -> insert(record("t2", TaskStatus.PENDING, T0)));
            ops.put("task", () -> store.task("t1"));
            ops.put("list", () -> store.list(TaskQuery.all(), null, 10));
            ops.put("findByStatus", () -> store.findByStatus(EnumSet.allOf(TaskStatus.class)));
            ops.put("events", () -> store.events("t1", 0, 10));
            ops.put("pendingMessages", () -> store.pendingMessages("t1"));
            ops.put("countByStatus", () -> store.countByStatus());
            ops.put("delete", () -> store.delete("t1"));
            ops.put("purgeTerminal", () -> store.purgeTerminal(T0, 10));
            List<String> notThrowing = new ArrayList<>();
            ops.forEach((name, op) -> {
                try {
                    op.run();
                    notThrowing.add(name + " (returned normally)");
                } catch (TaskStoreException expected) {
                    // right
                } catch (RuntimeException other) {
                    notThrowing.add(name + " (threw " + other + ")");
                }
            });
            assertThat(notThrowing).as("operations that did not throw TaskStoreException after close").isEmpty();
        }
    }
}
