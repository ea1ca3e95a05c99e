package dev.agenttasks.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.postgres.PostgresTaskStore;
import dev.agenttasks.spi.StoreChangeListener;
import dev.agenttasks.spi.TurnResult;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import dev.agenttasks.testkit.postgres.PostgresServer;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Several hosts on one PostgreSQL ({@code only=pghosts}, issue 9): task throughput with one and with two managers
 * on one schema (and the database cost per task: statements and commits counted at the JDBC level), cross-host
 * event latency (emit on host A, subscriber on host B, against a subscriber on A), and the takeover time after a
 * host in a child JVM is SIGKILLed mid-turn.
 */
final class PgHostsBench {
    /** Heartbeat interval and dead-host timeout of the takeover rounds. */
    static final long HEARTBEAT_MILLIS = 1_000;
    static final long DEAD_AFTER_MILLIS = 4_000;

    private final Env env;
    private PostgresServer server;

    PgHostsBench(Env env) {
        this.env = env;
    }

    /** The multi-host options of every manager of this benchmark. */
    static TaskManager.Builder configure(TaskManager.Builder b, String hostId, long heartbeatMillis,
                                         long deadAfterMillis) {
        return b.hostId(hostId).heartbeatInterval(java.time.Duration.ofMillis(heartbeatMillis))
                .hostDeadAfter(java.time.Duration.ofMillis(deadAfterMillis));
    }

