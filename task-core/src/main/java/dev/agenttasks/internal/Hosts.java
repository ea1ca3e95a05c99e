package dev.agenttasks.internal;

import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.RecoveryPolicy;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.RemoteRequest;
import dev.agenttasks.spi.StoreChangeListener;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * This host among the hosts sharing the store (docs/multi-host.md): its heartbeat, the takeover of
 * dead hosts' tasks through the {@link RecoveryPolicy}, the requests other hosts leave for its tasks
 * (cancel, delete, message), and the periodic claim and remote-event polls. Time-driven work runs on
 * the engine's (injectable) scheduler; store wake-ups only make it sooner.
 */
final class Hosts implements StoreChangeListener {
    private static final Logger log = LoggerFactory.getLogger(Hosts.class);
    private static final int SWEEP_LIMIT = 200;
    private static final int REQUEST_LIMIT = 200;

    private final Engine engine;
    private final Engine.Hosting settings;
    private final List<ScheduledFuture<?>> timers = new ArrayList<>();
    private volatile boolean pushed;
    private volatile boolean stopped;

    Hosts(Engine engine, Engine.Hosting settings) {
        this.engine = engine;
        this.settings = settings;
    }

    /** Records the first heartbeat (before recovery, so no host takes this one for dead). */
    void register() {
        engine.store.heartbeat(engine.hostId, engine.clock.instant());
    }

    /** Starts the periodic work and listens for wake-ups. */
    void start() {
        pushed = engine.store.addChangeListener(this);
        schedule(this::beat, settings.heartbeatInterval().toNanos());
        schedule(this::poll, settings.pollInterval().toNanos());
        schedule(engine.remoteEvents::tick, settings.eventPollInterval().toNanos());
        sweep(); // tasks of hosts that died while none was watching
        engine.claims.claimSoon();
    }

    /** Runs work every period on the engine's scheduler, as a chain of one-shot timers (a test's manual scheduler runs them). */
    private void schedule(Runnable r, long periodNanos) {
        if (engine.closed || stopped) {
            return;
        }
        try {
            ScheduledFuture<?> f = engine.timer.schedule(() -> {
                try {
                    if (!engine.closed && !stopped) {
                        r.run();
                    }
                } catch (RuntimeException e) {
                    log.warn("host {}: periodic work failed: {}", engine.hostId, e.toString());
                } finally {
                    schedule(r, periodNanos);
                }
            }, periodNanos, TimeUnit.NANOSECONDS);
            synchronized (timers) {
                timers.removeIf(ScheduledFuture::isDone);
                timers.add(f);
            }
        } catch (RejectedExecutionException e) {
            log.debug("host {}: the scheduler rejected periodic work (closing)", engine.hostId);
        }
    }

    /** @return true if the store pushes wake-ups */
    boolean pushed() {
        return pushed;
    }

    void beat() {
        engine.store.heartbeat(engine.hostId, engine.clock.instant());
        sweep();
    }

    void poll() {
        engine.claims.claimNow();
        pollRequests();
    }

    /** Takes over the tasks of hosts not heard of for the dead-host timeout. */
    void sweep() {
        Instant now = engine.clock.instant();
        List<TaskRecord> orphans = engine.store.orphans(now.minus(settings.hostDeadAfter()), SWEEP_LIMIT);
        for (TaskRecord r : orphans) {
            if (engine.closed) {
                return;
            }
            try {
                takeOver(r, now);
            } catch (RuntimeException e) {
                log.warn("task {}: takeover from host {} failed: {}", r.id(), r.owner(), e.toString());
            }
        }
    }

