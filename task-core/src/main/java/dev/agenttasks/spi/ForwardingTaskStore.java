package dev.agenttasks.spi;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A {@link TaskStore} that passes every call to another one: extend it to decorate a store (metrics, fault
 * injection in tests, logging) and override only the calls that do something more. The store it wraps must
 * itself pass the contract suites; a decorator that changes no result keeps passing them.
 */
public abstract class ForwardingTaskStore implements TaskStore {
    private final TaskStore delegate;

    /**
     * @param delegate the store every call goes to
     */
    protected ForwardingTaskStore(TaskStore delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** @return the store every call goes to */
    protected TaskStore delegate() {
        return delegate;
    }

    @Override
    public void write(List<StoreOp> ops) {
        delegate.write(ops);
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
        return delegate.events(taskId, afterSeq, limit);
    }

    @Override
    public Map<String, Long> lastSeqs(Collection<String> taskIds) {
        return delegate.lastSeqs(taskIds);
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
    public int purgeTerminal(Instant completedBefore, int limit) {
        return delegate.purgeTerminal(completedBefore, limit);
    }

    @Override
    public void heartbeat(String hostId, Instant now) {
        delegate.heartbeat(hostId, now);
    }

    @Override
    public void removeHost(String hostId) {
        delegate.removeHost(hostId);
    }

    @Override
    public List<TaskRecord> orphans(Instant heartbeatBefore, int limit) {
        return delegate.orphans(heartbeatBefore, limit);
    }

    @Override
    public List<TaskRecord> claim(String hostId, int max) {
        return delegate.claim(hostId, max);
    }

    @Override
    public Optional<TaskRecord> takeOver(String taskId, String expectedOwner, long expectedEpoch, String newOwner) {
        return delegate.takeOver(taskId, expectedOwner, expectedEpoch, newOwner);
    }

    @Override
    public List<RemoteRequest> requests(String hostId, int limit) {
        return delegate.requests(hostId, limit);
    }

    @Override
    public Optional<IdempotencyKey> idempotencyKey(String key) {
        return delegate.idempotencyKey(key);
    }

    @Override
    public boolean addChangeListener(StoreChangeListener listener) {
        return delegate.addChangeListener(listener);
    }

    @Override
    public void removeChangeListener(StoreChangeListener listener) {
        delegate.removeChangeListener(listener);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
