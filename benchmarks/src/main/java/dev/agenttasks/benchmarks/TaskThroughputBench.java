package dev.agenttasks.benchmarks;

import dev.agenttasks.Task;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.spi.TurnResult;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Many short tasks (a turn that emits 3 events), created as fast as possible by a few threads with a
 * concurrency limit of 64; tasks/s from the first create to the last COMPLETED, against JobRunr no-op
 * jobs and raw single-task transactions.
 */
final class TaskThroughputBench {
    static final int CREATORS = Integer.getInteger("bench.creators", 16);
    static final int MAX_CONCURRENT = 64;
    private final Env env;
    private final boolean withJobRunr;

    TaskThroughputBench(Env env, boolean withJobRunr) {
        this.env = env;
        this.withJobRunr = withJobRunr;
    }

    /** Counts finished tasks; the latch opens at the target. */
    static final class Finished implements TaskListener {
        final AtomicLong completed = new AtomicLong();
        final AtomicLong other = new AtomicLong();
        final CountDownLatch all;

        Finished(int count) {
            all = new CountDownLatch(count);
        }

        @Override
        public void taskFinished(Task task) {
            if (task.status() == dev.agenttasks.TaskStatus.COMPLETED) {
                completed.incrementAndGet();
            } else {
                other.incrementAndGet();
            }
            all.countDown();
        }
    }

    String lastEngineCpu = "";
    String lastJobRunrTimeline = "";
    double lastEngineProcessCpu;
    double lastRawProcessCpu;
    double lastJobRunrProcessCpu;
    String lastRawCpu = "";
    double lastWritesPerTask;

