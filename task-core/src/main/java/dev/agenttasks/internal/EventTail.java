package dev.agenttasks.internal;

import dev.agenttasks.TaskEvent;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The bounded in-memory tail of a task's committed events. Only the store writer thread changes it
 * ({@link #add} in seq order, {@link #clear}); any thread may read. The ring grows by doubling up to its
 * capacity, so an idle task costs a few slots, not the whole bound. A reader that finds a slot
 * overwritten or cleared falls back to the store.
 */
final class EventTail {
    private static final int INITIAL = 8;
    private final int capacity;
    private volatile AtomicReferenceArray<TaskEvent> ring;
    private volatile int count;

    EventTail(int capacity) {
        this.capacity = capacity;
        this.ring = new AtomicReferenceArray<>(Math.min(INITIAL, capacity));
    }

    /** Writer thread only, in seq order. */
    void add(TaskEvent e) {
        AtomicReferenceArray<TaskEvent> r = ring;
        if (count >= r.length() && r.length() < capacity) {
            AtomicReferenceArray<TaskEvent> bigger = new AtomicReferenceArray<>(Math.min(capacity, r.length() * 2));
            for (int i = 0; i < r.length(); i++) {
                TaskEvent old = r.get(i);
                if (old != null) {
                    bigger.set((int) (old.seq() % bigger.length()), old);
                }
            }
            r = bigger;
            ring = r;
        }
        r.set((int) (e.seq() % r.length()), e);
        if (count < r.length()) {
            count++;
        }
    }

    /** @return the event with that seq if the tail still holds it, else null */
    TaskEvent get(long seq) {
        AtomicReferenceArray<TaskEvent> r = ring;
        TaskEvent e = r.get((int) (seq % r.length()));
        return e != null && e.seq() == seq ? e : null;
    }

    /** @return how many events the tail holds now (never more than its capacity) */
    int size() {
        return count;
    }

    /** Writer thread only: drops everything (the task went idle). */
    void clear() {
        ring = new AtomicReferenceArray<>(Math.min(INITIAL, capacity));
        count = 0;
    }
}
