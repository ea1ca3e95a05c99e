package dev.agenttasks.benchmarks;

import dev.agenttasks.Task;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.spi.TaskStore;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * Emit-to-subscriber latency at a paced 1,000 events/s, measured in the subscriber from a
 * {@code System.nanoTime()} stamp in the event data; SQLite store against the in-memory store.
 */
final class LatencyBench {
    static final int RATE = 1_000;
    private final Env env;

    LatencyBench(Env env) {
        this.env = env;
    }

    private String lastWrites = "";

    /** @return sorted latencies in nanoseconds */
    long[] measure(boolean sqlite, int events) throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        CountingStore store = new CountingStore(sqlite ? Env.sqlite(env.newDb("latency")) : TaskStore.inMemory());
        try (TaskManager tasks = Env.manager(store, Agents.runner(Agents.paced(gate, events, RATE))).build()) {
            Task task = tasks.create(TaskRequest.of("bench", "paced"));
            Subscribers.Latency sub = new Subscribers.Latency(events);
            tasks.events(task.id()).subscribe(sub);
            gate.countDown();
            sub.await(events / RATE + 60);
            long[] l = Arrays.copyOf(sub.nanos, sub.n);
            Arrays.sort(l);
            long[] w = store.sortedWriteNanos();
            lastWrites = String.format(Locale.ROOT, "%,d store writes (transactions): p50 %.0f µs, p99 %.0f µs, max %.0f µs, "
                            + "%d over 1 ms", w.length, Samples.percentile(w, 50) / 1e3, Samples.percentile(w, 99) / 1e3,
                    w.length == 0 ? 0 : w[w.length - 1] / 1e3, Arrays.stream(w).filter(x -> x > 1_000_000).count());
            return l;
        } finally {
            env.deleteDbFiles();
        }
    }

    void run() throws Exception {
        int seconds = env.size(10, 1);
        int events = seconds * RATE;
        Env.log("== latency: %,d events at %,d events/s per store (+ warm-up)", events, RATE);
        measure(true, events / 5);
        measure(false, events / 5);
        long[] sqlite = measure(true, events);
        String sqliteWrites = lastWrites;
        long[] memory = measure(false, events);
        String memoryWrites = lastWrites;
        double p50s = Samples.percentile(sqlite, 50) / 1e3;
        double p99s = Samples.percentile(sqlite, 99) / 1e3;
        double maxs = sqlite[sqlite.length - 1] / 1e3;
        double p50m = Samples.percentile(memory, 50) / 1e3;
        double p99m = Samples.percentile(memory, 99) / 1e3;
        double maxm = memory[memory.length - 1] / 1e3;
        Env.log("  SQLite: p50 %.0f us, p99 %.0f us, max %.0f us (%d samples)", p50s, p99s, maxs, sqlite.length);
        Env.log("  memory: p50 %.0f us, p99 %.0f us, max %.0f us (%d samples)", p50m, p99m, maxm, memory.length);
        Env.log("  SQLite store writes: %s", sqliteWrites);
        Env.log("  memory store writes: %s", memoryWrites);
        env.report.note("Latency, time spent in TaskStore.write per transaction: SQLite " + sqliteWrites + "; in-memory "
                + memoryWrites);
        env.report.row("Latency p50 at 1,000 events/s (SQLite)", Report.fmt(p50s, "µs"),
                "in-memory store: " + Report.fmt(p50m, "µs"), Report.ratio(p50s / p50m), null, null);
        env.report.row("Latency p99 at 1,000 events/s (SQLite)", Report.fmt(p99s, "µs"),
                "in-memory store: " + Report.fmt(p99m, "µs"), Report.ratio(p99s / p99m), null, null);
        env.report.row("Latency max at 1,000 events/s (SQLite)", Report.fmt(maxs, "µs"),
                "in-memory store: " + Report.fmt(maxm, "µs"), Report.ratio(maxs / maxm), null, null);
        env.report.note(String.format(Locale.ROOT,
                "Latency: %,d events per store over %d s, one measured run each (after a warm-up run); the max is "
                        + "the single worst event and is the figure most affected by other processes on the machine",
                events, seconds));
    }
}
