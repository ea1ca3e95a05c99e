package dev.agenttasks.benchmarks;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.spi.ForwardingTaskStore;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskStore;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** A store that counts the event pages the engine reads from the store it wraps (for diagnosis). */
final class CountingStore extends ForwardingTaskStore {
    private final TaskStore delegate;
    final AtomicLong pageReads = new AtomicLong();
    final AtomicLong eventsRead = new AtomicLong();
    /** Durations of {@link #write} calls in nanoseconds (the writer thread is the only caller). */
    final long[] writeNanos = new long[1 << 16];
    int writes;
    /** Store operations (row writes) written so far. */
    final AtomicLong opsWritten = new AtomicLong();

    CountingStore(TaskStore delegate) {
        super(delegate);
        this.delegate = delegate;
    }

    @Override
    public void write(List<StoreOp> ops) {
        long start = System.nanoTime();
        delegate.write(ops);
        opsWritten.addAndGet(ops.size());
        long took = System.nanoTime() - start;
        synchronized (writeNanos) {
            if (writes < writeNanos.length) {
                writeNanos[writes++] = took;
            }
        }
    }

    /** @return sorted durations of the writes so far, in nanoseconds */
    long[] sortedWriteNanos() {
        synchronized (writeNanos) {
            long[] w = java.util.Arrays.copyOf(writeNanos, writes);
            java.util.Arrays.sort(w);
            return w;
        }
    }

    @Override
    public List<TaskEvent> events(String taskId, long afterSeq, int limit) {
        List<TaskEvent> page = delegate.events(taskId, afterSeq, limit);
        pageReads.incrementAndGet();
        eventsRead.addAndGet(page.size());
        return page;
    }

}
