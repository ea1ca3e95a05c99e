package dev.agenttasks.benchmarks;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TurnResult;
import dev.agenttasks.sqlite.SqliteTaskStore;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Heap per task waiting for input and per idle subscription, and the threads such tasks hold, with
 * the SQLite store (so the heap growth is the engine's, not the store's).
 */
final class FootprintBench {
    private final Env env;

    FootprintBench(Env env) {
        this.env = env;
    }

    /** Opens a latch when the given number of tasks have reached WAITING_FOR_INPUT. */
    static final class Waiting implements TaskListener {
        volatile CountDownLatch latch = new CountDownLatch(0);

        @Override
        public void statusChanged(Task task, TaskStatus from) {
            if (task.status() == TaskStatus.WAITING_FOR_INPUT) {
                latch.countDown();
            }
        }
    }

    /** A subscriber that has seen a task's events up to its waiting status and now idles. */
    static final class Idle extends Subscribers.Counting {
        private final CountDownLatch caughtUp;

        Idle(CountDownLatch caughtUp) {
            this.caughtUp = caughtUp;
        }

        @Override
        void seen(TaskEvent item) {
            if (item.status() == TaskStatus.WAITING_FOR_INPUT) {
                caughtUp.countDown();
            }
        }
    }

    private static List<String> createWaiting(TaskManager tasks, Waiting waiting, int count) throws Exception {
        waiting.latch = new CountDownLatch(count);
        List<String> ids = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            ids.add(tasks.create(TaskRequest.of("bench", "question " + i)).id());
        }
        if (!waiting.latch.await(300, TimeUnit.SECONDS)) {
            throw new IllegalStateException("tasks did not reach WAITING_FOR_INPUT");
        }
        return ids;
    }

    /** @return platform threads whose stack is inside a turn (virtual threads are not listed; see the counter) */
    private static int threadsInTurns() {
        int n = 0;
        for (StackTraceElement[] stack : Thread.getAllStackTraces().values()) {
            for (StackTraceElement f : stack) {
                if (f.getClassName().startsWith("dev.agenttasks.benchmarks.Agents")
                        || (f.getClassName().equals("dev.agenttasks.internal.TurnScheduler") && f.getMethodName().equals("execute"))) {
                    n++;
                    break;
                }
            }
        }
        return n;
    }

    void run() throws Exception {
        int count = env.size(10_000, 500);
        Env.log("== footprint: %,d tasks WAITING_FOR_INPUT, then %,d idle subscriptions", count, count);
        Waiting waiting = new Waiting();
        java.util.concurrent.atomic.AtomicInteger inTurn = new java.util.concurrent.atomic.AtomicInteger();
        try (SqliteTaskStore store = Env.sqlite(env.newDb("footprint"));
             TaskManager tasks = Env.manager(store, Agents.runner((turn, ctx) -> {
                 inTurn.incrementAndGet();
                 try {
                     return TurnResult.awaitingInput(Map.of("question", "Which file?"));
                 } finally {
                     inTurn.decrementAndGet();
                 }
             }))
                     .maxConcurrentTasks(64).listener(waiting).build()) {
            int threadsAtStart = ManagementFactory.getThreadMXBean().getThreadCount();
            createWaiting(tasks, waiting, 200); // warm-up: classes, pools, statements
            long heap0 = Env.usedHeapAfterGc();
            int threads0 = ManagementFactory.getThreadMXBean().getThreadCount();
            List<String> ids = createWaiting(tasks, waiting, count);
            long heap1 = Env.usedHeapAfterGc();
            int threads1 = ManagementFactory.getThreadMXBean().getThreadCount();
            int inTurns = Math.max(Math.max(inTurn.get(), threadsInTurns()), tasks.stats().runningTurns());
            double perTask = (heap1 - heap0) / (double) count;

            // baseline: the same task records held in a plain map (what any in-process registry must keep)
            long heapR0 = Env.usedHeapAfterGc();
            List<TaskRecord> records = store.findByStatus(EnumSet.of(TaskStatus.WAITING_FOR_INPUT));
            Map<String, TaskRecord> plain = new HashMap<>();
            for (TaskRecord r : records) {
                plain.put(r.id(), r);
            }
            records = null;
            long heapR1 = Env.usedHeapAfterGc();
            double perRecord = (heapR1 - heapR0) / (double) plain.size();
            int plainSize = plain.size();
            plain = null;

            long heapS0 = Env.usedHeapAfterGc();
            CountDownLatch caughtUp = new CountDownLatch(count);
            List<Idle> subs = new ArrayList<>(count);
            for (String id : ids) {
                Idle s = new Idle(caughtUp);
                tasks.events(id).subscribe(s);
                subs.add(s);
            }
            if (!caughtUp.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException("subscribers did not catch up");
            }
            long heapS1 = Env.usedHeapAfterGc();
            double perSub = (heapS1 - heapS0) / (double) count;
            int open = tasks.stats().openSubscriptions();
            Env.log("  heap per waiting task %,.0f B (plain map of the records: %,.0f B); per idle subscription %,.0f B; "
                            + "threads: %d at start, %d before, %d after the %,d waiting tasks, %d inside a turn; %d open subscriptions",
                    perTask, perRecord, perSub, threadsAtStart, threads0, threads1, count, inTurns, open);
            env.report.row("Heap per WAITING_FOR_INPUT task (" + String.format(Locale.ROOT, "%,d", count) + ", SQLite)",
                    Report.fmt(perTask, "B"),
                    "the same TaskRecords in a HashMap: " + Report.fmt(perRecord, "B"),
                    Report.ratio(perTask / perRecord), null, null);
            env.report.row("Heap per idle subscription (" + String.format(Locale.ROOT, "%,d", count) + ")",
                    Report.fmt(perSub, "B"), "n/a (includes the benchmark's own subscriber object, ~40 B)", "-",
                    null, null);
            env.report.row("Threads held by " + String.format(Locale.ROOT, "%,d", count) + " waiting tasks",
                    inTurns + " in a turn; live threads " + threads0 + " -> " + threads1,
                    "threads before the tasks: " + threads0, "-", "none in a turn", inTurns == 0);
            env.report.note(String.format(Locale.ROOT,
                    "Footprint: used heap after 5 x System.gc() (MemoryMXBean), before and after, with a 200-task warm-up "
                            + "first; %d threads at manager start, %d after the warm-up (the JDK 17 turn pool of "
                            + "maxConcurrentTasks + 4 threads idles for 30 s before its threads end; on Java 21+ turns run "
                            + "on virtual threads); %d record(s) in the baseline map; %d subscribers kept reachable",
                    threadsAtStart, threads0, plainSize, subs.size()));
        } finally {
            env.deleteDbFiles();
        }
    }
}
