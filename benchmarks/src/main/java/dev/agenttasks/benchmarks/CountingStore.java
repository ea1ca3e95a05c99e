package dev.agenttasks.benchmarks;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskCursor;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/** A store that counts the event pages the engine reads from the store it wraps (for diagnosis). */
final class CountingStore implements TaskStore {
    private final TaskStore delegate;
    final AtomicLong pageReads = new AtomicLong();
    final AtomicLong eventsRead = new AtomicLong();
    /** Durations of {@link #write} calls in nanoseconds (the writer thread is the only caller). */
    final long[] writeNanos = new long[1 << 16];
    int writes;
    /** Store operations (row writes) written so far. */
    final AtomicLong opsWritten = new AtomicLong();

    CountingStore(TaskStore delegate) {
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
    public Optional<TaskRecord> task(String taskId) {
        return delegate.task(taskId);
    }

    @Override
    public List<TaskRecord> list(TaskQuery query, TaskCursor after, int limit) {
        return delegate.list(query, after, limit);
    }

    @Override
    public List<TaskRecord> findByStatus(Set<TaskStatus> statuses) {
        return delegate.findByStatus(statuses);
    }

    @Override
    public List<TaskEvent> events(String taskId, long afterSeq, int limit) {
        List<TaskEvent> page = delegate.events(taskId, afterSeq, limit);
        pageReads.incrementAndGet();
        eventsRead.addAndGet(page.size());
        return page;
    }

    @Override
    public List<PendingMessage> pendingMessages(String taskId) {
        return delegate.pendingMessages(taskId);
    }

    @Override
    public Map<TaskStatus, Long> countByStatus() {
        return delegate.countByStatus();
    }

    @Override
    public boolean delete(String taskId) {
        return delegate.delete(taskId);
    }

    @Override
    public void heartbeat(String hostId, java.time.Instant now) {
        delegate.heartbeat(hostId, now);
    }

    @Override
    public void removeHost(String hostId) {
        delegate.removeHost(hostId);
    }

    @Override
    public java.util.List<dev.agenttasks.spi.TaskRecord> orphans(java.time.Instant heartbeatBefore, int limit) {
        return delegate.orphans(heartbeatBefore, limit);
    }

    @Override
    public java.util.List<dev.agenttasks.spi.TaskRecord> claim(String hostId, int max) {
        return delegate.claim(hostId, max);
    }

    @Override
    public java.util.Optional<dev.agenttasks.spi.TaskRecord> takeOver(String taskId, String expectedOwner, long expectedEpoch, String newOwner) {
        return delegate.takeOver(taskId, expectedOwner, expectedEpoch, newOwner);
    }

    @Override
    public java.util.List<dev.agenttasks.spi.RemoteRequest> requests(String hostId, int limit) {
        return delegate.requests(hostId, limit);
    }

    @Override
    public java.util.Optional<dev.agenttasks.spi.IdempotencyKey> idempotencyKey(String key) {
        return delegate.idempotencyKey(key);
    }

    @Override
    public boolean addChangeListener(dev.agenttasks.spi.StoreChangeListener listener) {
        return delegate.addChangeListener(listener);
    }

    @Override
    public void removeChangeListener(dev.agenttasks.spi.StoreChangeListener listener) {
        delegate.removeChangeListener(listener);
    }

    @Override
    public int purgeTerminal(Instant completedBefore, int limit) {
        return delegate.purgeTerminal(completedBefore, limit);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
