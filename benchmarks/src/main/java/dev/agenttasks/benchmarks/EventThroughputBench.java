package dev.agenttasks.benchmarks;

import dev.agenttasks.ManagerStats;
import dev.agenttasks.Task;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * One task emitting 200-byte events as fast as it can, one subscriber, SQLite store; events/s from the
 * first emit to the subscriber's onComplete, against raw batched inserts of the same rows. Also the
 * fan-out run: the same with many subscribers, against one.
 */
final class EventThroughputBench {
    private final Env env;

    EventThroughputBench(Env env) {
        this.env = env;
    }

    /** Result of one engine round. */
    record Round(double eventsPerSecond, long batches, long deliveries, java.util.Map<String, Double> cpu, long pageReads,
                 long eventsRead, double processCpuPerEvent, double writeWallPerEvent, String alloc, long gcMillis) {
    }

    /**
     * One round: a fresh file and manager, {@code subscribers} subscribers attached before the first emit.
     */
    Round engineRound(int events, int subscribers) throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        try (CountingStore store = new CountingStore(Env.sqlite(env.newDb("events")));
             TaskManager tasks = Env.manager(store, Agents.runner(Agents.stream(gate, events))).build()) {
            Task task = tasks.create(TaskRequest.of("bench", "stream"));
            List<Subscribers.Counting> subs = new ArrayList<>();
            for (int i = 0; i < subscribers; i++) {
                Subscribers.Counting s = new Subscribers.Counting();
                tasks.events(task.id()).subscribe(s);
                subs.add(s);
            }
            ManagerStats before = tasks.stats();
            CpuMeter cpu = new CpuMeter();
            long start = System.nanoTime();
            gate.countDown();
            long end = start;
            for (Subscribers.Counting s : subs) {
                s.await(300);
                end = Math.max(end, s.completedAt);
                if (s.count < events) {
                    throw new IllegalStateException("subscriber saw " + s.count + " of " + events + " events");
                }
            }
            double processCpu = cpu.processNanos() / 1e3 / events;
            String alloc = CpuMeter.formatBytes(cpu.allocatedBytes(), events, "event");
            long gc = cpu.gcMillisSince();
            java.util.Map<String, Double> used = cpu.stop();
            ManagerStats after = tasks.stats();
            return new Round(events / ((end - start) / 1e9), after.writeBatches() - before.writeBatches(),
                    after.eventsDelivered() - before.eventsDelivered(), used, store.pageReads.get(), store.eventsRead.get(), processCpu,
                    java.util.Arrays.stream(store.sortedWriteNanos()).sum() / 1e3 / events, alloc, gc);
        } finally {
            env.deleteDbFiles();
        }
    }

    java.util.Map<String, Double> lastRawCpu = java.util.Map.of();
    double lastRawProcessCpu;

    double rawRound(int events) throws Exception {
        try {
            CpuMeter cpu = new CpuMeter();
            double rate = RawSqlite.insertEvents(env.newDb("raw-events"), events, 1000);
            lastRawProcessCpu = cpu.processNanos() / 1e3 / events;
            lastRawCpu = cpu.stop();
            return rate;
        } finally {
            env.deleteDbFiles();
        }
    }

    /** Raw batched inserts of the same rows into the schema version 1 layout (see {@link RawSqlite#insertEventsV1Layout}). */
    double rawV1Round(int events) throws Exception {
        try {
            return RawSqlite.insertEventsV1Layout(env.newDb("raw-events-v1"), events, 1000);
        } finally {
            env.deleteDbFiles();
        }
    }

    void run() throws Exception {
        int events = env.size(200_000, 20_000);
        int rounds = env.size(5, 2);
        Env.log("== event throughput: %,d events of ~%d bytes, %d rounds (+1 warm-up)", events,
                Agents.PAYLOAD_BYTES, rounds);
        rawRound(events);
        engineRound(events, 1);
        rawV1Round(events);
        Samples engine = new Samples();
        Samples raw = new Samples();
        Samples rawV1 = new Samples();
        Samples batch = new Samples();
        Samples engineCpu = new Samples();
        Samples rawCpu = new Samples();
        for (int r = 0; r < rounds; r++) {
            double rr = rawRound(events);
            raw.add(rr);
            rawCpu.add(lastRawProcessCpu);
            Round er = engineRound(events, 1);
            engine.add(er.eventsPerSecond());
            engineCpu.add(er.processCpuPerEvent());
            batch.add(events / (double) Math.max(1, er.batches()));
            double r1 = rawV1Round(events);
            rawV1.add(r1);
            Env.log("  round %d: raw %,.0f rows/s, engine %,.0f events/s (%d store transactions, %.0f events each), "
                            + "raw on the v1 layout %,.0f rows/s", r + 1, rr, er.eventsPerSecond(), er.batches(),
                    events / (double) Math.max(1, er.batches()), r1);
            Env.log("    engine: %s; %,d events read back from the store in %d pages; %.2f µs wall in TaskStore.write per event",
                    CpuMeter.format(er.cpu(), events, "event"), er.eventsRead(), er.pageReads(), er.writeWallPerEvent());
            Env.log("    engine: %s; %d ms in GC; process CPU %.2f µs per event", er.alloc(), er.gcMillis(),
                    er.processCpuPerEvent());
            Env.log("    raw:    %s", CpuMeter.format(lastRawCpu, events, "row"));
            if (r == rounds - 1) {
                env.report.note("Event throughput CPU, last round: engine " + CpuMeter.format(er.cpu(), events, "event")
                        + String.format(java.util.Locale.ROOT, " (%,d of the %,d events read back from the store by the "
                        + "subscriber in %d pages; %.2f µs wall time in TaskStore.write per event)", er.eventsRead(), events,
                        er.pageReads(), er.writeWallPerEvent())
                        + "; raw " + CpuMeter.format(lastRawCpu, events, "row") + ". Engine " + er.alloc() + ", "
                        + er.gcMillis() + " ms in GC pauses and concurrent phases for the round");
            }
        }
        double ratio = engine.median() / raw.median();
        env.report.row("Event throughput (1 task, 1 subscriber, SQLite)", Report.fmt(engine.median(), "events/s"),
                "raw sqlite-jdbc batched inserts, 1,000 rows/tx: " + Report.fmt(raw.median(), "rows/s"),
                Report.ratio(ratio), ">= 0.9", ratio >= 0.9);
        double v1Ratio = engine.median() / rawV1.median();
        env.report.row("Event throughput vs raw inserts on the schema v1 layout (the ratio's baseline before the "
                        + "storage change)", Report.fmt(engine.median(), "events/s"),
                "raw sqlite-jdbc batched inserts, 1,000 rows/tx, v1 table (`WITHOUT ROWID`, text key, 4 KB pages): "
                        + Report.fmt(rawV1.median(), "rows/s"), Report.ratio(v1Ratio), null, null);
        env.report.note(String.format(java.util.Locale.ROOT, "Event throughput, raw inserts on the v1 layout: rounds %s "
                + "rows/s; raw v2 / raw v1 per round %s", rawV1.rounds("%,.0f"), ratios(raw, rawV1)));
        double cpuRatio = engineCpu.median() / rawCpu.median();
        env.report.row("Event throughput: process CPU per event (all threads)", Report.fmt(engineCpu.median(), "µs"),
                "raw inserts: " + Report.fmt(rawCpu.median(), "µs") + " per row",
                Report.ratio(cpuRatio) + " (engine / raw)", "<= 1.3", cpuRatio <= 1.3);
        env.report.note(String.format(java.util.Locale.ROOT,
                "Event throughput, %,d events per round: engine rounds %s events/s (spread %s); raw rounds %s rows/s "
                        + "(spread %s); median %.0f events per store transaction",
                events, engine.rounds("%,.0f"), Report.pct(engine.spread()), raw.rounds("%,.0f"),
                Report.pct(raw.spread()), batch.median()));
        if (env.diag) {
            diagnose(events);
        }
    }

    private static String ratios(Samples a, Samples b) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            sb.append(i == 0 ? "" : " / ").append(String.format(java.util.Locale.ROOT, "%.2f", a.get(i) / b.get(i)));
        }
        return sb.toString();
    }

    /**
     * Where the gap to raw inserts comes from: raw inserts with the store's JSON and SQL, measured in
     * CPU time of the inserting thread (wall time on a shared machine is too noisy for this).
     */
    private void diagnose(int events) throws Exception {
        String[] names = {"plain INSERT", "+ Jackson-serialised data", "conditional INSERT ... SELECT ... WHERE seq = "
                + "max(seq) + 1 (a per-row seq check in SQL, as the store did before its commit 30d7e39)", "both", "both, 4,000 rows/tx"};
        Samples[] cpu = new Samples[names.length];
        for (int v = 0; v < names.length; v++) {
            cpu[v] = new Samples();
        }
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        for (int r = 0; r < 3; r++) {
            for (int v = 0; v < names.length; v++) {
                long t0 = mx.getCurrentThreadCpuTime();
                RawSqlite.insertEvents(env.newDb("diag"), events, v == 4 ? 4000 : 1000, v == 1 || v >= 3, v >= 2);
                cpu[v].add((mx.getCurrentThreadCpuTime() - t0) / 1e3 / events);
                env.deleteDbFiles();
            }
        }
        StringBuilder b = new StringBuilder("Event throughput diagnosis, CPU µs per row of the inserting thread (raw JDBC, "
                + "median of 3): ");
        for (int v = 0; v < names.length; v++) {
            b.append(v == 0 ? "" : "; ").append(names[v]).append(' ')
                    .append(String.format(java.util.Locale.ROOT, "%.2f", cpu[v].median()));
        }
        env.report.note(b.toString());
    }

    void runFanOut() throws Exception {
        int events = env.size(20_000, 2_000);
        int many = 100;
        int rounds = env.size(3, 1);
        Env.log("== fan-out: %,d events, %d subscribers vs 1, %d rounds (+1 warm-up)", events, many, rounds);
        engineRound(events, 1);
        engineRound(events, many);
        Samples one = new Samples();
        Samples hundred = new Samples();
        for (int r = 0; r < rounds; r++) {
            Round a = engineRound(events, 1);
            Round b = engineRound(events, many);
            one.add(a.eventsPerSecond());
            hundred.add(b.eventsPerSecond());
            Env.log("  round %d: 1 subscriber %,.0f events/s; %d subscribers %,.0f events/s (%,.0f deliveries/s)",
                    r + 1, a.eventsPerSecond(), many, b.eventsPerSecond(), b.eventsPerSecond() * many);
            Env.log("    1 subscriber:    %s", CpuMeter.format(a.cpu(), events, "event"));
            Env.log("    %d subscribers: %s; %d page reads", many, CpuMeter.format(b.cpu(), events, "event"), b.pageReads());
            Env.log("    %,d events read back from the store (%.1f per delivery)", b.eventsRead(),
                    b.eventsRead() / (double) Math.max(1, b.deliveries()));
            if (r == rounds - 1) {
                env.report.note("Fan-out CPU, last round: " + many + " subscribers " + CpuMeter.format(b.cpu(), events, "event")
                        + String.format(java.util.Locale.ROOT, " (%,d events read back from the store in %d pages for %,d "
                        + "deliveries)", b.eventsRead(), b.pageReads(), b.deliveries())
                        + "; 1 subscriber " + CpuMeter.format(a.cpu(), events, "event"));
            }
        }
        double ratio = hundred.median() / one.median();
        env.report.row("Fan-out (1 task, " + many + " subscribers, SQLite)",
                Report.fmt(hundred.median(), "events/s") + " (" + Report.fmt(hundred.median() * many, "deliveries/s") + ")",
                "same with 1 subscriber: " + Report.fmt(one.median(), "events/s"), Report.ratio(ratio), null, null);
        env.report.note(String.format(java.util.Locale.ROOT,
                "Fan-out, %,d events per round: %d subscribers %s events/s (spread %s); 1 subscriber %s events/s (spread %s)",
                events, many, hundred.rounds("%,.0f"), Report.pct(hundred.spread()), one.rounds("%,.0f"),
                Report.pct(one.spread())));
    }
}
