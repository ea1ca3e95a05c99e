package dev.agenttasks.benchmarks;

import dev.agenttasks.Task;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.spi.TurnResult;
import dev.agenttasks.sqlite.SqliteTaskStore;

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

    double engineRound(int count) throws Exception {
        Finished finished = new Finished(count);
        try (SqliteTaskStore store = Env.sqlite(env.newDb("tasks"));
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

    static int jobRunrWorkers() {
        return Integer.getInteger("bench.jobrunr.workers", MAX_CONCURRENT);
    }

    static int jobRunrPollSeconds() {
        return Integer.getInteger("bench.jobrunr.pollSeconds", 5);
    }

    void run() throws Exception {
        int count = env.size(10_000, 1_000);
        int rounds = env.size(5, 1);
        int jobRunrCount = env.size(Integer.getInteger("bench.jobrunr.jobs", 10_000), 500);
        int jobRunrRounds = env.size(3, 1);
        Env.log("== task throughput: %,d tasks x 3 events, %d creator threads, maxConcurrentTasks %d, %d rounds (+1 warm-up)",
                count, CREATORS, MAX_CONCURRENT, rounds);
        engineRound(env.quick ? count / 5 : count);
        rawRound(count / 5);
        Samples engine = new Samples();
        Samples raw = new Samples();
        Samples engineCpu = new Samples();
        Samples rawCpu = new Samples();
        Samples jobrunrCpu = new Samples();
        for (int r = 0; r < rounds; r++) {
            double e = engineRound(count);
            engineCpu.add(lastEngineProcessCpu);
            double w = rawRound(count);
            rawCpu.add(lastRawProcessCpu);
            engine.add(e);
            raw.add(w);
            Env.log("  round %d: engine %,.0f tasks/s, raw %,.0f tasks/s", r + 1, e, w);
            Env.log("    engine: %s", lastEngineCpu);
            Env.log("    raw:    %s", lastRawCpu);
        }
        Samples jobrunr = new Samples();
        boolean complete = true;
        if (withJobRunr) {
            Env.log("  JobRunr %s: %,d no-op jobs, %d enqueue threads, %d workers, poll interval %d s, %d rounds (+1 warm-up)",
                    jobRunrVersion(), jobRunrCount, CREATORS, jobRunrWorkers(), jobRunrPollSeconds(), jobRunrRounds);
            jobRunrRound(Math.min(2000, jobRunrCount), jobRunrWorkers());
            for (int r = 0; r < jobRunrRounds; r++) {
                JobRunrBaseline.Result j = jobRunrRound(jobRunrCount, jobRunrWorkers());
                jobrunr.add(j.jobsPerSecond());
                jobrunrCpu.add(lastJobRunrProcessCpu);
                complete &= j.complete();
                Env.log("  JobRunr round %d: %,.0f jobs/s (%d succeeded%s; enqueued in %.1f s, first success after %.1f s, "
                                + "last after %.1f s)", r + 1, j.jobsPerSecond(), j.succeeded(),
                        j.complete() ? "" : ", stopped at the time limit", j.enqueueSeconds(), j.firstSuccessSeconds(),
                        j.seconds());
                lastJobRunrTimeline = String.format(Locale.ROOT, "all enqueued after %.1f s, first success after %.1f s, "
                        + "last after %.1f s", j.enqueueSeconds(), j.firstSuccessSeconds(), j.seconds());
            }
        }
        if (env.diag) {
            diagnose(count);
        }
        env.report.note("Task throughput CPU, last round: engine " + lastEngineCpu + "; raw " + lastRawCpu);
        Samples jobrunrDefault = new Samples();
        int defaultWorkers = Runtime.getRuntime().availableProcessors() * 8;
        if (withJobRunr && !env.quick && defaultWorkers != jobRunrWorkers()) {
            for (int r = 0; r < 2; r++) {
                JobRunrBaseline.Result j = jobRunrRound(jobRunrCount, defaultWorkers);
                jobrunrDefault.add(j.jobsPerSecond());
                complete &= j.complete();
                Env.log("  JobRunr with its default %d workers, round %d: %,.0f jobs/s (%d succeeded)", defaultWorkers, r + 1,
                        j.jobsPerSecond(), j.succeeded());
            }
        }
        double vsRaw = engine.median() / raw.median();
        if (withJobRunr) {
            double vsJobRunr = engine.median() / jobrunr.median();
            env.report.row("Task throughput (" + String.format(Locale.ROOT, "%,d", count) + " tasks x 3 events, limit 64, SQLite)",
                    Report.fmt(engine.median(), "tasks/s"),
                    "JobRunr " + jobRunrVersion() + " SQLite, " + String.format(Locale.ROOT, "%,d", jobRunrCount)
                            + " no-op jobs, " + jobRunrWorkers() + " workers: " + Report.fmt(jobrunr.median(), "jobs/s") + (complete ? "" : " (time-limited)"),
                    Report.ratio(vsJobRunr), ">= 10", vsJobRunr >= 10);
            if (!jobrunrDefault.isEmpty()) {
                double vsDefault = engine.median() / jobrunrDefault.median();
                env.report.row("Task throughput vs JobRunr with its default worker count (" + defaultWorkers + ")",
                        Report.fmt(engine.median(), "tasks/s"),
                        "JobRunr, " + defaultWorkers + " workers: " + Report.fmt(jobrunrDefault.median(), "jobs/s"),
                        Report.ratio(vsDefault), "(>= 10)", vsDefault >= 10);
                env.report.note(String.format(Locale.ROOT, "JobRunr with its default worker count (%d = 8 per CPU): %s jobs/s",
                        defaultWorkers, jobrunrDefault.rounds("%,.0f")));
            }
        }
        env.report.row("Task throughput: process CPU per task (all threads)", Report.fmt(engineCpu.median(), "µs"),
                (withJobRunr ? "JobRunr " + Report.fmt(jobrunrCpu.median(), "µs") + " per job; " : "")
                        + "raw JDBC " + Report.fmt(rawCpu.median(), "µs") + " per task",
                withJobRunr ? Report.ratio(jobrunrCpu.median() / engineCpu.median()) + " (JobRunr / engine)" : "-", null, null);
        env.report.row("Task throughput vs raw JDBC", Report.fmt(engine.median(), "tasks/s"),
                "raw sqlite-jdbc, 1 tx per task (insert + 2 updates): " + Report.fmt(raw.median(), "tasks/s"),
                Report.ratio(vsRaw), null, null);
        env.report.note(String.format(Locale.ROOT,
                "Task throughput, %,d tasks per round, %d creator threads: engine %s tasks/s (spread %s); raw %s tasks/s "
                        + "(spread %s)%s", count, CREATORS, engine.rounds("%,.0f"), Report.pct(engine.spread()),
                raw.rounds("%,.0f"), Report.pct(raw.spread()),
                withJobRunr ? String.format(Locale.ROOT, "; JobRunr (%,d jobs, %d workers, %d s poll) %s jobs/s (spread %s)",
                        jobRunrCount, jobRunrWorkers(), jobRunrPollSeconds(), jobrunr.rounds("%,.0f"),
                        Report.pct(jobrunr.spread())) + "; last JobRunr round: " + lastJobRunrTimeline : "; JobRunr skipped"));
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