    double engineRound(int count) throws Exception {
        Finished finished = new Finished(count);
        try (CountingStore store = new CountingStore(Env.sqlite(env.newDb("tasks")));
             TaskManager tasks = Env.manager(store, Agents.runner((turn, ctx) -> {
                 for (long i = 0; i < 3; i++) {
                     ctx.emit("step", Map.of("n", i));
                 }
                 return TurnResult.completed();
             })).maxConcurrentTasks(MAX_CONCURRENT).listener(finished).build()) {
            CpuMeter cpu = new CpuMeter();
            long start = System.nanoTime();
            Thread[] threads = new Thread[CREATORS];
            Throwable[] failure = new Throwable[1];
            for (int t = 0; t < CREATORS; t++) {
                int from = count * t / CREATORS;
                int to = count * (t + 1) / CREATORS;
                threads[t] = new Thread(() -> {
                    try {
                        for (int i = from; i < to; i++) {
                            tasks.create(TaskRequest.of("bench", "task " + i));
                        }
                    } catch (Throwable e) {
                        failure[0] = e;
                    }
                }, "bench-create-" + t);
                threads[t].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            if (failure[0] != null) {
                throw new IllegalStateException("create failed", failure[0]);
            }
            if (!finished.all.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException("only " + (count - finished.all.getCount()) + " of " + count + " finished");
            }
            double rate = count / ((System.nanoTime() - start) / 1e9);
            lastEngineProcessCpu = cpu.processNanos() / 1e3 / count;
            lastWritesPerTask = store.opsWritten.get() / (double) count;
            lastEngineCpu = CpuMeter.format(cpu.stop(), count, "task") + ", " + tasks.stats().writeBatches()
                    + " store transactions";
            if (finished.other.get() > 0) {
                throw new IllegalStateException(finished.other.get() + " tasks did not complete");
            }
            return rate;
        } finally {
            env.deleteDbFiles();
        }
    }

    double rawRound(int count) throws Exception {
        try {
            CpuMeter cpu = new CpuMeter();
            double rate = RawSqlite.taskTransactions(env.newDb("raw-tasks"), count);
            lastRawProcessCpu = cpu.processNanos() / 1e3 / count;
            lastRawCpu = CpuMeter.format(cpu.stop(), count, "task");
            return rate;
        } finally {
            env.deleteDbFiles();
        }
    }

    JobRunrBaseline.Result jobRunrRound(int count, int workers) throws Exception {
        try {
            CpuMeter cpu = new CpuMeter();
            JobRunrBaseline.Result r = JobRunrBaseline.run(env.newDb("jobrunr"), count, CREATORS, workers,
                    Duration.ofSeconds(jobRunrPollSeconds()), Duration.ofSeconds(env.size(180, 60)));
            lastJobRunrProcessCpu = cpu.processNanos() / 1e3 / Math.max(1, r.succeeded());
            return r;
        } finally {
            env.deleteDbFiles();
        }
    }

    /** Raw batched inserts (1,000 rows per transaction): the write rate the batched-write limit is made of. */
    double rawBatchedRound(int rows) throws Exception {
        try {
            return RawSqlite.insertEvents(env.newDb("raw-batched"), rows, 1000);
        } finally {
            env.deleteDbFiles();
        }
    }

    /** @return the JobRunr worker counts tried, {@code bench.jobrunr.workers} (default 16 = its default 8 per CPU here, and 64) */
    static int[] jobRunrWorkers() {
        String v = System.getProperty("bench.jobrunr.workers",
                Runtime.getRuntime().availableProcessors() * 8 + "," + MAX_CONCURRENT);
        return java.util.Arrays.stream(v.split(",")).map(String::trim).mapToInt(Integer::parseInt).distinct().toArray();
    }

    static int jobRunrPollSeconds() {
        return Integer.getInteger("bench.jobrunr.pollSeconds", 5);
    }

    void run() throws Exception {
        int count = env.size(10_000, 1_000);
        int rounds = env.size(5, 1);
        int jobRunrCount = env.size(Integer.getInteger("bench.jobrunr.jobs", 10_000), 500);
        int batchedRows = env.size(100_000, 10_000);
        int[] workers = withJobRunr ? jobRunrWorkers() : new int[0];
        Env.log("== task throughput: %,d tasks x 3 events, %d creator threads, maxConcurrentTasks %d, %d rounds (+1 warm-up)",
                count, CREATORS, MAX_CONCURRENT, rounds);
        if (withJobRunr) {
            Env.log("  JobRunr %s: %,d no-op jobs fed by %s, %s workers, poll interval %d s, in every round",
                    jobRunrVersion(), jobRunrCount, feedDescription(), java.util.Arrays.toString(workers),
                    jobRunrPollSeconds());
        }
        // warm-up: every contender once
        engineRound(env.quick ? count / 5 : count);
        rawRound(count / 5);
        rawBatchedRound(batchedRows);
        for (int w : workers) {
            jobRunrRound(Math.min(2000, jobRunrCount), w);
        }
        Samples engine = new Samples();
        Samples raw = new Samples();
        Samples batched = new Samples();
        Samples writes = new Samples();
        Samples engineCpu = new Samples();
        Samples rawCpu = new Samples();
        Samples[] jobrunr = new Samples[workers.length];
        Samples[] jobrunrCpu = new Samples[workers.length];
        for (int k = 0; k < workers.length; k++) {
            jobrunr[k] = new Samples();
            jobrunrCpu[k] = new Samples();
        }
        boolean complete = true;
        for (int r = 0; r < rounds; r++) {
            double e = engineRound(count);
            engine.add(e);
            engineCpu.add(lastEngineProcessCpu);
            writes.add(lastWritesPerTask);
            double w = rawRound(count);
            raw.add(w);
            rawCpu.add(lastRawProcessCpu);
            double b = rawBatchedRound(batchedRows);
            batched.add(b);
            Env.log("  round %d: engine %,.0f tasks/s (%.1f writes per task), raw 1 tx per task %,.0f tasks/s, "
                    + "raw batched %,.0f rows/s", r + 1, e, lastWritesPerTask, w, b);
            Env.log("    engine: %s", lastEngineCpu);
            Env.log("    raw:    %s", lastRawCpu);
            for (int k = 0; k < workers.length; k++) {
                JobRunrBaseline.Result j = jobRunrRound(jobRunrCount, workers[k]);
                jobrunr[k].add(j.jobsPerSecond());
                jobrunrCpu[k].add(lastJobRunrProcessCpu);
                complete &= j.complete();
                lastJobRunrTimeline = String.format(Locale.ROOT, "%d workers: all enqueued after %.1f s, first success "
                        + "after %.1f s, last after %.1f s", workers[k], j.enqueueSeconds(), j.firstSuccessSeconds(),
                        j.seconds());
                Env.log("    JobRunr, %d workers: %,.0f jobs/s (%d succeeded%s; %s)", workers[k], j.jobsPerSecond(),
                        j.succeeded(), j.complete() ? "" : ", stopped at the time limit", lastJobRunrTimeline);
            }
        }
        if (env.diag) {
            diagnose(count);
        }
        env.report.note("Task throughput CPU, last round: engine " + lastEngineCpu + "; raw " + lastRawCpu);
        String n = String.format(Locale.ROOT, "%,d", count);
        double writesPerTask = writes.median();
        if (withJobRunr) {
            int best = 0;
            for (int k = 1; k < workers.length; k++) {
                if (jobrunr[k].median() > jobrunr[best].median()) {
                    best = k;
                }
            }
            double vsJobRunr = engine.median() / jobrunr[best].median();
            env.report.row("Task throughput (" + n + " tasks x 3 events, limit 64, SQLite) vs JobRunr",
                    Report.fmt(engine.median(), "tasks/s"),
                    "JobRunr " + jobRunrVersion() + " SQLite, " + String.format(Locale.ROOT, "%,d", jobRunrCount)
                            + " no-op jobs fed by " + feedDescription() + ", best worker count (" + workers[best] + " of "
                            + java.util.Arrays.toString(workers) + "): " + Report.fmt(jobrunr[best].median(), "jobs/s")
                            + (complete ? "" : " (time-limited)"),
                    Report.ratio(vsJobRunr), ">= 10", vsJobRunr >= 10);
            for (int k = 0; k < workers.length; k++) {
                if (k != best) {
                    env.report.row("Task throughput vs JobRunr with " + workers[k] + " workers"
                                    + (workers[k] == Runtime.getRuntime().availableProcessors() * 8 ? " (its default, 8 per CPU)" : ""),
                            Report.fmt(engine.median(), "tasks/s"), "JobRunr, " + workers[k] + " workers: "
                                    + Report.fmt(jobrunr[k].median(), "jobs/s"),
                            Report.ratio(engine.median() / jobrunr[k].median()), null, null);
                }
            }
        }
        double limit = batched.median() / writesPerTask;
        double vsLimit = engine.median() / limit;
        env.report.row("Task throughput vs the batched-write limit", Report.fmt(engine.median(), "tasks/s"),
                "raw batched inserts (1,000 rows/tx) " + Report.fmt(batched.median(), "rows/s") + " / "
                        + String.format(Locale.ROOT, "%.1f", writesPerTask) + " writes per task = "
                        + Report.fmt(limit, "tasks/s"),
                Report.ratio(vsLimit), ">= 0.7", vsLimit >= 0.7);
        env.report.row("Task throughput vs raw per-task transactions", Report.fmt(engine.median(), "tasks/s")
                        + String.format(Locale.ROOT, " (%.1f writes per task, batched across tasks)", writesPerTask),
                "raw sqlite-jdbc, 1 tx per task, 3 writes per task (insert + 2 updates, no events): "
                        + Report.fmt(raw.median(), "tasks/s"),
                Report.ratio(engine.median() / raw.median()), null, null);
        String jobrunrCpuText = "";
        double jobrunrCpuBest = Double.NaN;
        for (int k = 0; k < workers.length; k++) {
            jobrunrCpuText += "JobRunr (" + workers[k] + " workers) " + Report.fmt(jobrunrCpu[k].median(), "µs") + " per job; ";
            jobrunrCpuBest = Double.isNaN(jobrunrCpuBest) ? jobrunrCpu[k].median() : Math.min(jobrunrCpuBest, jobrunrCpu[k].median());
        }
        env.report.row("Task throughput: process CPU per task (all threads)", Report.fmt(engineCpu.median(), "µs"),
                jobrunrCpuText + "raw JDBC, 1 tx per task, " + Report.fmt(rawCpu.median(), "µs") + " per task",
                withJobRunr ? Report.ratio(jobrunrCpuBest / engineCpu.median()) + " (JobRunr's lowest / engine)" : "-",
                null, null);
        StringBuilder jr = new StringBuilder();
        for (int k = 0; k < workers.length; k++) {
            jr.append(String.format(Locale.ROOT, "; JobRunr (%,d jobs, %s, %d workers, %d s poll) %s jobs/s (spread %s)",
                    jobRunrCount, feedDescription(), workers[k], jobRunrPollSeconds(), jobrunr[k].rounds("%,.0f"),
                    Report.pct(jobrunr[k].spread())));
        }
        env.report.note(String.format(Locale.ROOT,
                "Task throughput, %,d tasks per round, %d creator threads, rounds alternating engine / raw / raw batched%s: "
                        + "engine %s tasks/s (spread %s), writes per task %s; raw 1 tx per task %s tasks/s (spread %s); "
                        + "raw batched %s rows/s (spread %s)%s", count, CREATORS, withJobRunr ? " / JobRunr" : "",
                engine.rounds("%,.0f"), Report.pct(engine.spread()), writes.rounds("%.1f"),
                raw.rounds("%,.0f"), Report.pct(raw.spread()), batched.rounds("%,.0f"), Report.pct(batched.spread()),
                withJobRunr ? jr.toString() + "; last JobRunr round: " + lastJobRunrTimeline : "; JobRunr skipped"));
    }

    static String feedDescription() {
        return JobRunrBaseline.feed().equals("batch") ? "enqueue(Stream) from 1 thread"
                : "enqueue() per job from " + CREATORS + " threads";
    }

    /** The engine's write set per task in raw JDBC, by transaction size, in CPU time. */
    private void diagnose(int count) throws Exception {
        StringBuilder b = new StringBuilder("Task throughput diagnosis, the engine's 10 writes per task in raw JDBC, CPU µs "
                + "per task (median of 3):");
        for (boolean conditional : new boolean[] {false, true}) {
            for (int perTx : new int[] {1, 2, 10, 100}) {
                Samples cpu = new Samples();
                for (int r = 0; r < 3; r++) {
                    cpu.add(RawSqlite.engineWriteSet(env.newDb("diag"), count, perTx, conditional));
                    env.deleteDbFiles();
                }
                b.append(String.format(Locale.ROOT, " %s events, %d task(s)/tx %.1f;",
                        conditional ? "conditional (per-row seq check in SQL)" : "plain", perTx, cpu.median()));
            }
        }
        env.report.note(b.toString());
    }

    static String jobRunrVersion() {
        Package p = org.jobrunr.configuration.JobRunr.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "8.7.0" : v;
    }
}
