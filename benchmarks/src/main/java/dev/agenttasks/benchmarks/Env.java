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

    static TaskManager.Builder manager(TaskStore store, AgentRunner runner) {
        return TaskManager.builder().store(store).runner(runner);
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
