package dev.agenttasks.internal;

import dev.agenttasks.TaskEvent;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The bounded in-memory tail of a task's committed events, bounded twice: at most {@code capacity}
 * events and at most {@code maxBytes} of their encoded size ({@link Events#size}); the oldest events go
 * first, the newest always stays. Only the store writer thread changes it ({@link #add} in seq order,
 * {@link #clear}); any thread may read. The ring grows by doubling up to its capacity, so an idle task
 * costs a few slots, not the whole bound. A reader that finds a slot overwritten, evicted or cleared
 * falls back to the store.
 */
final class EventTail {
    private static final int INITIAL = 8;
    private final int capacity;
    private final long maxBytes;
    private volatile AtomicReferenceArray<TaskEvent> ring;
    private volatile int count;
    // writer thread only
    private int[] sizes;
    private long bytes;
    private long oldest = -1;

    EventTail(int capacity, long maxBytes) {
        this.capacity = capacity;
        this.maxBytes = maxBytes;
        this.ring = new AtomicReferenceArray<>(Math.min(INITIAL, capacity));
        this.sizes = new int[ring.length()];
    }

    /** Writer thread only, in seq order; {@code size} is the event's {@link Events#size}. */
    void add(TaskEvent e, int size) {
        AtomicReferenceArray<TaskEvent> r = ring;
        if (count >= r.length() && r.length() < capacity) {
            AtomicReferenceArray<TaskEvent> bigger = new AtomicReferenceArray<>(Math.min(capacity, r.length() * 2));
            int[] biggerSizes = new int[bigger.length()];
            for (int i = 0; i < r.length(); i++) {
                TaskEvent old = r.get(i);
                if (old != null) {
                    int j = (int) (old.seq() % bigger.length());
                    bigger.set(j, old);
                    biggerSizes[j] = sizes[i];
                }
            }
            r = bigger;
            sizes = biggerSizes;
            ring = r;
        }
        int i = (int) (e.seq() % r.length());
        TaskEvent old = r.get(i);
        if (old != null) { // the ring is full: the oldest event makes room
            bytes -= sizes[i];
            count--;
            if (old.seq() >= oldest) {
                oldest = old.seq() + 1;
            }
        }
        r.set(i, e);
        sizes[i] = size;
        bytes += size;
        count++;
        if (oldest < 0 || count == 1) {
            oldest = e.seq();
        }
        while (bytes > maxBytes && oldest < e.seq()) { // over the byte budget: drop the oldest
            int j = (int) (oldest % r.length());
            TaskEvent o = r.get(j);
            if (o != null && o.seq() == oldest) {
                r.set(j, null);
                bytes -= sizes[j];
                sizes[j] = 0;
                count--;
            }
            oldest++;
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

    /** Writer thread only: the encoded size of the events the tail holds (at most its byte budget, or one event). */
    long bytes() {
        return bytes;
    }

    /** Writer thread only: drops everything (the task went idle). */
    void clear() {
        ring = new AtomicReferenceArray<>(Math.min(INITIAL, capacity));
        sizes = new int[ring.length()];
        bytes = 0;
        oldest = -1;
        count = 0;
    }
}