    private void takeOver(TaskRecord r, Instant now) {
        if (engine.hostId.equals(r.owner())) {
            return; // this host's own (it heartbeats); nothing to take
        }
        // taken to this host first, then judged on the fresh row: a task read as PENDING may have started
        // since, and releasing a RUNNING task would leave it running with no owner
        Optional<TaskRecord> taken = engine.store.takeOver(r.id(), r.owner(), r.epoch(), engine.hostId);
        if (taken.isEmpty()) {
            return; // another host was quicker, or the owner moved on
        }
        TaskRecord t = taken.get();
        if (t.task().status() == TaskStatus.PENDING) {
            if (engine.store.takeOver(t.id(), engine.hostId, t.epoch(), null).isPresent()) {
                log.info("task {}: released from dead host {} to the queue", t.id(), r.owner());
                engine.claims.claimSoon();
            }
            return;
        }
        RecoveryPolicy.Action action;
        try {
            action = engine.config.recoveryPolicy().decide(t.task());
        } catch (RuntimeException e) {
            log.warn("recovery policy threw for task {}; failing it", t.id(), e);
            action = RecoveryPolicy.Action.FAIL;
        }
        RecoveryPolicy.Action decided = action;
        engine.notify(l -> l.taskRecovered(t.task(), decided));
        if (action == RecoveryPolicy.Action.RESUME) {
            TaskState s = engine.ownership.adopt(t);
            synchronized (s) {
                s.resumeNext = true;
                s.queued = true;
            }
            log.info("task {}: taken over from dead host {}; resuming its interrupted turn", t.id(), r.owner());
            engine.turns.requestSlot(s);
            return;
        }
        List<StoreOp> ops = new ArrayList<>();
        ops.add(new StoreOp.Fence(t.id(), engine.hostId, t.epoch()));
        ops.addAll(Lifecycle.move(t, t.lastSeq() + 1, 0, TaskStatus.FAILED, now, null, RecoveryPolicy.INTERRUPTED,
                "error", RecoveryPolicy.INTERRUPTED).ops());
        engine.store.write(ops);
        log.info("task {}: taken over from dead host {}; failed (interrupted)", t.id(), r.owner());
    }

    /** Acts on the requests other hosts left for this host's tasks, then removes them. */
    void pollRequests() {
        List<RemoteRequest> requests = engine.store.requests(engine.hostId, REQUEST_LIMIT);
        Set<String> reloaded = new HashSet<>();
        for (RemoteRequest q : requests) {
            if (engine.closed) {
                return;
            }
            try {
                switch (q.kind()) {
                    case CANCEL:
                        engine.cancel(q.taskId());
                        break;
                    case DELETE:
                        engine.delete(q.taskId());
                        break;
                    case INTERRUPT:
                        reloaded.add(q.taskId());
                        interrupt(q.taskId(), q.requestId());
                        break;
                    default:
                        if (reloaded.add(q.taskId())) {
                            reloadMessages(q.taskId());
                        }
                }
            } catch (NoSuchTaskException e) {
                // gone meanwhile
            } catch (RuntimeException e) {
                log.warn("task {}: {} request failed: {}", q.taskId(), q.kind(), e.toString());
            }
            try {
                engine.store.write(List.of(new StoreOp.RemoveRequest(q.taskId(), q.requestId())));
            } catch (RuntimeException e) {
                log.debug("task {}: removing request {} failed: {}", q.taskId(), q.requestId(), e.toString());
            }
        }
    }

    /**
     * Another host stored a message with {@code INTERRUPT} (its id is the request's): stop the running turn
     * so that it runs next, as a local {@code INTERRUPT} does.
     */
    private void interrupt(String taskId, String messageId) {
        TaskState s = engine.ownership.local(taskId);
        if (s == null) {
            return;
        }
        MessageStrategies.Interrupt cut;
        synchronized (s) {
            pullMessages(s);
            cut = engine.strategies.remoteLocked(s, messageId);
        }
        if (cut != null) {
            engine.strategies.stop(cut);
            engine.turns.requestSlot(s);
        }
    }

    /** Another host stored a message for a task this host holds: add it to the task's inbox. */
    private void reloadMessages(String taskId) {
        TaskState s = engine.ownership.local(taskId);
        if (s != null) {
            synchronized (s) {
                pullMessages(s);
            }
        }
    }

    /**
     * Adds the task's stored messages this host does not know yet to its inbox (another host stored
     * them); messages already handed to turns are skipped. Caller holds the task's lock.
     */
    void pullMessages(TaskState s) {
        List<PendingMessage> stored;
        try {
            stored = engine.store.pendingMessages(s.id);
        } catch (RuntimeException e) {
            log.debug("task {}: reading its messages failed: {}", s.id, e.toString());
            return;
        }
        if (stored.isEmpty()) {
            return;
        }
        Set<String> known = new HashSet<>(s.consumed);
        s.inbox.forEach(m -> known.add(m.messageId()));
        for (PendingMessage m : stored) {
            if (known.add(m.messageId())) {
                s.inbox.add(m);
            }
        }
    }

    @Override
    public void taskQueued(String taskId) {
        engine.claims.claimSoon();
    }

    @Override
    public void requestAdded(String taskId) {
        if (engine.ownership.local(taskId) != null) {
            engine.claims.runAsync(this::pollRequests);
        }
    }

    @Override
    public void eventsAppended(String taskId) {
        engine.remoteEvents.wake(taskId);
    }

    void stop() {
        stopped = true;
        engine.store.removeChangeListener(this);
        synchronized (timers) {
            for (ScheduledFuture<?> f : timers) {
                f.cancel(false);
            }
        }
    }
}
