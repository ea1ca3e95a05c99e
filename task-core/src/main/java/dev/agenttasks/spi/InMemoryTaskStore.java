package dev.agenttasks.spi;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The in-memory {@link TaskStore} behind {@link TaskStore#inMemory()}: a map of tasks guarded by one
 * lock. A batch is checked in full against staged changes and applied only when every op is valid, so
 * it is atomic; events are appended, never copied with the task's log.
 */
final class InMemoryTaskStore implements TaskStore {

    /** Newest first: createdAt descending, then id descending. */
    static final Comparator<TaskRecord> NEWEST_FIRST = Comparator
            .comparing((TaskRecord r) -> r.task().createdAt()).thenComparing(TaskRecord::id).reversed();

    private static final class Entry {
        TaskRecord record;
        final ArrayList<TaskEvent> events; // index i holds seq i+1
        ArrayList<PendingMessage> messages;
        /** Requests with their global order number. */
        ArrayList<Map.Entry<Long, RemoteRequest>> requests = new ArrayList<>(0);
        /** Idempotency keys of the task, deleted with it. */
        ArrayList<String> keys = new ArrayList<>(0);

        Entry(TaskRecord record, ArrayList<TaskEvent> events, ArrayList<PendingMessage> messages) {
            this.record = record;
            this.events = events;
            this.messages = messages;
        }
    }

    /**
     * A task's changes within one write, applied only when every op of the write is valid. Events are
     * appended to the task's list then, not copied with it: a long task costs O(batch) per write.
     */
    private static final class Staged {
        final Entry target; // null for a task inserted by this write
        TaskRecord record;
        long eventCount;
        final ArrayList<TaskEvent> newEvents = new ArrayList<>();
        ArrayList<PendingMessage> messages; // a copy, made on first change (messages are few)
        ArrayList<Map.Entry<Long, RemoteRequest>> requests; // a copy, made on first change
        final ArrayList<IdempotencyKey> newKeys = new ArrayList<>(0);

        Staged(Entry target, TaskRecord record, long eventCount) {
            this.target = target;
            this.record = record;
            this.eventCount = eventCount;
        }

        ArrayList<PendingMessage> messages() {
            if (messages == null) {
                messages = target == null ? new ArrayList<>() : new ArrayList<>(target.messages);
            }
            return messages;
        }

        List<PendingMessage> currentMessages() {
            return messages != null ? messages : target == null ? List.of() : target.messages;
        }

        ArrayList<Map.Entry<Long, RemoteRequest>> requests() {
            if (requests == null) {
                requests = target == null ? new ArrayList<>() : new ArrayList<>(target.requests);
            }
            return requests;
        }
    }

    private final Object lock = new Object();
    private final Map<String, Entry> tasks = new HashMap<>();
    private final Map<String, IdempotencyKey> keys = new HashMap<>();
    private final Map<String, Instant> hosts = new HashMap<>();
    private final CopyOnWriteArrayList<StoreChangeListener> listeners = new CopyOnWriteArrayList<>();
    private long requestOrder;
    private boolean closed;

    @Override
    public void write(List<StoreOp> ops) {
        synchronized (lock) {
            writeLocked(ops);
        }
        if (!listeners.isEmpty()) {
            InMemoryChanges.notify(listeners, ops);
        }
    }

    private void writeLocked(List<StoreOp> ops) {
        {
            checkOpen();
            Map<String, Staged> staged = new HashMap<>();
            Map<String, IdempotencyKey> stagedKeys = new HashMap<>(0);
            long order = requestOrder;
            for (StoreOp op : ops) {
                String id = op.taskId();
                if (op instanceof StoreOp.RemoveRequest && !tasks.containsKey(id) && !staged.containsKey(id)) {
                    continue; // the task is gone, and its requests with it
                }
                if (op instanceof StoreOp.InsertTask) {
                    TaskRecord r = ((StoreOp.InsertTask) op).record();
                    if (tasks.containsKey(id) || staged.containsKey(id)) {
                        throw new StoreConflictException(id, "task already exists: " + id);
                    }
                    staged.put(id, new Staged(null, r.withLastSeq(0), 0));
                    continue;
                }
                Staged e = staged.get(id);
                if (e == null) {
                    Entry current = tasks.get(id);
                    if (current == null) {
                        throw new StoreConflictException(id, "no such task: " + id);
                    }
                    e = new Staged(current, current.record, current.events.size());
                    staged.put(id, e);
                }
                if (op instanceof StoreOp.UpdateTask) {
                    StoreOp.UpdateTask u = (StoreOp.UpdateTask) op;
                    if (e.record.task().status() != u.expected()) {
                        throw new StoreConflictException(id, "task " + id + " is " + e.record.task().status()
                                + ", expected " + u.expected());
                    }
                    Task old = e.record.task();
                    Task t = u.record().task();
                    Task merged = new Task(old.id(), old.agentId(), t.sessionId(), t.status(), old.title(), old.model(),
                            old.createdAt(), t.startedAt(), t.completedAt(), t.error(), old.workDir(), old.metadata());
                    e.record = new TaskRecord(merged, e.record.options(), e.record.timeoutMillis(),
                            u.record().owner(), u.record().leaseUntil(), e.record.lastSeq(), e.record.epoch());
                } else if (op instanceof StoreOp.AppendEvent) {
                    TaskEvent ev = ((StoreOp.AppendEvent) op).event();
                    long expected = e.eventCount + 1L;
                    if (ev.seq() != expected) {
                        throw new StoreConflictException(id, "event seq " + ev.seq() + " of task " + id
                                + " does not follow " + (expected - 1));
                    }
                    e.newEvents.add(ev);
                    e.eventCount++;
                    e.record = e.record.withLastSeq(ev.seq());
                } else if (op instanceof StoreOp.AddMessage) {
                    e.messages().add(((StoreOp.AddMessage) op).message());
                } else if (op instanceof StoreOp.RemoveMessage) {
                    String mid = ((StoreOp.RemoveMessage) op).messageId();
                    e.messages().removeIf(m -> m.messageId().equals(mid));
                } else if (op instanceof StoreOp.Fence) {
                    StoreOp.Fence f = (StoreOp.Fence) op;
                    if (!Objects.equals(e.record.owner(), f.owner()) || e.record.epoch() != f.epoch()) {
                        throw new StoreConflictException(id, "task " + id + " is held by " + e.record.owner() + " epoch "
                                + e.record.epoch() + ", not by " + f.owner() + " epoch " + f.epoch());
                    }
                    if (f.noPendingMessages() && !e.currentMessages().isEmpty()) {
                        throw new StoreConflictException(id, "task " + id + " has pending messages");
                    }
                } else if (op instanceof StoreOp.AddRequest) {
                    e.requests().add(Map.entry(++order, ((StoreOp.AddRequest) op).request()));
                } else if (op instanceof StoreOp.RemoveRequest) {
                    String rid = ((StoreOp.RemoveRequest) op).requestId();
                    e.requests().removeIf(r -> r.getValue().requestId().equals(rid));
                } else if (op instanceof StoreOp.PutKey) {
                    IdempotencyKey k = ((StoreOp.PutKey) op).key();
                    if (keys.containsKey(k.key()) || stagedKeys.containsKey(k.key())) {
                        throw new DuplicateKeyException(id, k.key());
                    }
                    stagedKeys.put(k.key(), k);
                    e.newKeys.add(k);
                }
            }
            for (Map.Entry<String, Staged> change : staged.entrySet()) { // all valid: apply
                Staged c = change.getValue();
                Entry target = c.target;
                if (target == null) {
                    target = new Entry(c.record, new ArrayList<>(), new ArrayList<>());
                    tasks.put(change.getKey(), target);
                }
                target.record = c.record;
                target.events.addAll(c.newEvents);
                if (c.messages != null) {
                    target.messages = c.messages;
                }
                if (c.requests != null) {
                    target.requests = c.requests;
                }
                for (IdempotencyKey k : c.newKeys) {
                    keys.put(k.key(), k);
                    target.keys.add(k.key());
                }
            }
            requestOrder = order;
        }
    }

    @Override
    public Optional<TaskRecord> task(String taskId) {
        synchronized (lock) {
            checkOpen();
            Entry e = tasks.get(taskId);
            return e == null ? Optional.empty() : Optional.of(e.record);
        }
    }

    /** {@inheritDoc} Under the store's lock, so one consistent view of all the tasks. */
    @Override
    public Map<String, Long> lastSeqs(Collection<String> taskIds) {
        Map<String, Long> out = new HashMap<>();
        synchronized (lock) {
            checkOpen();
            for (String id : taskIds) {
                Entry e = tasks.get(id);
                if (e != null) {
                    out.put(id, e.record.lastSeq());
                }
            }
        }
        return out;
    }

    @Override
    public List<TaskRecord> list(TaskQuery query, TaskCursor after, int limit) {
        String needle = query.titleContains() == null ? null : query.titleContains().toLowerCase(Locale.ROOT);
        List<TaskRecord> out = new ArrayList<>();
        synchronized (lock) {
            checkOpen();
            for (Entry e : tasks.values()) {
                Task t = e.record.task();
                if (!query.statuses().isEmpty() && !query.statuses().contains(t.status())) {
                    continue;
                }
                if (query.agentId() != null && !query.agentId().equals(t.agentId())) {
                    continue;
                }
                if (needle != null && !t.title().toLowerCase(Locale.ROOT).contains(needle)) {
                    continue;
                }
                if (after != null) {
                    int c = t.createdAt().compareTo(after.createdAt());
                    if (c > 0 || (c == 0 && t.id().compareTo(after.id()) >= 0)) {
                        continue;
                    }
                }
                out.add(e.record);
            }
        }
        out.sort(NEWEST_FIRST);
        return out.size() > limit ? new ArrayList<>(out.subList(0, limit)) : out;
    }

    @Override
    public List<TaskRecord> findByStatus(Set<TaskStatus> statuses) {
        List<TaskRecord> out = new ArrayList<>();
        synchronized (lock) {
            checkOpen();
            for (Entry e : tasks.values()) {
                if (statuses.contains(e.record.task().status())) {
                    out.add(e.record);
                }
            }
        }
        out.sort(NEWEST_FIRST.reversed());
        return out;
    }

    @Override
    public List<TaskEvent> events(String taskId, long afterSeq, int limit) {
        synchronized (lock) {
            checkOpen();
            Entry e = tasks.get(taskId);
            if (e == null || afterSeq >= e.events.size()) {
                return List.of();
            }
            int from = (int) Math.max(0, afterSeq);
            int to = (int) Math.min(e.events.size(), (long) from + limit);
            return List.copyOf(e.events.subList(from, to));
        }
    }

    @Override
    public List<PendingMessage> pendingMessages(String taskId) {
        synchronized (lock) {
            checkOpen();
            Entry e = tasks.get(taskId);
            return e == null ? List.of() : List.copyOf(e.messages);
        }
    }

    @Override
    public Map<TaskStatus, Long> countByStatus() {
        Map<TaskStatus, Long> counts = new EnumMap<>(TaskStatus.class);
        synchronized (lock) {
            checkOpen();
            for (Entry e : tasks.values()) {
                counts.merge(e.record.task().status(), 1L, Long::sum);
            }
        }
        return counts;
    }

    @Override
    public boolean delete(String taskId) {
        synchronized (lock) {
            checkOpen();
            return removeTask(taskId);
        }
    }

    @Override
    public int purgeTerminal(Instant completedBefore, int limit) {
        synchronized (lock) {
            checkOpen();
            TreeMap<Instant, List<String>> old = new TreeMap<>();
            for (Entry e : tasks.values()) {
                Task t = e.record.task();
                if (t.status().isTerminal() && t.completedAt() != null && t.completedAt().isBefore(completedBefore)) {
                    old.computeIfAbsent(t.completedAt(), k -> new ArrayList<>()).add(t.id());
                }
            }
            int n = 0;
            for (List<String> ids : old.values()) {
                for (String id : ids) {
                    if (n >= limit) {
                        return n;
                    }
                    removeTask(id);
                    n++;
                }
            }
            return n;
        }
    }

    private boolean removeTask(String taskId) {
        Entry e = tasks.remove(taskId);
        if (e == null) {
            return false;
        }
        for (String k : e.keys) {
            keys.remove(k);
        }
        return true;
    }

    // ------------------------------------------------------------------ several hosts

    @Override
    public void heartbeat(String hostId, Instant now) {
        Objects.requireNonNull(hostId, "hostId");
        Objects.requireNonNull(now, "now");
        synchronized (lock) {
            checkOpen();
            hosts.put(hostId, now);
        }
    }

    @Override
    public void removeHost(String hostId) {
        synchronized (lock) {
            checkOpen();
            hosts.remove(hostId);
        }
    }

    @Override
    public List<TaskRecord> orphans(Instant heartbeatBefore, int limit) {
        List<TaskRecord> out = new ArrayList<>();
        synchronized (lock) {
            checkOpen();
            for (Entry e : tasks.values()) {
                TaskRecord r = e.record;
                TaskStatus st = r.task().status();
                if ((st == TaskStatus.PENDING || st == TaskStatus.RUNNING) && r.owner() != null) {
                    Instant seen = hosts.get(r.owner());
                    if (seen == null || seen.isBefore(heartbeatBefore)) {
                        out.add(r);
                    }
                }
            }
        }
        out.sort(NEWEST_FIRST.reversed());
        return out.size() > limit ? new ArrayList<>(out.subList(0, limit)) : out;
    }

    @Override
    public List<TaskRecord> claim(String hostId, int max) {
        Objects.requireNonNull(hostId, "hostId");
        List<TaskRecord> claimed = new ArrayList<>();
        synchronized (lock) {
            checkOpen();
            List<Entry> queued = new ArrayList<>();
            for (Entry e : tasks.values()) {
                if (e.record.task().status() == TaskStatus.PENDING && e.record.owner() == null) {
                    queued.add(e);
                }
            }
            queued.sort((a, b) -> NEWEST_FIRST.compare(b.record, a.record));
            for (int i = 0; i < queued.size() && i < max; i++) {
                Entry e = queued.get(i);
                e.record = e.record.withClaim(hostId, e.record.epoch() + 1);
                claimed.add(e.record);
            }
        }
        return claimed;
    }

    @Override
    public Optional<TaskRecord> takeOver(String taskId, String expectedOwner, long expectedEpoch, String newOwner) {
        TaskRecord after;
        synchronized (lock) {
            checkOpen();
            Entry e = tasks.get(taskId);
            if (e == null || !Objects.equals(e.record.owner(), expectedOwner) || e.record.epoch() != expectedEpoch) {
                return Optional.empty();
            }
            e.record = e.record.withClaim(newOwner, expectedEpoch + 1);
            after = e.record;
        }
        if (newOwner == null && after.task().status() == TaskStatus.PENDING) {
            listeners.forEach(l -> InMemoryChanges.call(() -> l.taskQueued(taskId)));
        }
        return Optional.of(after);
    }

    @Override
    public List<RemoteRequest> requests(String hostId, int limit) {
        List<Map.Entry<Long, RemoteRequest>> out = new ArrayList<>();
        synchronized (lock) {
            checkOpen();
            for (Entry e : tasks.values()) {
                if (hostId.equals(e.record.owner())) {
                    out.addAll(e.requests);
                }
            }
        }
        out.sort(Map.Entry.comparingByKey());
        List<RemoteRequest> requests = new ArrayList<>(Math.min(limit, out.size()));
        for (int i = 0; i < out.size() && i < limit; i++) {
            requests.add(out.get(i).getValue());
        }
        return requests;
    }

    @Override
    public Optional<IdempotencyKey> idempotencyKey(String key) {
        synchronized (lock) {
            checkOpen();
            return Optional.ofNullable(keys.get(key));
        }
    }

    @Override
    public boolean addChangeListener(StoreChangeListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        return true;
    }

    @Override
    public void removeChangeListener(StoreChangeListener listener) {
        listeners.remove(listener);
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new TaskStoreException("store is closed");
        }
    }
}
