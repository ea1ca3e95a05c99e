package dev.agenttasks.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time per thread group (thread name without its trailing number) between two snapshots: a
 * measure of where the work goes that, unlike wall time, hardly depends on the other processes that
 * share the machine.
 */
final class CpuMeter {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private final Map<Long, Long> start = new HashMap<>();
    private final long processStart = processCpuNanos();
    private final Map<Long, Long> allocStart = new HashMap<>();
    private final long gcStart = gcMillis();

    CpuMeter() {
        if (THREADS.isThreadCpuTimeSupported() && !THREADS.isThreadCpuTimeEnabled()) {
            THREADS.setThreadCpuTimeEnabled(true);
        }
        for (long id : THREADS.getAllThreadIds()) {
            start.put(id, Math.max(0, THREADS.getThreadCpuTime(id)));
            allocStart.put(id, allocated(id));
        }
    }

    private static long allocated(long threadId) {
        if (THREADS instanceof com.sun.management.ThreadMXBean) {
            return Math.max(0, ((com.sun.management.ThreadMXBean) THREADS).getThreadAllocatedBytes(threadId));
        }
        return 0;
    }

    /** @return milliseconds all garbage collectors spent collecting since the JVM started */
    static long gcMillis() {
        long ms = 0;
        for (java.lang.management.GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ms += Math.max(0, gc.getCollectionTime());
        }
        return ms;
    }

    /** @return milliseconds spent in garbage collection since construction */
    long gcMillisSince() {
        return gcMillis() - gcStart;
    }

    /** @return bytes allocated by the live threads since construction, per thread group */
    Map<String, Long> allocatedBytes() {
        Map<String, Long> out = new TreeMap<>();
        for (long id : THREADS.getAllThreadIds()) {
            ThreadInfo info = THREADS.getThreadInfo(id);
            if (info == null) {
                continue;
            }
            long used = allocated(id) - allocStart.getOrDefault(id, 0L);
            if (used > 0) {
                out.merge(info.getThreadName().replaceAll("[-#]?\\d+$", ""), used, Long::sum);
            }
        }
        return out;
    }

    static String formatBytes(Map<String, Long> bytes, int perUnits, String unit) {
        StringBuilder b = new StringBuilder();
        bytes.entrySet().stream().filter(e -> e.getValue() / perUnits >= 10)
                .sorted((a, c) -> Long.compare(c.getValue(), a.getValue()))
                .forEach(e -> b.append(b.length() == 0 ? "" : ", ").append(e.getKey()).append(' ')
                        .append(e.getValue() / perUnits).append(" B"));
        return b + " allocated per " + unit;
    }

    /** @return CPU time of the whole process in nanoseconds, or -1 if the JVM does not tell */
    static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean) {
            return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
        }
        return -1;
    }

    /** @return CPU nanoseconds of the whole process (every thread, also those that ended) since construction */
    long processNanos() {
        return processCpuNanos() - processStart;
    }

    /** @return CPU milliseconds per thread group since construction (threads that ended are missed) */
    Map<String, Double> stop() {
        Map<String, Double> out = new TreeMap<>();
        for (long id : THREADS.getAllThreadIds()) {
            long now = THREADS.getThreadCpuTime(id);
            ThreadInfo info = THREADS.getThreadInfo(id);
            if (now < 0 || info == null) {
                continue;
            }
            long used = now - start.getOrDefault(id, 0L);
            if (used > 0) {
                String group = info.getThreadName().replaceAll("[-#]?\\d+$", "");
                out.merge(group, used / 1e6, Double::sum);
            }
        }
        return out;
    }

    static String format(Map<String, Double> cpu, int perUnits, String unit) {
        StringBuilder b = new StringBuilder();
        cpu.entrySet().stream().filter(e -> e.getValue() >= 1).sorted((a, c) -> Double.compare(c.getValue(), a.getValue()))
                .forEach(e -> b.append(b.length() == 0 ? "" : ", ").append(e.getKey()).append(' ')
                        .append(String.format(Locale.ROOT, "%.1f µs", e.getValue() * 1000 / perUnits)));
        return b + " CPU per " + unit;
    }
}
