package dev.agenttasks.internal;

import dev.agenttasks.Task;
import dev.agenttasks.TaskDeletedException;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.ForwardingTaskStore;
import dev.agenttasks.spi.StoreChangeListener;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Subscriptions to tasks running on another host, on a {@link ManualScheduler}: what an event poll costs
 * the store (one {@code lastSeqs} query for all watched tasks, events read only for tasks with new ones),
 * that events written elsewhere still arrive gapless, that a deleted task still ends its subscriptions,
 * and the two race windows of the batched poll (an event appended right after the poll's read; a
 * wake-up while a subscription's read is in flight). The other host is simulated by writing to the
 * shared store directly, as host "a", which heartbeats so this host never takes its tasks over.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RemoteEventsTest {
    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration TICK = Duration.ofMillis(150);

    private final SettableClock clock = new SettableClock(START);
    private final ManualScheduler scheduler = new ManualScheduler(clock);
    private final TaskStore data = TaskStore.inMemory();
    private final Counting store = new Counting(data);
    private Engine engine;

    /** Counts the reads a remote subscriber's polls cost; pushes no wake-ups (like SQLite) unless told to. */
    static final class Counting extends ForwardingTaskStore {
        final AtomicInteger lastSeqCalls = new AtomicInteger();
        final AtomicInteger taskReads = new AtomicInteger();
        final List<String> eventReads = new CopyOnWriteArrayList<>();
        final List<Collection<String>> lastSeqArgs = new CopyOnWriteArrayList<>();
        /** Runs after each lastSeqs read, before the engine sees its answer. */
        volatile Runnable afterLastSeqs = () -> { };
        /** Runs after each events read, before the subscription sees the page. */
        volatile Runnable afterEvents = () -> { };
        volatile boolean push;

        Counting(TaskStore delegate) {
            super(delegate);
        }

        @Override
        public Map<String, Long> lastSeqs(Collection<String> taskIds) {
            lastSeqCalls.incrementAndGet();
            lastSeqArgs.add(List.copyOf(taskIds));
            Map<String, Long> m = super.lastSeqs(taskIds);
            afterLastSeqs.run();
            return m;
        }

        @Override
        public Optional<TaskRecord> task(String taskId) {
            taskReads.incrementAndGet();
            return super.task(taskId);
        }

        @Override
        public List<TaskEvent> events(String taskId, long afterSeq, int limit) {
            eventReads.add(taskId);
            List<TaskEvent> page = super.events(taskId, afterSeq, limit);
            afterEvents.run();
            return page;
        }

        @Override
        public boolean addChangeListener(StoreChangeListener listener) {
            return push && super.addChangeListener(listener);
        }

        void reset() {
            lastSeqCalls.set(0);
            taskReads.set(0);
            eventReads.clear();
            lastSeqArgs.clear();
        }
    }

    @AfterEach
    void tearDown() {
        if (engine != null) {
            engine.close();
        }
    }

    private Engine start() {
        data.heartbeat("a", START); // host "a" is alive for the whole test (dead after 30 s; the test runs 3 s)
        engine = Harness.engine(store, new Harness.Runner(), b -> b.clock(clock).scheduler(scheduler).hostId("b")
                .deliveryThreads(1).eventPollInterval(TICK));
        return engine;
    }

    /** A task running on host "a" with its pending and running status events. */
    private String remoteTask(String id) {
        Task t = new Task(id, "a", null, TaskStatus.RUNNING, "task " + id, "m", START, START, null, null, null,
                Map.of());
        TaskRecord r = new TaskRecord(t, Map.of(), 0, null, null, 0).withClaim("a", 1);
        data.write(List.of(new StoreOp.InsertTask(r), status(id, 1, "pending"), status(id, 2, "running")));
        return id;
    }

    private static StoreOp status(String id, long seq, String status) {
        return new StoreOp.AppendEvent(new TaskEvent(id, seq, TaskEvent.STATUS, Map.of("status", status), START));
    }

    /** Host "a" appends events {@code from..to} to its task. */
    private void emit(String id, long from, long to) {
        List<StoreOp> ops = new ArrayList<>();
        for (long s = from; s <= to; s++) {
            ops.add(new StoreOp.AppendEvent(new TaskEvent(id, s, "text", Map.of("n", s), START)));
        }
        data.write(ops);
    }

    private Harness.Sub subscribe(String id) {
        Harness.Sub sub = new Harness.Sub(Long.MAX_VALUE);
        engine.events(id).subscribe(sub);
        return sub;
    }

    private static void awaitSeqs(Harness.Sub sub, long last) {
        Harness.await(() -> sub.events.size() >= last);
        assertThat(sub.events).extracting(TaskEvent::seq)
                .containsExactly(LongStream.rangeClosed(1, last).boxed().toArray(Long[]::new));
    }

    private void ticks(int n) {
        for (int i = 0; i < n; i++) {
            scheduler.advance(TICK);
        }
        Harness.deliveryIdle(engine); // the signals the polls sent have been delivered
    }

    /**
     * {@code events(id, afterSeq)} with {@code afterSeq} beyond the log of a task another host runs: if the
     * task ends at or before that seq, no event will come, and the subscription completes once a poll finds
     * the task finished (it stayed open for good before); one that started beyond the log but is passed by
     * the task's events gets them and completes on the terminal one; only such subscriptions cost a status
     * read per poll.
     */
    @Test
    void aSubscriptionStartingBeyondTheLogCompletesWhenTheTaskEndsBeforeIt() {
        start();
        String id = remoteTask("t9"); // seq 1, 2
        Harness.Sub far = new Harness.Sub(Long.MAX_VALUE);
        engine.events(id, 9).subscribe(far);
        Harness.Sub near = new Harness.Sub(Long.MAX_VALUE);
        engine.events(id, 3).subscribe(near);
        Harness.deliveryIdle(engine);
        store.reset();
        ticks(2);
        assertThat(far.done).isNotDone();
        assertThat(store.taskReads).as("a status read per poll while a subscription is ahead").hasValue(2);

        emit(id, 3, 4);
        Task done = new Task(id, "a", null, TaskStatus.COMPLETED, "task " + id, "m", START, START, START, null, null,
                Map.of());
        data.write(List.of(status(id, 5, "completed"),
                new StoreOp.UpdateTask(new TaskRecord(done, Map.of(), 0, null, null, 5), TaskStatus.RUNNING)));
        ticks(1);
        Harness.await(() -> far.done.isDone() && near.done.isDone());
        assertThat(far.done).isCompleted();
        assertThat(far.events).isEmpty();
        assertThat(near.done).isCompleted();
        assertThat(near.events).extracting(TaskEvent::seq).containsExactly(4L, 5L);
    }

    @Test
    void idlePollsCostOneQueryEachAndNewEventsAreReadOnlyForTheirTasks() {
        start();
        List<String> ids = new ArrayList<>();
        List<Harness.Sub> subs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String id = remoteTask("t" + i);
            ids.add(id);
            subs.add(subscribe(id));
            subs.add(subscribe(id));
        }
        subs.forEach(s -> awaitSeqs(s, 2));
        Harness.deliveryIdle(engine);
        store.reset();

        int k = 8; // 1.2 s: includes one request/claim poll (1 s), no heartbeat (5 s)
        ticks(k);
        assertThat(store.lastSeqCalls).hasValue(k);
        assertThat(store.lastSeqArgs).allSatisfy(a -> assertThat(a).containsExactlyInAnyOrderElementsOf(ids));
        assertThat(store.taskReads).hasValue(0);
        assertThat(store.eventReads).isEmpty();

        emit("t0", 3, 6);
        emit("t1", 3, 3);
        store.reset();
        ticks(1);
        awaitSeqs(subs.get(0), 6);
        awaitSeqs(subs.get(1), 6);
        awaitSeqs(subs.get(2), 3);
        awaitSeqs(subs.get(3), 3);
        Harness.deliveryIdle(engine);
        assertThat(store.lastSeqCalls).hasValue(1);
        assertThat(store.taskReads).hasValue(0);
        // one read per subscription of the two tasks with new events (a short page: caught up)
        assertThat(store.eventReads).containsExactlyInAnyOrder("t0", "t0", "t1", "t1");
        for (int i = 4; i < subs.size(); i++) {
            assertThat(subs.get(i).events).hasSize(2);
        }

        assertThat(data.delete("t2")).isTrue();
        data.write(List.of(status("t3", 3, "completed")));
        ticks(1);
        assertThat(subs.get(4).awaitError()).isInstanceOf(TaskDeletedException.class);
        assertThat(subs.get(5).awaitError()).isInstanceOf(TaskDeletedException.class);
        Harness.await(() -> subs.get(6).done.isDone() && subs.get(7).done.isDone());
        assertThat(subs.get(6).done).isCompleted();
        awaitSeqs(subs.get(6), 3);
        assertThat(subs.get(8).done).isNotDone();

        store.reset();
        ticks(2); // ended subscriptions leave the poll
        assertThat(store.lastSeqArgs).hasSize(2)
                .allSatisfy(a -> assertThat(a).containsExactlyInAnyOrder("t0", "t1", "t4"));
        assertThat(store.eventReads).isEmpty();
    }

    @Test
    void anEventAppendedRightAfterThePollsReadArrivesByTheNextPoll() {
        start();
        remoteTask("t");
        Harness.Sub sub = subscribe("t");
        awaitSeqs(sub, 2);
        ticks(1);
        // the poll reads last seq 2; host "a" appends seq 3 before any subscription reads
        AtomicInteger once = new AtomicInteger();
        store.afterLastSeqs = () -> {
            if (once.getAndIncrement() == 0) {
                emit("t", 3, 3);
            }
        };
        ticks(1);
        assertThat(sub.events).hasSize(2); // this poll saw seq 2 only: nothing to read yet
        ticks(1);
        awaitSeqs(sub, 3);
    }

    @Test
    void aWakeUpWhileASubscriptionsReadIsInFlightMakesItReadAgain() {
        store.push = true;
        start();
        remoteTask("t");
        Harness.Sub sub = subscribe("t");
        awaitSeqs(sub, 2);
        Harness.deliveryIdle(engine);
        // during the subscription's next read (a short page: "caught up"), host "a" appends and the push lands
        AtomicInteger once = new AtomicInteger();
        store.afterEvents = () -> {
            if (once.getAndIncrement() == 0) {
                emit("t", 4, 4); // pushes eventsAppended while the read of seq 3 is in flight
            }
        };
        emit("t", 3, 3); // pushed: the subscription reads at once, no poll needed
        awaitSeqs(sub, 4);
        assertThat(store.lastSeqCalls).hasValue(0);
    }
}
