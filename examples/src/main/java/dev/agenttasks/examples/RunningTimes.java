package dev.agenttasks.examples;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How long each task has been running: the sum of the spans from a {@code running} status event to the
 * next status event, so time spent queued or waiting for the user does not count. Computed by the host
 * from the task's committed events, so it is the same on every host sharing the store and survives a
 * restart.
 *
 * <p>Cost is bounded: a task's events are read once, in pages, from where the last read stopped (an
 * active task costs only its new events per request), and a finished task's value, which can not change,
 * is kept. A request reads at most {@link #budget() a budget} of events over all its rows; a row whose
 * history does not fit is answered "not known yet" ({@code null}) and continues on the next request.
 * At most {@code maxEntries} tasks are kept (least recently asked first out).
 *
 * <p>A task left running by a host that died counts as running until its recovery recorded the end. A
 * failed read answers {@code null} (the list does not fail for it) and is tried again on the next request.
 */
final class RunningTimes {

    /** Reads a page of a task's committed events after a seq ({@code TaskStore::events}). */
    @FunctionalInterface
    interface EventPages {
        /**
         * @param taskId   the task
         * @param afterSeq the last seq already read
         * @param limit    the most events to return
         * @return the next committed events in seq order; fewer than {@code limit} when there are no more now
         */
        List<TaskEvent> events(String taskId, long afterSeq, int limit);
    }

    private static final Logger log = LoggerFactory.getLogger(RunningTimes.class);

    /** Events read per store call. */
    static final int PAGE = 1000;
    /** Events read per request, over all its rows, unless the host sets another budget. */
    static final int DEFAULT_BUDGET = 20_000;
    /** Tasks whose running time is kept, unless the host sets another number. */
    static final int DEFAULT_MAX_ENTRIES = 10_000;

    private final EventPages pages;
    private final Clock clock;
    private final int budgetPerRequest;
    private final Map<String, Entry> entries;

    /**
     * @param pages            reads a task's events; {@code null}: running times are never known
     * @param clock            for the running span of a task running now
     * @param budgetPerRequest events one request may read
     * @param maxEntries       tasks kept
     */
    RunningTimes(EventPages pages, Clock clock, int budgetPerRequest, int maxEntries) {
        this.pages = pages;
        this.clock = clock;
        this.budgetPerRequest = budgetPerRequest;
        this.entries = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                return size() > maxEntries;
            }
        };
    }

    RunningTimes(EventPages pages) {
        this(pages, Clock.systemUTC(), DEFAULT_BUDGET, DEFAULT_MAX_ENTRIES);
    }

    /** What one request may still read. Not thread-safe: one per request. */
    static final class Budget {
        private int left;

        private Budget(int left) {
            this.left = left;
        }
    }

    /** @return a fresh budget for one request */
    Budget budget() {
        return new Budget(budgetPerRequest);
    }

    /**
     * @param task   the task (its id and whether it ever started)
     * @param budget the request's budget, used up by the events read
     * @return milliseconds spent running until now (or until the end), or {@code null} if the task never
     *         started or its history did not fit in the budget yet
     */
    Long runningMillis(Task task, Budget budget) {
        if (pages == null || task.startedAt() == null) {
            return null;
        }
        Entry entry;
        synchronized (entries) {
            entry = entries.computeIfAbsent(task.id(), id -> new Entry());
        }
        synchronized (entry) {
            try {
                if (!entry.finished && !catchUp(task.id(), entry, budget)) {
                    return null;
                }
            } catch (RuntimeException e) {
                // a failed read leaves the entry where the last page ended; the list must not fail for it
                log.debug("Task {}: running time not read: {}", task.id(), e.toString());
                return null;
            }
            long ms = entry.runMillis;
            if (!entry.finished && entry.runningSince != null) {
                ms += Math.max(0, clock.millis() - entry.runningSince.toEpochMilli());
            }
            return ms;
        }
    }

    /** @return the number of tasks kept now */
    int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    /** Reads the events after the entry's last seq; returns whether it reached the last committed one. */
    private boolean catchUp(String taskId, Entry entry, Budget budget) {
        while (budget.left > 0) {
            int limit = Math.min(PAGE, budget.left);
            List<TaskEvent> page = pages.events(taskId, entry.lastSeq, limit);
            budget.left -= page.size();
            for (TaskEvent e : page) {
                entry.lastSeq = e.seq();
                if (e.type().equals("status")) {
                    entry.apply(e);
                }
            }
            if (page.size() < limit || entry.finished) {
                return true;
            }
        }
        return false;
    }

    /** The running time of one task, as far as its events have been read. Guarded by itself. */
    private static final class Entry {
        long lastSeq;
        long runMillis;
        Instant runningSince;
        boolean finished;

        void apply(TaskEvent e) {
            Object name = e.data().get("status");
            if (!(name instanceof String)) {
                return;
            }
            TaskStatus status;
            try {
                status = TaskStatus.parse((String) name);
            } catch (RuntimeException unknown) {
                return;
            }
            if (runningSince != null) {
                runMillis += Math.max(0, e.timestamp().toEpochMilli() - runningSince.toEpochMilli());
                runningSince = null;
            }
            if (status == TaskStatus.RUNNING) {
                runningSince = e.timestamp();
            }
            finished = status.isTerminal();
        }
    }
}
