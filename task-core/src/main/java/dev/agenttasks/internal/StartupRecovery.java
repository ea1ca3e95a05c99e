package dev.agenttasks.internal;

import dev.agenttasks.RecoveryPolicy;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Recovery when a manager starts. Tasks left {@code PENDING} had no turn running: they are queued
 * again whatever the policy, so a clean close loses no queued work. Tasks left {@code RUNNING} were
 * interrupted: the {@link RecoveryPolicy} fails them ({@value RecoveryPolicy#INTERRUPTED}) or resumes
 * them. Only this host's own tasks (a restart with a stable host id) and legacy {@code RUNNING} rows
 * without an owner are recovered here; tasks queued without an owner are claimed like any
 * ({@link Claims}), and other hosts' tasks are taken over only once their heartbeat stops
 * ({@link Hosts}), never while they live.
 */
final class StartupRecovery implements TaskRecovery {
    private static final Logger log = LoggerFactory.getLogger(StartupRecovery.class);
    private static final int WRITE_BATCH = 1000;

    private final TaskStore store;
    private final RecoveryPolicy policy;
    private final Clock clock;
    private final String hostId;
    private final Function<TaskRecord, TaskState> load;
    private final Consumer<Consumer<TaskListener>> notify;

    StartupRecovery(TaskStore store, RecoveryPolicy policy, Clock clock, String hostId,
                    Function<TaskRecord, TaskState> load, Consumer<Consumer<TaskListener>> notify) {
        this.store = store;
        this.policy = policy;
        this.clock = clock;
        this.hostId = hostId;
        this.load = load;
        this.notify = notify;
    }

    @Override
    public List<TaskState> recover() {
        List<TaskRecord> stale = store.findByStatus(EnumSet.of(TaskStatus.PENDING, TaskStatus.RUNNING));
        Instant now = clock.instant();
        List<TaskState> toStart = new ArrayList<>();
        List<StoreOp> ops = new ArrayList<>();
        int failed = 0;
        int requeued = 0;
        for (TaskRecord stored : stale) {
            boolean mine = hostId.equals(stored.owner());
            boolean legacy = stored.owner() == null && stored.task().status() == TaskStatus.RUNNING;
            if (!mine && !legacy) {
                continue; // queued for any host to claim, or another host's (its takeover is by heartbeat)
            }
            // a compare-and-set first: a host starting at the same time never recovers the task twice
            TaskRecord r = store.takeOver(stored.id(), stored.owner(), stored.epoch(), hostId).orElse(null);
            if (r == null) {
                continue;
            }
            if (r.task().status() == TaskStatus.PENDING) {
                toStart.add(load.apply(r)); // claimed, no turn was running (issue 7, defects 6 and 7)
                requeued++;
                continue;
            }
            RecoveryPolicy.Action action;
            try {
                action = policy.decide(r.task());
            } catch (RuntimeException e) {
                log.warn("recovery policy threw for task {}; failing it", r.id(), e);
                action = RecoveryPolicy.Action.FAIL;
            }
            RecoveryPolicy.Action decided = action;
            notify.accept(l -> l.taskRecovered(r.task(), decided));
            if (action == RecoveryPolicy.Action.RESUME) {
                TaskState s = load.apply(r);
                s.resumeNext = true;
                toStart.add(s);
                log.info("task {} recovered: resuming its interrupted turn", r.id());
                continue;
            }
            ops.add(new StoreOp.Fence(r.id(), hostId, r.epoch()));
            ops.addAll(Lifecycle.move(r, r.lastSeq() + 1, 0, TaskStatus.FAILED, now, null, RecoveryPolicy.INTERRUPTED,
                    "error", RecoveryPolicy.INTERRUPTED).ops());
            failed++;
            log.info("task {} recovered: failed (running when the host stopped)", r.id());
            if (ops.size() >= WRITE_BATCH) {
                store.write(ops);
                ops = new ArrayList<>();
            }
        }
        if (!ops.isEmpty()) {
            store.write(ops);
        }
        if (failed > 0 || !toStart.isEmpty()) {
            log.info("recovery: {} interrupted tasks failed, {} resumed, {} queued again", failed,
                    toStart.size() - requeued, requeued);
        }
        toStart.sort(Comparator.comparing(s -> s.task().createdAt()));
        return toStart;
    }
}
