package dev.agenttasks.testkit;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;
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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A closable handle on a shared store. A manager closes the store it was given; closing a handle
 * leaves the shared data open, so a test can "restart" by building a new manager on a new handle of
 * the same data (as a durable store would be reopened) and inspect the data directly. The handle
 * counts the batches written through it, so a test can check that a call wrote nothing.
 *
 * <pre>{@code
 * TaskStore data = TaskStore.inMemory();
 * TaskManager first = TaskManager.builder().store(new StoreHandle(data)).runner(runner).build();
 * first.close();                      // data stays open
 * TaskManager second = TaskManager.builder().store(new StoreHandle(data)).runner(runner).build();
 * }</pre>
 */
public final class StoreHandle implements TaskStore {
    private final TaskStore data;
    private final AtomicInteger writes = new AtomicInteger();
    private volatile boolean closed;

    /** @param data the shared store; never closed by this handle */
    public StoreHandle(TaskStore data) {
        this.data = java.util.Objects.requireNonNull(data, "data can not be null");
    }

    /** @return a new open handle on the same data */
    public StoreHandle reopen() {
        return new StoreHandle(data);
    }

    /** @return the shared store, for direct inspection */
    public TaskStore data() {
        return data;
    }

    /** @return how many batches were written through this handle */
    public int writes() {
        return writes.get();
    }

    /** @return true once this handle was closed */
    public boolean isClosed() {
        return closed;
    }

    private TaskStore open() {
        if (closed) {
            throw new TaskStoreException("store is closed");
        }
        return data;
    }

    @Override
    public void write(List<StoreOp> ops) {
        open().write(ops);
        writes.incrementAndGet();
    }

    @Override
    public Optional<TaskRecord> task(String taskId) {
        return open().task(taskId);
    }

    @Override
    public List<TaskRecord> list(TaskQuery query, TaskCursor after, int limit) {
        return open().list(query, after, limit);
    }

    @Override
    public List<TaskRecord> findByStatus(Set<TaskStatus> statuses) {
        return open().findByStatus(statuses);
    }

    @Override
    public List<TaskEvent> events(String taskId, long afterSeq, int limit) {
        return open().events(taskId, afterSeq, limit);
    }

    @Override
    public List<PendingMessage> pendingMessages(String taskId) {
        return open().pendingMessages(taskId);
    }

    @Override
    public Map<TaskStatus, Long> countByStatus() {
        return open().countByStatus();
    }

    @Override
    public boolean delete(String taskId) {
        return open().delete(taskId);
    }

    @Override
    public void heartbeat(String hostId, java.time.Instant now) {
        open().heartbeat(hostId, now);
    }

    @Override
    public void removeHost(String hostId) {
        open().removeHost(hostId);
    }

    @Override
    public java.util.List<dev.agenttasks.spi.TaskRecord> orphans(java.time.Instant heartbeatBefore, int limit) {
        return open().orphans(heartbeatBefore, limit);
    }

    @Override
    public java.util.List<dev.agenttasks.spi.TaskRecord> claim(String hostId, int max) {
        return open().claim(hostId, max);
    }

    @Override
    public java.util.Optional<dev.agenttasks.spi.TaskRecord> takeOver(String taskId, String expectedOwner, long expectedEpoch, String newOwner) {
        return open().takeOver(taskId, expectedOwner, expectedEpoch, newOwner);
    }

    @Override
    public java.util.List<dev.agenttasks.spi.RemoteRequest> requests(String hostId, int limit) {
        return open().requests(hostId, limit);
    }

    @Override
    public java.util.Optional<dev.agenttasks.spi.IdempotencyKey> idempotencyKey(String key) {
        return open().idempotencyKey(key);
    }

    @Override
    public boolean addChangeListener(dev.agenttasks.spi.StoreChangeListener listener) {
        return open().addChangeListener(listener);
    }

    @Override
    public void removeChangeListener(dev.agenttasks.spi.StoreChangeListener listener) {
        open().removeChangeListener(listener);
    }

    @Override
    public int purgeTerminal(Instant completedBefore, int limit) {
        return open().purgeTerminal(completedBefore, limit);
    }

    @Override
    public void close() {
        closed = true;
    }
}
