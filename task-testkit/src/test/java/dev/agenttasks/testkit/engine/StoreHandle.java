package dev.agenttasks.testkit.engine;

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
 * A closable handle on a shared store: closing it leaves the data open for the next manager (a
 * "restart") and for the test's own inspection. It counts writes, so tests can check nothing was written.
 */
final class StoreHandle implements TaskStore {
    private final TaskStore data;
    private volatile boolean closed;
    final AtomicInteger writes = new AtomicInteger();

    StoreHandle(TaskStore data) {
        this.data = data;
    }

    boolean isClosed() {
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
    public int purgeTerminal(Instant completedBefore, int limit) {
        return open().purgeTerminal(completedBefore, limit);
    }

    @Override
    public void close() {
        closed = true;
    }
}
