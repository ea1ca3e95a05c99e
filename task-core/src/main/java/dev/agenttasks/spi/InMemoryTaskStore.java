package dev.agenttasks.spi;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

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
    }

    private final Object lock = new Object();
    private final Map<String, Entry> tasks = new HashMap<>();
    private boolean closed;

    @Override
    public void write(List<StoreOp> ops) {
        synchronized (lock) {
            checkOpen();
            Map<String, Staged> staged = new HashMap<>();
            for (StoreOp op : ops) {
                String id = op.taskId();
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
                            u.record().owner(), u.record().leaseUntil(), e.record.lastSeq());
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
            }
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
            return tasks.remove(taskId) != null;
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
                    tasks.remove(id);
                    n++;
                }
            }
            return n;
        }
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
