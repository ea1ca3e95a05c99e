package dev.agenttasks.benchmarks;

import dev.agenttasks.TaskManager;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.sqlite.SqliteTaskStore;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/** Settings of a run and helpers shared by the benchmarks: fresh database files, GC, managers. */
final class Env {
    final boolean quick;
    /** Also run the diagnostic variants of the baselines. */
    boolean diag;
    final Path dir;
    final Report report;
    private final AtomicInteger files = new AtomicInteger();

    Env(boolean quick, Path dir, Report report) {
        this.quick = quick;
        this.dir = dir;
        this.report = report;
    }

    /** @return quick or full, depending on the mode */
    int size(int full, int quickSize) {
        return quick ? quickSize : full;
    }

    /** @return a path for a new database file (the file does not exist yet) */
    Path newDb(String name) {
        return dir.resolve(name + "-" + files.incrementAndGet() + ".db");
    }

    static SqliteTaskStore sqlite(Path file) {
        return SqliteTaskStore.open(file);
    }

    /**
     * A builder with the engine's defaults, except where a system property overrides a setting for an
     * experiment: {@code bench.liveTailSize}, {@code bench.maxBatchSize}, {@code bench.pageSize},
     * {@code bench.deliveryThreads}, {@code bench.commitDelayMicros}. The report lists any override.
     */
    static TaskManager.Builder manager(TaskStore store, AgentRunner runner) {
        TaskManager.Builder b = TaskManager.builder().store(store).runner(runner);
        Integer v;
        if ((v = Integer.getInteger("bench.liveTailSize")) != null) {
            b.liveTailSize(v);
        }
        if ((v = Integer.getInteger("bench.maxBatchSize")) != null) {
            b.maxBatchSize(v);
        }
        if ((v = Integer.getInteger("bench.pageSize")) != null) {
            b.pageSize(v);
        }
        if ((v = Integer.getInteger("bench.deliveryThreads")) != null) {
            b.deliveryThreads(v);
        }
        if ((v = Integer.getInteger("bench.commitDelayMicros")) != null) {
            b.commitDelay(java.time.Duration.ofNanos(v * 1000L));
        }
        return b;
    }

    /** @return the engine settings overridden by system properties, or "none" */
    static String overrides() {
        StringBuilder b = new StringBuilder();
        for (String k : new String[] {"bench.liveTailSize", "bench.maxBatchSize", "bench.pageSize",
                "bench.deliveryThreads", "bench.commitDelayMicros"}) {
            if (System.getProperty(k) != null) {
                b.append(b.length() == 0 ? "" : ", ").append(k.substring(6)).append('=').append(System.getProperty(k));
            }
        }
        return b.length() == 0 ? "none (engine defaults)" : b.toString();
    }

    /** Deletes the database files of a finished round, to keep the disk and the page cache small. */
    void deleteDbFiles() {
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().contains(".db")).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    System.err.println("could not delete " + p + ": " + e);
                }
            });
        } catch (IOException e) {
            System.err.println("could not list " + dir + ": " + e);
        }
    }

    void deleteDir() {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not delete " + dir + ": " + e);
        }
    }

    /** Several full GCs, then the used heap in bytes. */
    static long usedHeapAfterGc() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(100);
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    static void log(String format, Object... args) {
        System.out.printf(java.util.Locale.ROOT, format + "%n", args);
        System.out.flush();
    }
}
