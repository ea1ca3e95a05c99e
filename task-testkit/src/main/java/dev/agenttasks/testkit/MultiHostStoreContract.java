package dev.agenttasks.testkit;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.DuplicateKeyException;
import dev.agenttasks.spi.IdempotencyKey;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.RemoteRequest;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The store side of the multi-host protocol ({@code docs/multi-host.md}): heartbeats and orphans,
 * claims, compare-and-set takeovers, fences, requests and idempotency keys. Every store meant to be
 * shared by several managers passes it. {@link #newStore()} opens a fresh, empty store;
 * {@link #secondConnection()} opens a second store object on the same data when the store supports
 * that (two processes on one SQLite file, two pools on one PostgreSQL database), or returns the same
 * store.
 */
public abstract class MultiHostStoreContract {

    /** The base time of the test data. */
    protected static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    /** The store under test. */
    protected TaskStore store;
    private TaskStore second;

    /** Subclasses have a no-argument constructor. */
    protected MultiHostStoreContract() {
    }

    /**
     * @return a new, empty store
     * @throws Exception if it cannot be opened
     */
    protected abstract TaskStore newStore() throws Exception;

    /**
     * @return another store object on the data of the last {@link #newStore()}, or that store itself
     * @throws Exception if it cannot be opened
     */
    protected TaskStore secondConnection() throws Exception {
        return store;
    }

    @BeforeEach
    void open() throws Exception {
        store = newStore();
        second = secondConnection();
    }

    @AfterEach
    void close() {
        if (second != null && second != store) {
            second.close();
        }
        if (store != null) {
            store.close();
        }
    }

    private static TaskRecord pending(String id, int createdMillis) {
        Task t = new Task(id, "agent-a", null, TaskStatus.PENDING, "Task " + id, "m", T0.plusMillis(createdMillis),
                null, null, null, null, Map.of());
        return new TaskRecord(t, Map.of(), 0, null, null, 0);
    }

    private static TaskRecord moved(TaskRecord r, TaskStatus to, String owner) {
        Task t = r.task();
        Task m = new Task(t.id(), t.agentId(), t.sessionId(), to, t.title(), t.model(), t.createdAt(),
                to == TaskStatus.RUNNING ? T0 : t.startedAt(), to.isTerminal() ? T0 : null, t.error(), t.workDir(),
                t.metadata());
        return r.withTask(m).withOwner(owner, null);
    }

    private void insert(TaskRecord... rs) {
        List<StoreOp> ops = new ArrayList<>();
        for (TaskRecord r : rs) {
            ops.add(new StoreOp.InsertTask(r));
            ops.add(new StoreOp.AppendEvent(new TaskEvent(r.id(), 1, TaskEvent.STATUS, Map.of("status", "pending"),
                    r.task().createdAt())));
        }
        store.write(ops);
    }

    @Test
    void insertKeepsOwnerAndEpochAndUpdateNeverChangesTheEpoch() {
        TaskRecord r = pending("t1", 0).withClaim("h1", 1);
        insert(r);
        assertThat(store.task("t1").orElseThrow().owner()).isEqualTo("h1");
        assertThat(store.task("t1").orElseThrow().epoch()).isEqualTo(1);
        store.write(List.of(new StoreOp.UpdateTask(moved(r, TaskStatus.RUNNING, "h1").withClaim("h1", 7),
                TaskStatus.PENDING)));
        TaskRecord after = second.task("t1").orElseThrow();
        assertThat(after.epoch()).isEqualTo(1);
        assertThat(after.owner()).isEqualTo("h1");
        assertThat(after.task().status()).isEqualTo(TaskStatus.RUNNING);
    }

    @Test
    void lastSeqsGivesTheLastStoredSeqOfEveryExistingTask() {
        insert(pending("a", 0), pending("b", 1));
        store.write(List.of(new StoreOp.InsertTask(pending("no-events", 2)),
                new StoreOp.AppendEvent(new TaskEvent("a", 2, "text", Map.of(), T0)),
                new StoreOp.AppendEvent(new TaskEvent("a", 3, "text", Map.of(), T0))));
        assertThat(second.lastSeqs(List.of("a", "b", "no-events", "missing")))
                .isEqualTo(Map.of("a", 3L, "b", 1L, "no-events", 0L));
        assertThat(store.lastSeqs(List.of())).isEmpty();
        assertThat(store.lastSeqs(List.of("a", "a"))).isEqualTo(Map.of("a", 3L));
        store.write(List.of(new StoreOp.AppendEvent(new TaskEvent("b", 2, "text", Map.of(), T0))));
        assertThat(second.lastSeqs(Set.of("a", "b"))).isEqualTo(Map.of("a", 3L, "b", 2L));
        assertThat(store.delete("a")).isTrue();
        assertThat(second.lastSeqs(List.of("a", "b"))).isEqualTo(Map.of("b", 2L));
    }

    @Test
    void lastSeqsAnswersForMoreTasksThanOneStatementTakes() {
        int n = 1_234; // beyond the IN-list or array chunk of the stores in this repository (500, 1,000)
        List<TaskRecord> rs = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            TaskRecord r = pending(String.format("m%04d", i), i);
            rs.add(r);
            ids.add(r.id());
        }
        insert(rs.toArray(new TaskRecord[0]));
        List<StoreOp> more = new ArrayList<>();
        for (int i = 0; i < n; i += 7) {
            more.add(new StoreOp.AppendEvent(new TaskEvent(ids.get(i), 2, "text", Map.of(), T0)));
        }
        store.write(more);
        ids.add("missing-1");
        ids.add("missing-2");
        Map<String, Long> seqs = second.lastSeqs(ids);
        assertThat(seqs).hasSize(n);
        for (int i = 0; i < n; i++) {
            assertThat(seqs.get(ids.get(i))).as(ids.get(i)).isEqualTo(i % 7 == 0 ? 2L : 1L);
        }
    }

    @Test
    void claimTakesUnownedPendingTasksOldestFirstAndIncrementsTheEpoch() {
        insert(pending("c", 3), pending("a", 1), pending("b", 2), pending("owned", 0).withClaim("other", 1));
        List<TaskRecord> first = store.claim("h1", 2);
        assertThat(first).extracting(TaskRecord::id).containsExactly("a", "b");
        assertThat(first).allSatisfy(r -> {
            assertThat(r.owner()).isEqualTo("h1");
            assertThat(r.epoch()).isEqualTo(1);
        });
        assertThat(second.claim("h2", 5)).extracting(TaskRecord::id).containsExactly("c");
        assertThat(store.claim("h1", 5)).isEmpty();
        assertThat(store.task("a").orElseThrow().owner()).isEqualTo("h1");
        assertThat(store.task("owned").orElseThrow().owner()).isEqualTo("other");
    }

    @Test
    @Timeout(60)
    void concurrentClaimsNeverReturnOneTaskTwice() throws Exception {
        int n = 60;
        List<TaskRecord> rs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rs.add(pending(String.format("t%03d", i), i));
        }
        insert(rs.toArray(new TaskRecord[0]));
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            CyclicBarrier start = new CyclicBarrier(4);
            List<Future<List<String>>> futures = new ArrayList<>();
            for (int h = 0; h < 4; h++) {
                TaskStore s = h % 2 == 0 ? store : second;
                String host = "h" + h;
                Callable<List<String>> claimer = () -> {
                    start.await(10, TimeUnit.SECONDS);
                    List<String> mine = new ArrayList<>();
                    while (true) {
                        List<TaskRecord> got = s.claim(host, 3);
                        if (got.isEmpty()) {
                            return mine;
                        }
                        got.forEach(r -> mine.add(r.id()));
                    }
                };
                futures.add(pool.submit(claimer));
            }
            List<String> all = new ArrayList<>();
            for (Future<List<String>> f : futures) {
                all.addAll(f.get(50, TimeUnit.SECONDS));
            }
            assertThat(all).hasSize(n).doesNotHaveDuplicates();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void takeOverIsACompareAndSetOnOwnerAndEpoch() {
        insert(pending("t1", 0).withClaim("dead", 4));
        assertThat(store.takeOver("t1", "dead", 3, "h1")).isEmpty();
        assertThat(store.takeOver("t1", "other", 4, "h1")).isEmpty();
        assertThat(store.takeOver("missing", "dead", 4, "h1")).isEmpty();
        TaskRecord taken = store.takeOver("t1", "dead", 4, "h1").orElseThrow();
        assertThat(taken.owner()).isEqualTo("h1");
        assertThat(taken.epoch()).isEqualTo(5);
        assertThat(second.takeOver("t1", "dead", 4, "h2")).isEmpty();
        TaskRecord released = second.takeOver("t1", "h1", 5, null).orElseThrow();
        assertThat(released.owner()).isNull();
        assertThat(released.epoch()).isEqualTo(6);
        assertThat(store.claim("h2", 1)).extracting(TaskRecord::epoch).containsExactly(7L);
    }

    @Test
    void aFenceFailsTheWholeBatchOnceTheClaimMovedOn() {
        TaskRecord r = pending("t1", 0).withClaim("h1", 1);
        insert(r);
        store.write(List.of(new StoreOp.Fence("t1", "h1", 1),
                new StoreOp.AppendEvent(new TaskEvent("t1", 2, "text", Map.of(), T0))));
        second.takeOver("t1", "h1", 1, "h2").orElseThrow();
        insert(pending("other", 1));
        assertThatThrownBy(() -> store.write(List.of(
                new StoreOp.AppendEvent(new TaskEvent("other", 2, "text", Map.of(), T0)),
                new StoreOp.Fence("t1", "h1", 1),
                new StoreOp.AppendEvent(new TaskEvent("t1", 3, "text", Map.of(), T0)))))
                .isInstanceOf(StoreConflictException.class);
        assertThat(store.events("t1", 0, 10)).hasSize(2);
        assertThat(store.events("other", 0, 10)).hasSize(1);
        store.write(List.of(new StoreOp.Fence("t1", "h2", 2),
                new StoreOp.AppendEvent(new TaskEvent("t1", 3, "text", Map.of(), T0))));
        assertThat(second.events("t1", 0, 10)).hasSize(3);
        assertThatThrownBy(() -> store.write(List.of(new StoreOp.Fence("missing", "h1", 1))))
                .isInstanceOf(StoreConflictException.class);
    }

    @Test
    void aFenceOnAnUnownedTaskAndOnPendingMessages() {
        insert(pending("t1", 0));
        store.write(List.of(new StoreOp.Fence("t1", null, 0, true),
                new StoreOp.AddMessage(new PendingMessage("t1", "m1", TaskMessage.text("hi"), T0))));
        assertThatThrownBy(() -> store.write(List.of(new StoreOp.Fence("t1", null, 0, true))))
                .isInstanceOf(StoreConflictException.class);
        store.write(List.of(new StoreOp.Fence("t1", null, 0, false)));
        store.write(List.of(new StoreOp.RemoveMessage("t1", "m1"), new StoreOp.Fence("t1", null, 0, true)));
        assertThatThrownBy(() -> store.write(List.of(new StoreOp.Fence("t1", "h1", 0))))
                .isInstanceOf(StoreConflictException.class);
    }

    @Test
    void orphansAreUnfinishedTasksOfHostsWithoutARecentHeartbeat() {
        store.heartbeat("alive", T0.plusSeconds(100));
        store.heartbeat("dead", T0.plusSeconds(10));
        TaskRecord a = pending("a", 1).withClaim("alive", 1);
        TaskRecord d1 = pending("d1", 2).withClaim("dead", 1);
        TaskRecord d2 = pending("d2", 3).withClaim("dead", 1);
        TaskRecord gone = pending("g", 4).withClaim("never-heard-of", 1);
        TaskRecord unowned = pending("u", 5);
        insert(a, d1, d2, gone, unowned);
        store.write(List.of(new StoreOp.UpdateTask(moved(d2, TaskStatus.RUNNING, "dead"), TaskStatus.PENDING)));
        TaskRecord waiting = pending("w", 6).withClaim("dead", 1);
        insert(waiting);
        store.write(List.of(new StoreOp.UpdateTask(moved(waiting, TaskStatus.RUNNING, "dead"), TaskStatus.PENDING)));
        store.write(List.of(new StoreOp.UpdateTask(moved(moved(waiting, TaskStatus.RUNNING, "dead"),
                TaskStatus.COMPLETED, "dead"), TaskStatus.RUNNING)));
        assertThat(second.orphans(T0.plusSeconds(50), 10)).extracting(TaskRecord::id).containsExactly("d1", "d2", "g");
        assertThat(second.orphans(T0.plusSeconds(50), 2)).extracting(TaskRecord::id).containsExactly("d1", "d2");
        store.heartbeat("dead", T0.plusSeconds(60));
        assertThat(store.orphans(T0.plusSeconds(50), 10)).extracting(TaskRecord::id).containsExactly("g");
        store.removeHost("alive");
        store.removeHost("not-a-host");
        assertThat(store.orphans(T0.plusSeconds(50), 10)).extracting(TaskRecord::id).containsExactly("a", "g");
    }

    @Test
    void requestsGoToWhoeverOwnsTheTaskNowAndAreDeletedWithIt() {
        insert(pending("t1", 0).withClaim("h1", 1), pending("t2", 1).withClaim("h2", 1));
        store.write(List.of(
                new StoreOp.AddRequest(new RemoteRequest("r1", "t1", RemoteRequest.Kind.CANCEL, T0)),
                new StoreOp.AddRequest(new RemoteRequest("r2", "t2", RemoteRequest.Kind.MESSAGE, T0)),
                new StoreOp.AddRequest(new RemoteRequest("r3", "t1", RemoteRequest.Kind.DELETE, T0))));
        assertThat(second.requests("h1", 10)).extracting(RemoteRequest::requestId).containsExactly("r1", "r3");
        assertThat(second.requests("h1", 1)).extracting(RemoteRequest::requestId).containsExactly("r1");
        RemoteRequest r = second.requests("h2", 10).get(0);
        assertThat(r.kind()).isEqualTo(RemoteRequest.Kind.MESSAGE);
        assertThat(r.taskId()).isEqualTo("t2");
        second.takeOver("t1", "h1", 1, "h2").orElseThrow();
        assertThat(store.requests("h1", 10)).isEmpty();
        assertThat(store.requests("h2", 10)).extracting(RemoteRequest::requestId).containsExactly("r1", "r2", "r3");
        store.write(List.of(new StoreOp.RemoveRequest("t1", "r1"), new StoreOp.RemoveRequest("t1", "nope")));
        assertThat(store.requests("h2", 10)).extracting(RemoteRequest::requestId).containsExactly("r2", "r3");
        assertThat(store.delete("t1")).isTrue();
        assertThat(store.requests("h2", 10)).extracting(RemoteRequest::requestId).containsExactly("r2");
        store.write(List.of(new StoreOp.RemoveRequest("t1", "r3"))); // of a deleted task: not an error
        assertThatThrownBy(() -> store.write(List.of(
                new StoreOp.AddRequest(new RemoteRequest("r9", "missing", RemoteRequest.Kind.CANCEL, T0)))))
                .isInstanceOf(StoreConflictException.class);
    }

    @Test
    void everyRequestKindIsKept() {
        insert(pending("t1", 0).withClaim("h1", 1));
        List<StoreOp> ops = new java.util.ArrayList<>();
        for (RemoteRequest.Kind kind : RemoteRequest.Kind.values()) {
            ops.add(new StoreOp.AddRequest(new RemoteRequest("r-" + kind, "t1", kind, T0)));
        }
        store.write(ops);
        assertThat(second.requests("h1", 10)).extracting(RemoteRequest::kind)
                .containsExactly(RemoteRequest.Kind.values());
    }

    @Test
    void idempotencyKeysAreUniqueAndDeletedWithTheirTask() {
        insert(pending("t1", 0));
        IdempotencyKey k = new IdempotencyKey("create:k1", "t1", "fp", null, T0);
        store.write(List.of(new StoreOp.PutKey(k)));
        IdempotencyKey read = second.idempotencyKey("create:k1").orElseThrow();
        assertThat(read.taskId()).isEqualTo("t1");
        assertThat(read.fingerprint()).isEqualTo("fp");
        assertThat(read.outcome()).isNull();
        TaskRecord t2 = pending("t2", 1);
        assertThatThrownBy(() -> second.write(List.of(new StoreOp.InsertTask(t2),
                new StoreOp.PutKey(new IdempotencyKey("create:k1", "t2", "fp2", null, T0)))))
                .isInstanceOf(DuplicateKeyException.class)
                .satisfies(e -> assertThat(((DuplicateKeyException) e).key()).isEqualTo("create:k1"));
        assertThat(store.task("t2")).isEmpty();
        store.write(List.of(new StoreOp.InsertTask(t2),
                new StoreOp.PutKey(new IdempotencyKey("message:t2:x", "t2", "fp3", "QUEUED", T0))));
        assertThat(store.idempotencyKey("message:t2:x").orElseThrow().outcome()).isEqualTo("QUEUED");
        assertThat(store.idempotencyKey("nope")).isEmpty();
        store.delete("t1");
        assertThat(second.idempotencyKey("create:k1")).isEmpty();
        assertThatThrownBy(() -> store.write(List.of(
                new StoreOp.PutKey(new IdempotencyKey("k", "missing", "fp", null, T0)))))
                .isInstanceOf(StoreConflictException.class);
    }

    @Test
    @Timeout(60)
    void concurrentPutsOfOneKeyStoreOne() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CyclicBarrier start = new CyclicBarrier(2);
            List<Future<Boolean>> fs = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                TaskStore s = i == 0 ? store : second;
                TaskRecord r = pending("k" + i, i);
                fs.add(pool.submit(() -> {
                    start.await(10, TimeUnit.SECONDS);
                    try {
                        s.write(List.of(new StoreOp.InsertTask(r),
                                new StoreOp.PutKey(new IdempotencyKey("create:same", r.id(), "fp", null, T0))));
                        return true;
                    } catch (DuplicateKeyException e) {
                        return false;
                    }
                }));
            }
            Set<Boolean> results = new HashSet<>();
            int won = 0;
            for (Future<Boolean> f : fs) {
                boolean w = f.get(50, TimeUnit.SECONDS);
                results.add(w);
                won += w ? 1 : 0;
            }
            assertThat(won).isEqualTo(1);
            String winner = store.idempotencyKey("create:same").orElseThrow().taskId();
            assertThat(store.task(winner)).isPresent();
            assertThat(store.task(winner.equals("k0") ? "k1" : "k0")).isEmpty();
        } finally {
            pool.shutdownNow();
        }
    }
}
