package dev.agenttasks.examples;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Counts open event streams, per task and in total, against the configured caps. */
final class StreamLimiter {

    private final int perTask;
    private final int total;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<String, Integer> byTask = new ConcurrentHashMap<>();

    StreamLimiter(int perTask, int total) {
        this.perTask = perTask;
        this.total = total;
    }

    /** @return true if a stream on the task may open (and it is now counted); false if a cap is reached */
    boolean tryAcquire(String taskId) {
        while (true) {
            int n = open.get();
            if (n >= total) {
                return false;
            }
            if (open.compareAndSet(n, n + 1)) {
                break;
            }
        }
        boolean[] ok = {false};
        byTask.compute(taskId, (k, v) -> {
            int current = v == null ? 0 : v;
            if (current >= perTask) {
                return v;
            }
            ok[0] = true;
            return current + 1;
        });
        if (!ok[0]) {
            open.decrementAndGet();
        }
        return ok[0];
    }

    /** Releases a stream counted by {@link #tryAcquire(String)}. */
    void release(String taskId) {
        byTask.computeIfPresent(taskId, (k, v) -> v <= 1 ? null : v - 1);
        open.decrementAndGet();
    }

    int open() {
        return open.get();
    }

    int open(String taskId) {
        return byTask.getOrDefault(taskId, 0);
    }
}
