package dev.agenttasks.internal;

import dev.agenttasks.TaskDeletedException;
import dev.agenttasks.spi.TaskRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Subscriptions to tasks this host does not hold read the store (docs/multi-host.md): their cursor
 * pages {@code events(id, afterSeq)}, which is gapless and in order by construction, and completes
 * after the terminal status event. This class wakes them: at once on a store wake-up where the store
 * pushes them, and every event-poll interval, where one {@code lastSeqs} query for all watched tasks
 * finds the tasks with new events; only their subscriptions that have not delivered that far are
 * signalled (and then read the store). A task missing from the answer was deleted elsewhere: its
 * subscriptions end with {@link TaskDeletedException}.
 *
 * <p>Why no event is missed. A poll reads {@code L}, the task's last stored seq, at some moment T;
 * every event committed before T has a seq ≤ L. For each subscription it then compares L with the
 * subscription's delivered seq, read <em>after</em> T:
 * <ul>
 *   <li>behind (delivered &lt; L): it is signalled after T, so it reads the store after T (a signal that
 *       lands while its run is in flight makes that run loop and read again), and gets every event up to
 *       L at least;</li>
 *   <li>not behind (delivered ≥ L): it already delivered every event committed before T.</li>
 * </ul>
 * An event committed after T has a seq above L and is seen by the next poll's {@code lastSeqs} (or
 * sooner by a push wake-up), which signals the subscription again. So each event committed before a poll
 * began reaches every subscription with demand by that poll's signal at the latest; nothing this class
 * keeps can go stale, because it keeps no seq of its own: each poll compares fresh values.
 */
final class RemoteEvents {
    private final Engine engine;
    private final Set<String> watched = ConcurrentHashMap.newKeySet();

    RemoteEvents(Engine engine) {
        this.engine = engine;
    }

    /** A subscription of the task reads the store from now on. */
    void watch(String taskId) {
        watched.add(taskId);
    }

    /** A wake-up: the task has new events. */
    void wake(String taskId) {
        if (watched.contains(taskId)) {
            engine.signal(taskId);
        }
    }

    /**
     * One poll: one store query for the watched tasks not held here; signals the subscriptions behind
     * their task's last stored seq; ends those of deleted tasks; drops tasks without subscriptions.
     */
    void tick() {
        List<String> remote = new ArrayList<>();
        for (String id : watched) {
            if (!engine.subscriptions.has(id)) {
                watched.remove(id);
                if (engine.subscriptions.has(id)) {
                    watched.add(id); // a subscription came meanwhile
                } else {
                    continue;
                }
            }
            if (engine.ownership.local(id) != null) {
                engine.signal(id); // held here again: its subscriptions move to the in-memory tail
            } else {
                remote.add(id);
            }
        }
        if (remote.isEmpty()) {
            return;
        }
        Map<String, Long> lastSeqs = engine.store.lastSeqs(remote);
        for (String id : remote) {
            Long last = lastSeqs.get(id);
            if (last == null) {
                TaskDeletedException gone = new TaskDeletedException(id);
                engine.subscriptions.forEach(id, sub -> sub.fail(gone));
                continue;
            }
            long seq = last;
            List<EventSubscription> ahead = new ArrayList<>(0);
            engine.subscriptions.forEach(id, sub -> {
                if (sub.behind(seq)) {
                    sub.signal();
                } else if (sub.aheadAt(seq)) {
                    ahead.add(sub);
                }
            });
            if (!ahead.isEmpty()) {
                endAhead(id, ahead);
            }
        }
    }

    /**
     * Subscriptions whose {@code afterSeq} was beyond the task's log (and that have delivered nothing since)
     * see no new event if the task ends at or before it: one status read per poll for such a task, a rare
     * case, tells them when it ended.
     */
    private void endAhead(String id, List<EventSubscription> ahead) {
        Optional<TaskRecord> r = engine.store.task(id);
        if (r.isEmpty()) {
            TaskDeletedException gone = new TaskDeletedException(id);
            ahead.forEach(sub -> sub.fail(gone));
        } else if (r.get().task().status().isTerminal()) {
            long lastSeq = r.get().lastSeq();
            ahead.forEach(sub -> sub.endedAt(lastSeq));
        }
    }
}