    private HikariDataSource pool(int size) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(server.jdbcUrl());
        c.setUsername(server.user());
        c.setPassword(server.password());
        c.setMaximumPoolSize(size);
        return new HikariDataSource(c);
    }

    void run() throws Exception {
        server = new PostgresExtension().server();
        Env.log("== Several hosts on one PostgreSQL (%s)", server);
        // -Dbench.pghosts.skip=throughput,takeover (in bench.jvm) runs the latency part alone, for experiments
        List<String> skip = Arrays.asList(System.getProperty("bench.pghosts.skip", "").split(","));
        if (!skip.contains("throughput")) {
            throughput();
        }
        latency(true);
        latency(false);
        if (!skip.contains("takeover")) {
            takeover();
        }
    }

    // ---------------------------------------------------------------------------------------------- throughput

    private void throughput() throws Exception {
        int count = env.size(5_000, 300);
        int rounds = env.size(3, 1);
        Env.log("== Task throughput on 1 and 2 managers: %,d tasks x 3 events, limit 64 per manager, %d rounds "
                + "(+1 warm-up)", count, rounds);
        tasksRound(1, Math.min(count, 1000));
        Samples one = new Samples();
        Samples two = new Samples();
        String[] cost = new String[3];
        for (int r = 0; r < rounds; r++) {
            one.add(tasksRound(1, count));
            cost[1] = lastCost;
            two.add(tasksRound(2, count));
            cost[2] = lastCost;
            Env.log("  round %d: 1 manager %,.0f tasks/s (%s); 2 managers %,.0f tasks/s (%s)", r + 1, one.last(),
                    cost[1], two.last(), cost[2]);
        }
        double ratio = two.median() / one.median();
        env.report.row("Task throughput, 2 managers on one PostgreSQL schema (" + String.format(Locale.ROOT, "%,d",
                        count) + " tasks x 3 events)", Report.fmt(two.median(), "tasks/s"),
                "1 manager: " + Report.fmt(one.median(), "tasks/s"), Report.ratio(ratio), ">= 0.9", ratio >= 0.9);
        env.report.note(String.format(Locale.ROOT, "Hosts throughput rounds: 1 manager %s tasks/s, 2 managers %s; "
                        + "database cost, last round: 1 manager %s; 2 managers %s", one.rounds("%,.0f"),
                two.rounds("%,.0f"), cost[1], cost[2]));
    }

    private String lastCost = "";

    private double tasksRound(int managers, int count) throws Exception {
        String schema = server.uniqueSchemaName("hosts");
        CountDownLatch all = new CountDownLatch(count);
        AtomicLong failed = new AtomicLong();
        TaskListener finished = new TaskListener() {
            @Override
            public void taskFinished(Task task) {
                if (task.status() != TaskStatus.COMPLETED) {
                    failed.incrementAndGet();
                }
                all.countDown();
            }
        };
        List<HikariDataSource> pools = new ArrayList<>();
        List<CountingDataSource> counted = new ArrayList<>();
        List<TaskManager> hosts = new ArrayList<>();
        try {
            for (int i = 0; i < managers; i++) {
                HikariDataSource p = pool(8);
                pools.add(p);
                CountingDataSource c = new CountingDataSource(p);
                counted.add(c);
                hosts.add(configure(Env.manager(PostgresTaskStore.builder(c).schema(schema).build(),
                        Agents.runner((turn, ctx) -> {
                            for (long k = 0; k < 3; k++) {
                                ctx.emit("step", Map.of("n", k));
                            }
                            return TurnResult.completed();
                        })), "host-" + i, HEARTBEAT_MILLIS, DEAD_AFTER_MILLIS)
                        .maxConcurrentTasks(TaskThroughputBench.MAX_CONCURRENT).listener(finished).build());
            }
            long[] before = totals(counted);
            long start = System.nanoTime();
            int creators = TaskThroughputBench.CREATORS;
            Thread[] threads = new Thread[creators];
            Throwable[] failure = new Throwable[1];
            for (int t = 0; t < creators; t++) {
                int from = count * t / creators;
                int to = count * (t + 1) / creators;
                TaskManager m = hosts.get(t % managers);
                threads[t] = new Thread(() -> {
                    try {
                        for (int i = from; i < to; i++) {
                            m.create(TaskRequest.of("bench", "task " + i));
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
            if (!all.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException("only " + (count - all.getCount()) + " of " + count + " finished");
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            if (failed.get() > 0) {
                throw new IllegalStateException(failed.get() + " tasks did not complete");
            }
            long[] after = totals(counted);
            lastCost = String.format(Locale.ROOT, "%.1f statements and %.2f commits per task", (after[0] - before[0])
                    / (double) count, (after[1] - before[1]) / (double) count);
            return count / seconds;
        } finally {
            for (TaskManager m : hosts) {
                m.close();
            }
            for (HikariDataSource p : pools) {
                p.close();
            }
            server.dropSchema(schema);
        }
    }

    private static long[] totals(List<CountingDataSource> sources) {
        long[] t = new long[2];
        for (CountingDataSource s : sources) {
            long[] x = s.snapshot();
            t[0] += x[0];
            t[1] += x[1];
        }
        return t;
    }

    // ------------------------------------------------------------------------------------------------ latency

    /** @param notify whether host B's store listens for notifications (else it polls only) */
    private void latency(boolean notify) throws Exception {
        int events = env.size(2_000, 200);
        int perSecond = 200;
        Env.log("== Cross-host event latency (%s): %,d events at %d/s emitted on host A, subscribers on A and B",
                notify ? "LISTEN/NOTIFY" : "polling only", events, perSecond);
        String schema = server.uniqueSchemaName("hostlat");
        CountDownLatch gate = new CountDownLatch(1);
        long[] wakes = new long[events * 2]; // when host B's store heard of new events (LISTEN/NOTIFY), nanoTime
        AtomicInteger wakeCount = new AtomicInteger();
        StoreChangeListener wakeClock = new StoreChangeListener() {
            @Override
            public void eventsAppended(String taskId) {
                int i = wakeCount.getAndIncrement();
                if (i < wakes.length) {
                    wakes[i] = System.nanoTime();
                }
            }
        };
        try (HikariDataSource pa = pool(6); HikariDataSource pb = pool(6);
             // the clock listens before B's engine does, so it notes each wake-up before B acts on it
             PostgresTaskStore storeB = listening(PostgresTaskStore.builder(pb).schema(schema).notifications(notify)
                     .build(), wakeClock);
             TaskManager a = configure(Env.manager(PostgresTaskStore.builder(pa).schema(schema).build(),
                     Agents.runner((turn, ctx) -> {
                         gate.await();
                         long pause = TimeUnit.SECONDS.toNanos(1) / perSecond;
                         long next = System.nanoTime();
                         for (int i = 0; i < events; i++) {
                             ctx.emit("tick", Map.of("t", System.nanoTime()));
                             next += pause;
                             long wait = next - System.nanoTime();
                             if (wait > 0) {
                                 TimeUnit.NANOSECONDS.sleep(wait); // the emit rate, not synchronisation
                             }
                         }
                         return TurnResult.completed();
                     })), "a", HEARTBEAT_MILLIS, DEAD_AFTER_MILLIS).maxConcurrentTasks(4).build();
             TaskManager b = configure(Env.manager(storeB,
                     Agents.runner((turn, ctx) -> TurnResult.completed())), "b", HEARTBEAT_MILLIS, DEAD_AFTER_MILLIS)
                     .eventPollInterval(java.time.Duration.ofMillis(Long.getLong("bench.pghosts.eventPollMillis",
                             TaskManager.Builder.DEFAULT_EVENT_POLL_INTERVAL.toMillis())))
                     .maxConcurrentTasks(1).build()) {
            Task task = a.create(TaskRequest.of("bench", "latency"));
            Latencies onA = new Latencies(events);
            Latencies onB = new Latencies(events);
            a.events(task.id()).subscribe(onA);
            b.events(task.id()).subscribe(onB);
            gate.countDown();
            if (!onA.done.await(300, TimeUnit.SECONDS) || !onB.done.await(300, TimeUnit.SECONDS)) {
                throw new IllegalStateException("subscribers did not complete");
            }
            long[] sa = onA.sorted();
            long[] sb = onB.sorted();
            // the same event on both hosts (both logs are gapless and in order): what B's path adds to A's
            long[] extra = new long[Math.min(onA.count(), onB.count())];
            for (int i = 0; i < extra.length; i++) {
                extra[i] = onB.values[i] - onA.values[i];
            }
            Arrays.sort(extra);
            // B's engine path: from the wake-up before an event's arrival on B (the one that brought it) to the arrival
            int nw = Math.min(wakeCount.get(), wakes.length);
            long[] w = Arrays.copyOf(wakes, nw);
            Arrays.sort(w);
            long[] engineB = new long[notify ? onB.count() : 0];
            for (int i = 0; i < engineB.length; i++) {
                int k = Arrays.binarySearch(w, onB.arrivals[i]);
                int before = k >= 0 ? k : -k - 2;
                engineB[i] = before >= 0 ? onB.arrivals[i] - w[before] : 0;
            }
            Arrays.sort(engineB);
            if (sb.length < events) {
                throw new IllegalStateException("host B saw " + sb.length + " of " + events + " events");
            }
            double p99 = Samples.percentile(sb, 99) / 1e6;
            env.report.row("Cross-host event latency emit -> subscriber on host B, p50 / p99 (" + events + " events at "
                            + perSecond + "/s, " + (notify ? "LISTEN/NOTIFY" : "polling only, eventPollInterval 150 ms")
                            + ")", String.format(Locale.ROOT, "%.1f / %.1f ms",
                            Samples.percentile(sb, 50) / 1e6, p99),
                    String.format(Locale.ROOT, "subscriber on the emitting host: %.1f / %.1f ms",
                            Samples.percentile(sa, 50) / 1e6, Samples.percentile(sa, 99) / 1e6), "-",
                    notify ? "p99 <= 100 ms" : null, notify ? p99 <= 100 : null);
            env.report.note(String.format(Locale.ROOT, "Cross-host latency (" + (notify ? "notify" : "polling only")
                    + "): host B p50 %.1f, p90 %.1f, p99 %.1f, max "
                            + "%.1f ms; host A p50 %.1f, p99 %.1f ms; B's arrival minus A's, per event: p50 %.1f, p90 "
                            + "%.1f, p99 %.1f, max %.1f ms", Samples.percentile(sb, 50) / 1e6,
                    Samples.percentile(sb, 90) / 1e6, p99, sb[sb.length - 1] / 1e6, Samples.percentile(sa, 50) / 1e6,
                    Samples.percentile(sa, 99) / 1e6, Samples.percentile(extra, 50) / 1e6,
                    Samples.percentile(extra, 90) / 1e6, Samples.percentile(extra, 99) / 1e6,
                    extra.length == 0 ? Double.NaN : extra[extra.length - 1] / 1e6)
                    + (notify ? String.format(Locale.ROOT, "; on B from the last wake-up before an event's arrival to "
                            + "the arrival (B's engine: signal, store read, delivery): p50 %.1f, p90 %.1f, p99 %.1f, "
                            + "max %.1f ms", Samples.percentile(engineB, 50) / 1e6,
                    Samples.percentile(engineB, 90) / 1e6, Samples.percentile(engineB, 99) / 1e6,
                    engineB.length == 0 ? Double.NaN : engineB[engineB.length - 1] / 1e6) : ""));
        } finally {
            server.dropSchema(schema);
        }
    }

    private static PostgresTaskStore listening(PostgresTaskStore store, StoreChangeListener listener) {
        store.addChangeListener(listener);
        return store;
    }

    /** Records now - the event's emit time for every {@code tick}. */
    private static final class Latencies implements Flow.Subscriber<TaskEvent> {
        final CountDownLatch done = new CountDownLatch(1);
        final long[] values;
        /** When each event arrived, nanoTime. */
        final long[] arrivals;
        private final AtomicInteger n = new AtomicInteger();

        Latencies(int capacity) {
            values = new long[capacity];
            arrivals = new long[capacity];
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(TaskEvent e) {
            Object t = e.data().get("t");
            if ("tick".equals(e.type()) && t instanceof Number) {
                int i = n.getAndIncrement();
                if (i < values.length) {
                    long now = System.nanoTime();
                    arrivals[i] = now;
                    values[i] = now - ((Number) t).longValue();
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            done.countDown();
        }

        @Override
        public void onComplete() {
            done.countDown();
        }

        int count() {
            return Math.min(n.get(), values.length);
        }

        long[] sorted() {
            long[] s = Arrays.copyOf(values, count());
            Arrays.sort(s);
            return s;
        }
    }

    // ----------------------------------------------------------------------------------------------- takeover

    private void takeover() throws Exception {
        int rounds = env.size(3, 1);
        Env.log("== Takeover after SIGKILL: heartbeat %d ms, dead after %d ms, %d rounds", HEARTBEAT_MILLIS,
                DEAD_AFTER_MILLIS, rounds);
        Samples s = new Samples();
        for (int r = 0; r < rounds; r++) {
            s.add(takeoverRound());
            Env.log("  round %d: %,.0f ms from SIGKILL to the task's recovery on the live host", r + 1, s.last());
        }
        long bound = DEAD_AFTER_MILLIS + HEARTBEAT_MILLIS;
        env.report.row("Takeover: SIGKILL of a host mid-turn -> its task recovered on another host (heartbeat "
                        + HEARTBEAT_MILLIS + " ms, dead after " + DEAD_AFTER_MILLIS + " ms)",
                Report.fmt(s.median(), "ms"), "bound: dead-host timeout + one interval = " + bound + " ms",
                Report.ratio(s.median() / bound), "<= 1", s.median() <= bound);
        env.report.note("Takeover rounds: " + s.rounds("%,.0f") + " ms");
    }

    private double takeoverRound() throws Exception {
        String schema = server.uniqueSchemaName("takeover");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                BenchHost.class.getName(), server.jdbcUrl(), server.user(),
                server.password().isEmpty() ? "-" : server.password(), schema, "victim",
                Long.toString(HEARTBEAT_MILLIS), Long.toString(DEAD_AFTER_MILLIS))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (HikariDataSource p = pool(4)) {
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            Writer in = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8);
            expect(out, "READY");
            in.write("create\n");
            in.flush();
            String id = expect(out, "CREATED ").substring("CREATED ".length());
            try (PostgresTaskStore store = PostgresTaskStore.builder(p).schema(schema).build();
                 TaskManager survivor = configure(TaskManager.builder(), "survivor", HEARTBEAT_MILLIS,
                         DEAD_AFTER_MILLIS).store(PostgresTaskStore.builder(p).schema(schema).build())
                         .runner(Agents.runner((turn, ctx) -> TurnResult.completed())).build()) {
                waitFor(() -> store.events(id, 0, 10).stream().anyMatch(e -> e.type().equals("started")), 60);
                long killed = System.nanoTime();
                child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                waitFor(() -> store.task(id).map(t -> t.task().status().isTerminal()).orElse(false), 120);
                return (System.nanoTime() - killed) / 1e6;
            }
        } finally {
            child.destroyForcibly();
            server.dropSchema(schema);
        }
    }

    private static String expect(BufferedReader out, String prefix) throws java.io.IOException {
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith(prefix)) {
                return line;
            }
        }
        throw new IllegalStateException("the child host ended before printing " + prefix);
    }

    private interface Check {
        boolean ok() throws Exception;
    }

    private static void waitFor(Check check, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!check.ok()) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("condition not met within " + seconds + " s");
            }
            TimeUnit.MILLISECONDS.sleep(5); // polling the database for the measured moment
        }
    }
}
