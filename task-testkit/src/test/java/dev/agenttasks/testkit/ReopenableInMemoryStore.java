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

/**
 * A handle on a shared in-memory store: closing the handle does not lose the data, so a test can
 * "restart" by opening a new handle on it, as a durable store would be reopened.
 */
final class ReopenableInMemoryStore implements TaskStore {
    private final TaskStore data;
    private volatile boolean closed;

    ReopenableInMemoryStore(TaskStore data) {
        this.data = data;
    }

    /** @return a new open handle on the same data */
    ReopenableInMemoryStore reopen() {
        return new ReopenableInMemoryStore(data);
    }

    /** @return the shared data store, for direct inspection */
    TaskStore data() {
        return data;
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
