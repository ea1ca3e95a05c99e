package dev.agenttasks.internal;

import dev.agenttasks.spi.TaskRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Claiming queued tasks from the store (docs/multi-host.md): this host takes at most as many unowned
 * {@code PENDING} tasks as it has free slots, oldest first, and starts them. It claims when a slot
 * frees while queued work may exist, after a create or a wake-up ({@link #claimSoon()}), and every
 * poll interval ({@link Hosts}). One claim runs at a time per host, so the free-slot count it
 * claims against is exact.
 */
final class Claims {
    private static final Logger log = LoggerFactory.getLogger(Claims.class);

    private final Engine engine;
    private final int limit;
    private final ReentrantLock lock = new ReentrantLock();
    /** Set when queued work may exist in the store; a claim that finds less than it asked for clears it. */
    private final AtomicBoolean maybeQueued = new AtomicBoolean(true);
    private final AtomicBoolean again = new AtomicBoolean();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** The claim thread; replaceable by interleaving tests (package-private seam), like the delivery executor. */
    ExecutorService async = Executors.newSingleThreadExecutor(EngineThreads.named("agent-tasks-claims-"));

    Claims(Engine engine, int limit) {
        this.engine = engine;
        this.limit = limit;
    }

    /** Queued work may exist (a create without a free slot, a wake-up, a released task). */
    void queued() {
        maybeQueued.set(true);
    }

    /** A local slot became free: claim if queued work may exist. */
    void slotFreed() {
        if (maybeQueued.get()) {
            claimNow();
        }
    }

    /** Claims soon on the claim thread (never blocks the caller). */
    void claimSoon() {
        maybeQueued.set(true);
        if (scheduled.compareAndSet(false, true)) {
            try {
                async.execute(() -> {
                    scheduled.set(false);
                    claimNow();
                });
            } catch (RejectedExecutionException e) {
                scheduled.set(false);
            }
        }
    }

    /**
     * Claims up to the free local slots now, on this thread, and starts what it got. A call that finds
     * another claim in progress leaves it a note ({@code again}) that the holder reads after it unlocks, so
     * no wake-up is lost: the note is set before the lock is tried, and the holder looks at it after it
     * lets go (a lost slot-freed signal left a queued task waiting for the next poll; found by Fray).
     */
    void claimNow() {
        again.set(true);
        while (again.get() && !engine.closed && lock.tryLock()) {
            try {
                again.set(false);
                claimOnce();
            } catch (RuntimeException e) {
                log.warn("host {}: claiming queued tasks failed; retrying at the next poll: {}", engine.hostId, e.toString());
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    private void claimOnce() {
        int free = limit - engine.turns.slots.running() - engine.turns.slots.queued();
        if (free <= 0 || engine.closed) {
            return;
        }
        List<TaskRecord> got = engine.store.claim(engine.hostId, free);
        if (got.size() < free) {
            maybeQueued.set(false);
        }
        List<TaskState> start = new ArrayList<>(got.size());
        for (TaskRecord r : got) {
            TaskState s = engine.ownership.adopt(r);
            if (engine.retries.restore(s)) {
                continue; // a retry another host scheduled: it runs at its stored time, here
            }
            synchronized (s) {
                if (s.turn != null || s.queued) {
                    continue;
                }
                s.queued = true;
            }
            start.add(s);
        }
        if (!got.isEmpty()) {
            log.debug("host {} claimed {} queued tasks", engine.hostId, got.size());
        }
        for (TaskState s : start) {
            engine.turns.requestSlot(s);
        }
    }

    /** Runs host work (request polls after a wake-up) on the claim thread. */
    void runAsync(Runnable r) {
        try {
            async.execute(() -> {
                try {
                    if (!engine.closed) {
                        r.run();
                    }
                } catch (RuntimeException e) {
                    log.warn("host {}: {}", engine.hostId, e.toString());
                }
            });
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    void close() {
        async.shutdownNow();
    }
}
