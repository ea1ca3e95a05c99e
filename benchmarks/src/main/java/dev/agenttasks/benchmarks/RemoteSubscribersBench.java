package dev.agenttasks.benchmarks;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.ForwardingTaskStore;
import dev.agenttasks.spi.IdempotencyKey;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.RemoteRequest;
import dev.agenttasks.spi.TaskCursor;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.TurnResult;
import dev.agenttasks.sqlite.SqliteTaskStore;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The store load of idle remote subscribers ({@code only=remotesubs}): host A (a manager on an SQLite file)
 * holds 100 tasks waiting for input; host B (a second manager with its own store object on the same file,
 * as a second process would) subscribes to all of them, receives their events, and then sits idle while
 * its store calls are counted for a few seconds. Three variants of B's store, alternating in each round:
 * <ul>
 *   <li><b>per-task poll</b> (the baseline, the poll before the batched one): {@code lastSeqs} answered by one
 *       {@code task(id)} per task and reported as "beyond anything delivered", so every subscription is
 *       signalled and reads its events every poll, as the former poll did;</li>
 *   <li><b>SPI default</b>: the {@link TaskStore#lastSeqs} default (one {@code task(id)} per task), as a
 *       third-party store without the override runs it;</li>
 *   <li><b>batched</b>: the SQLite store's own {@code lastSeqs}, one statement.</li>
 * </ul>
 */
final class RemoteSubscribersBench {
    static final int TASKS = 100;

    private final Env env;

    RemoteSubscribersBench(Env env) {
        this.env = env;
    }

    /** Counts every read a store gets (each is one or a few statements on SQLite), per kind. */
    static final class CountingReads extends ForwardingTaskStore {
        final Map<String, AtomicLong> calls = new HashMap<>();

        CountingReads(TaskStore delegate) {
            super(delegate);
            for (String k : List.of("task", "events", "lastSeqs", "other")) {
                calls.put(k, new AtomicLong());
            }
        }

        private void count(String kind) {
            calls.get(kind).incrementAndGet();
        }

        long total() {
            return calls.values().stream().mapToLong(AtomicLong::get).sum();
        }

        Map<String, Long> snapshot() {
            Map<String, Long> m = new HashMap<>();
            calls.forEach((k, v) -> m.put(k, v.get()));
            return m;
        }

        @Override
        public Optional<TaskRecord> task(String taskId) {
            count("task");
            return super.task(taskId);
        }

        @Override
        public List<TaskEvent> events(String taskId, long afterSeq, int limit) {
            count("events");
            return super.events(taskId, afterSeq, limit);
        }

        @Override
        public Map<String, Long> lastSeqs(Collection<String> taskIds) {
            count("lastSeqs");
            return super.lastSeqs(taskIds);
        }

        @Override
        public List<TaskRecord> list(TaskQuery query, TaskCursor after, int limit) {
            count("other");
            return super.list(query, after, limit);
        }

        @Override
        public List<TaskRecord> findByStatus(Set<TaskStatus> statuses) {
            count("other");
            return super.findByStatus(statuses);
        }

        @Override
        public List<PendingMessage> pendingMessages(String taskId) {
            count("other");
            return super.pendingMessages(taskId);
        }

        @Override
        public Map<TaskStatus, Long> countByStatus() {
            count("other");
            return super.countByStatus();
        }

        @Override
        public void heartbeat(String hostId, Instant now) {
            count("other");
            super.heartbeat(hostId, now);
        }

        @Override
        public List<TaskRecord> orphans(Instant heartbeatBefore, int limit) {
            count("other");
            return super.orphans(heartbeatBefore, limit);
        }

        @Override
        public List<TaskRecord> claim(String hostId, int max) {
            count("other");
            return super.claim(hostId, max);
        }

        @Override
        public List<RemoteRequest> requests(String hostId, int limit) {
            count("other");
            return super.requests(hostId, limit);
        }

        @Override
        public Optional<IdempotencyKey> idempotencyKey(String key) {
            count("other");
            return super.idempotencyKey(key);
        }
    }

    /** How B's store answers {@code lastSeqs}. */
    enum Variant {
        PER_TASK_POLL("per-task poll"), SPI_DEFAULT("SPI default"), BATCHED("batched");

        final String label;

        Variant(String label) {
            this.label = label;
        }
    }

    /**
     * A store whose {@code lastSeqs} is the SPI's default, one {@code task(id)} per id; with {@code signalAll},
     * every existing task is reported at {@link Long#MAX_VALUE}, so that every subscription reads its events
     * each poll (the per-task poll before the batched one: a task read per task, an events read per subscription).
     */
    static final class PerTaskLastSeqs extends ForwardingTaskStore {
        private final boolean signalAll;

        PerTaskLastSeqs(TaskStore delegate, boolean signalAll) {
            super(delegate);
            this.signalAll = signalAll;
        }

        @Override
        public Map<String, Long> lastSeqs(Collection<String> taskIds) {
            Map<String, Long> out = new HashMap<>();
            for (String id : taskIds) {
                task(id).ifPresent(r -> out.put(id, signalAll ? Long.MAX_VALUE : r.lastSeq()));
            }
            return out;
        }
    }

    /** Counts the events it receives; requests everything. */
    private static final class Counter implements Flow.Subscriber<TaskEvent> {
        final AtomicLong received = new AtomicLong();

        @Override
        public void onSubscribe(Flow.Subscription s) {
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(TaskEvent item) {
            received.incrementAndGet();
        }

        @Override
        public void onError(Throwable t) {
            if (!(t instanceof dev.agenttasks.ManagerClosedException)) { // the end of each round
                System.err.println("remote subscriber failed: " + t);
            }
        }

        @Override
        public void onComplete() {
        }
    }

    void run() throws Exception {
        long windowMillis = env.size(5_000, 1_000);
        int rounds = env.size(2, 1);
        Env.log("== Idle remote subscribers on SQLite: %d tasks waiting on host A, one subscriber each on host B, "
                + "B's store reads counted over %d ms, eventPollInterval 150 ms, %d rounds", TASKS, windowMillis, rounds);
        Path file = env.newDb("remotesubs");
        Map<Variant, List<double[]>> results = new java.util.EnumMap<>(Variant.class);
        for (Variant v : Variant.values()) {
            results.put(v, new ArrayList<>());
        }
        try (TaskManager a = Env.manager(Env.sqlite(file), Agents.runner((turn, ctx) -> TurnResult.awaitingInput(
                Map.of("q", "more?")))).hostId("a").build()) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < TASKS; i++) {
                ids.add(a.create(TaskRequest.of("bench", "waiting " + i)).id());
            }
            waitFor(() -> ids.stream().allMatch(id -> a.get(id).map(Task::status).orElse(null)
                    == TaskStatus.WAITING_FOR_INPUT), 120);
            for (int r = 0; r < rounds; r++) {
                StringBuilder line = new StringBuilder();
                for (Variant v : Variant.values()) {
                    double[] x = round(file, ids, v, windowMillis);
                    results.get(v).add(x);
                    line.append(v.label).append(' ').append(describe(x)).append("; ");
                }
                Env.log("  round %d, store reads/s: %s", r + 1, line);
            }
        }
        double before = median(results.get(Variant.PER_TASK_POLL));
        double after = median(results.get(Variant.BATCHED));
        env.report.row("Store reads/s of a host with " + TASKS + " idle remote subscribers (SQLite, eventPollInterval "
                        + "150 ms; everything the host reads, heartbeat and claim/request polls included)",
                Report.fmt(after, "reads/s"), "per-task poll (a task read per task and an events read per "
                        + "subscription each poll): " + Report.fmt(before, "reads/s"), Report.ratio(after / before),
                null, null);
        StringBuilder b = new StringBuilder("Idle remote subscribers, reads/s (total: task, events, lastSeqs, other)"
                + " per round: ");
        for (int r = 0; r < rounds; r++) {
            b.append("round ").append(r + 1).append(':');
            for (Variant v : Variant.values()) {
                b.append(' ').append(v.label).append(' ').append(describe(results.get(v).get(r))).append(';');
            }
            b.append(' ');
        }
        env.report.note(b.toString().trim());
    }

    private static String describe(double[] v) {
        return String.format(Locale.ROOT, "%.0f (task %.1f, events %.1f, lastSeqs %.1f, other %.1f)", v[0], v[1],
                v[2], v[3], v[4]);
    }

    private static double median(List<double[]> rounds) {
        double[] totals = rounds.stream().mapToDouble(v -> v[0]).sorted().toArray();
        int n = totals.length;
        return n % 2 == 1 ? totals[n / 2] : (totals[n / 2 - 1] + totals[n / 2]) / 2;
    }

    /** @return reads per second over the window: total, task, events, lastSeqs, other */
    private static double[] round(Path file, List<String> ids, Variant variant, long windowMillis) throws Exception {
        SqliteTaskStore sqlite = Env.sqlite(file);
        CountingReads counted = new CountingReads(sqlite);
        TaskStore store = variant == Variant.BATCHED ? counted
                : new PerTaskLastSeqs(counted, variant == Variant.PER_TASK_POLL);
        try (TaskManager b = Env.manager(store, Agents.runner((turn, ctx) -> TurnResult.completed()))
                .hostId("b-" + variant.name().toLowerCase(Locale.ROOT)).build()) {
            Map<String, Long> lastSeqs = sqlite.lastSeqs(ids);
            List<Counter> subs = new ArrayList<>();
            for (String id : ids) {
                Counter c = new Counter();
                b.events(id).subscribe(c);
                subs.add(c);
            }
            waitFor(() -> {
                for (int i = 0; i < ids.size(); i++) {
                    if (subs.get(i).received.get() < lastSeqs.get(ids.get(i))) {
                        return false;
                    }
                }
                return true;
            }, 120);
            TimeUnit.MILLISECONDS.sleep(500); // let the subscriptions' first polls pass before counting
            Map<String, Long> start = counted.snapshot();
            long t0 = System.nanoTime();
            TimeUnit.MILLISECONDS.sleep(windowMillis); // the measured idle window
            double seconds = (System.nanoTime() - t0) / 1e9;
            Map<String, Long> end = counted.snapshot();
            double[] v = new double[5];
            String[] kinds = {"task", "events", "lastSeqs", "other"};
            for (int k = 0; k < kinds.length; k++) {
                v[k + 1] = (end.get(kinds[k]) - start.get(kinds[k])) / seconds;
                v[0] += v[k + 1];
            }
            return v;
        }
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
            TimeUnit.MILLISECONDS.sleep(10); // polling for the moment the measurement starts
        }
    }
}
