package dev.agenttasks.internal;

import dev.agenttasks.ManagerClosedException;
import dev.agenttasks.TaskDeletedException;
import dev.agenttasks.TaskException;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.TransientStoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The group-commit writer: one thread takes every queued unit of writes (up to a batch size, or after
 * an optional linger) and commits them to the store in one transaction, then tells the engine, which
 * publishes the events. A unit is atomic: its ops never straddle two transactions.
 */
final class Writer implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(Writer.class);

    /**
     * A group of ops committed together, with an optional future and an action after commit. A unit
     * without a task state is a flush marker.
     */
    static final class Unit {
        final TaskState state;
        final int generation;
        final List<StoreOp> ops;
        final CompletableFuture<Void> done;
        final Runnable afterCommit;
        /** True if the unit holds a permit of the writer's capacity (runner emits do). */
        boolean permit;
        /** Byte permits of the writer's byte budget the unit holds, with {@code permit}. */
        int permitBytes;
        /** True for the final status of a task the engine gave up on: retried until it is recorded. */
        boolean finalStatus;
        /** Failed attempts of a final status so far. */
        int attempts;
        /** Set on the unit that ends a turn's task when no message may be pending ({@link Finishing}), else null. */
        Finishing.Guard guard;

        Unit(TaskState state, int generation, List<StoreOp> ops, CompletableFuture<Void> done, Runnable afterCommit) {
            this.state = state;
            this.generation = generation;
            this.ops = ops;
            this.done = done;
            this.afterCommit = afterCommit;
        }

        void fail(Throwable t) {
            if (done != null) {
                done.completeExceptionally(t);
            }
        }
    }

    /** Wakes the writer so it sees {@link #stop}; never committed. */
    private static final Unit WAKE = new Unit(null, 0, List.of(), null, null);

    private final Engine engine;
    private final TaskStore store;
    private final LinkedBlockingQueue<Unit> queue = new LinkedBlockingQueue<>();
    /** Bounds what runners can queue: an emitter takes a permit before it locks its task. */
    private final Semaphore capacity;
    /** Bounds the encoded size of what runners queue ({@link Events#size}); fair, so a large event is not starved. */
    private final Semaphore byteCapacity;
    private final int maxBytes;
    private final int maxBatch;
    private final long lingerNanos;
    private final long transientBudgetNanos;
    /** Makes the open check and the enqueue one step with respect to {@link #stop}. */
    private final Object gate = new Object();
    final Thread thread;
    private volatile boolean stopping;
    /** The backoff the writer waits for after a transient failure, or null; {@link #stop} ends it early. */
    private volatile CountDownLatch retryDue;
    /** The batch being committed, or null; {@link #stop} fails it if the writer hangs past the timeout. */
    private volatile List<Unit> inFlight;
    volatile long batches;

    Writer(Engine engine, TaskStore store, int capacity, long bytes, int maxBatch, long lingerNanos, long transientBudgetNanos) {
        this.engine = engine;
        this.transientBudgetNanos = transientBudgetNanos;
        this.store = store;
        this.capacity = new Semaphore(capacity);
        this.maxBytes = (int) Math.min(Integer.MAX_VALUE, bytes);
        this.byteCapacity = new Semaphore(maxBytes, true);
        this.maxBatch = maxBatch;
        this.lingerNanos = lingerNanos;
        this.thread = new Thread(this, "agent-tasks-writer");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    boolean isWriterThread() {
        return Thread.currentThread() == thread;
    }

    /**
     * Waits for room for one more unit of about {@code size} bytes (the store is behind): both the unit
     * count and the byte budget bound what is queued. Call it before taking the task's lock, then submit
     * a unit with {@code permit} and {@code permitBytes} set to the result, or {@link #release(int)} it
     * if nothing is submitted.
     *
     * @return the byte permits taken (the size, or the whole budget for an event larger than it)
     */
    int acquire(int size) {
        int n = Math.min(size, maxBytes);
        if (!capacity.tryAcquire()) {
            try {
                capacity.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TaskStoreException("interrupted while waiting for the store writer");
            }
        }
        if (byteCapacity.tryAcquire(n)) {
            return n; // no wait, so an interrupt flag (a cancelled turn) does not matter here
        }
        try {
            byteCapacity.acquire(n);
        } catch (InterruptedException e) {
            capacity.release();
            Thread.currentThread().interrupt();
            throw new TaskStoreException("interrupted while waiting for the store writer");
        }
        return n;
    }

    void release(int bytes) {
        capacity.release();
        byteCapacity.release(bytes);
    }

    /**
     * Queues a unit without blocking.
     *
     * @throws ManagerClosedException if the writer has stopped
     */
    void submit(Unit unit) {
        engine.hooks.beforeEnqueue();
        synchronized (gate) { // the writer cannot stop between the check and the enqueue (defect 5)
            if (!stopping) {
                queue.add(unit);
                return;
            }
        }
        if (unit.permit) {
            unit.permit = false;
            release(unit.permitBytes);
        }
        throw new ManagerClosedException();
    }

    /** Waits until everything queued before this call is committed (or has failed). */
    void flush() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        engine.hooks.beforeFlush();
        submit(new Unit(null, 0, List.of(), done, null));
        try {
            done.join();
        } catch (java.util.concurrent.CompletionException e) {
            log.debug("flush ended with a failure", e);
        }
    }

    private void done(List<Unit> units) {
        int n = 0;
        long bytes = 0;
        for (Unit u : units) {
            if (u.permit) {
                u.permit = false;
                n++;
                bytes += u.permitBytes;
            }
        }
        if (n > 0) {
            capacity.release(n);
            byteCapacity.release((int) bytes);
        }
    }

    /** Stops after committing everything queued; waits for that up to the timeout. */
    void stop(long timeoutMillis) {
        synchronized (gate) {
            stopping = true;
            queue.add(WAKE);
        }
        CountDownLatch due = retryDue;
        if (due != null) {
            due.countDown(); // a backoff waiting for a timer ends now; the retry goes on in real time
        }
        try {
            thread.join(Math.max(1, timeoutMillis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            log.warn("store writer did not finish within {} ms; {} units left", timeoutMillis, queue.size());
            List<Unit> hung = inFlight;
            if (hung != null) { // a store call still hanging: its callers get ManagerClosedException, not a wait without end
                ManagerClosedException closed = new ManagerClosedException();
                hung.forEach(u -> u.fail(closed));
            }
        }
        // whatever the writer did not take fails now, so no caller waits for it forever
        List<Unit> left = new ArrayList<>();
        queue.drainTo(left);
        if (!left.isEmpty()) {
            ManagerClosedException closed = new ManagerClosedException();
            left.forEach(u -> u.fail(closed));
            done(left);
        }
    }

    /**
     * Writes ops in one transaction, repeating it with backoff while the store reports a transient
     * failure and the budget lasts. The budget runs on the engine's clock and each backoff is a timer on
     * its scheduler: the writer thread waits for that timer (or for {@link #stop}), it never sleeps, so a
     * test drives the retries with a manual scheduler instead of waiting for them.
     */
    private void write(List<StoreOp> ops) {
        long deadline = engine.clock.millis() + TimeUnit.NANOSECONDS.toMillis(transientBudgetNanos);
        long started = System.nanoTime(); // closing, the budget also ends in real time (a test's clock may stand still)
        long backoffMillis = 5;
        int attempt = 0;
        while (true) {
            try {
                store.write(ops);
                if (attempt > 0) {
                    log.info("store write succeeded after {} transient failures", attempt);
                }
                return;
            } catch (TransientStoreException e) {
                attempt++;
                long left = deadline - engine.clock.millis();
                if (left <= 0 || stopping && System.nanoTime() - started > transientBudgetNanos) {
                    log.warn("store write still failing after {} attempts; the transient-error budget is spent", attempt);
                    throw e;
                }
                if (attempt == 1) {
                    log.warn("transient store failure, retrying the batch: {}", e.toString());
                }
                if (!awaitRetry(Math.min(backoffMillis, left))) {
                    throw e;
                }
                backoffMillis = Math.min(backoffMillis * 2, 1000);
            }
        }
    }

    /**
     * Waits until a timer on the engine's scheduler says the backoff is over. Once the writer is stopping
     * (the scheduler may no longer run timers), the backoff also ends after its length in real time.
     *
     * @return false if no retry should be made (interrupted, or the scheduler refused the timer)
     */
    private boolean awaitRetry(long delayMillis) {
        CountDownLatch due = new CountDownLatch(1);
        ScheduledFuture<?> timer;
        try {
            timer = engine.timer.schedule(due::countDown, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            return false;
        }
        retryDue = due;
        try {
            if (!stopping) {
                due.await(); // the timer, or stop(), counts it down
            }
            if (stopping && !timer.isDone()) {
                new CountDownLatch(1).await(delayMillis, TimeUnit.MILLISECONDS);
            }
            return true;
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            retryDue = null;
            timer.cancel(false);
        }
    }

    @Override
    public void run() {
        List<Unit> batch = new ArrayList<>();
        while (true) {
            if (stopping && queue.isEmpty()) {
                return; // nothing is queued after stopping is set (see submit)
            }
            Unit first;
            try {
                first = queue.take(); // stop() queues WAKE: no polling while idle
            } catch (InterruptedException e) {
                continue;
            }
            if (first == WAKE) {
                continue;
            }
            batch.add(first);
            int ops = first.ops.size();
            if (lingerNanos > 0) {
                long deadline = System.nanoTime() + lingerNanos;
                while (ops < maxBatch) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    Unit u;
                    try {
                        u = queue.poll(left, TimeUnit.NANOSECONDS);
                    } catch (InterruptedException e) {
                        break;
                    }
                    if (u == null) {
                        break;
                    }
                    if (u != WAKE) {
                        batch.add(u);
                        ops += u.ops.size();
                    }
                }
            }
            while (ops < maxBatch) {
                Unit u = queue.poll();
                if (u == null) {
                    break;
                }
                if (u != WAKE) {
                    batch.add(u);
                    ops += u.ops.size();
                }
            }
            inFlight = List.copyOf(batch);
            try {
                commit(batch);
            } catch (RuntimeException | Error e) {
                log.error("store writer failed unexpectedly", e);
                for (Unit u : batch) {
                    u.fail(e);
                }
            }
            inFlight = null;
            done(batch);
            batch.clear();
        }
    }

    private void commit(List<Unit> batch) {
        engine.hooks.beforeCommit();
        List<Unit> live = new ArrayList<>(batch.size());
        List<StoreOp> ops0 = new ArrayList<>();
        List<StoreOp> fences = new ArrayList<>();
        Set<TaskState> fenced = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Unit u : batch) {
            if (u.state != null && u.generation != u.state.writeGeneration) {
                u.fail(u.state.deleted ? new TaskDeletedException(u.state.id)
                        : u.state.detached // let go (its claim moved, or it was released): the caller starts over (Fenced)
                        ? new dev.agenttasks.spi.StoreConflictException(u.state.id, "task " + u.state.id
                                + " was let go by this host before its write")
                        : new TaskStoreException("write of task " + u.state.id + " dropped after an earlier store failure"));
                continue;
            }
            live.add(u);
            Fences.add(fences, ops0, fenced, u);
        }
        List<StoreOp> all = Fences.join(fences, ops0);
        if (live.isEmpty()) {
            return;
        }
        try {
            if (!all.isEmpty()) {
                write(all);
                batches++;
            }
            committed(live);
        } catch (RuntimeException e) {
            if (live.stream().map(u -> u.state).distinct().count() == 1 && live.get(0).state != null) {
                engine.commits.writeFailed(live.get(0).state, e, live);
                return;
            }
            Map<TaskState, List<Unit>> byTask = new LinkedHashMap<>();
            for (Unit u : live) {
                byTask.computeIfAbsent(u.state, k -> new ArrayList<>()).add(u);
            }
            if (e instanceof TransientStoreException) {
                // the budget is spent on the whole batch: no task is at fault, and retrying each would spend it again
                for (Map.Entry<TaskState, List<Unit>> g : byTask.entrySet()) {
                    if (g.getKey() == null) {
                        g.getValue().forEach(u -> u.fail(e));
                    } else {
                        engine.commits.writeFailed(g.getKey(), e, g.getValue());
                    }
                }
                return;
            }
            // isolate the task at fault: retry each task's units on their own, in order
            for (Map.Entry<TaskState, List<Unit>> g : byTask.entrySet()) {
                List<StoreOp> groupOps = new ArrayList<>();
                List<StoreOp> groupFences = new ArrayList<>();
                Set<TaskState> once = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
                g.getValue().forEach(u -> Fences.add(groupFences, groupOps, once, u));
                List<StoreOp> ops = Fences.join(groupFences, groupOps);
                try {
                    write(ops);
                    batches++;
                    committed(g.getValue());
                } catch (RuntimeException e2) {
                    if (g.getKey() == null) {
                        g.getValue().forEach(u -> u.fail(e2)); // flush markers carry no writes
                    } else {
                        engine.commits.writeFailed(g.getKey(), e2, g.getValue());
                    }
                }
            }
        }
    }

    /** Also used by the engine to commit a failure record on this thread. */
    void committed(List<Unit> units) {
        Set<TaskState> touched = new LinkedHashSet<>();
        for (Unit u : units) {
            if (u.state == null) {
                continue; // a flush marker
            }
            engine.commits.applyCommitted(u);
            touched.add(u.state);
        }
        for (Unit u : units) {
            if (u.done != null) {
                u.done.complete(null);
            }
        }
        for (TaskState s : touched) {
            engine.signal(s.id);
        }
    }

    /**
     * Waits for a unit of writes. The wait is bounded once the manager is closing: {@link #stop} fails
     * what the writer did not take and, past its timeout, what a hanging store call holds; and a wait
     * that starts while closing ends with {@link ManagerClosedException} past the shutdown bound (defect 5).
     * Until then it waits without a timeout, so nothing polls (and an interleaving test sees a plain wait).
     */
    void await(CompletableFuture<Void> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    if (engine.closed) {
                        f.get(50, TimeUnit.MILLISECONDS);
                    } else {
                        f.get();
                    }
                    return;
                } catch (java.util.concurrent.TimeoutException e) {
                    if (engine.closed && System.nanoTime() - engine.closeDeadline > 0) {
                        throw new ManagerClosedException();
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (java.util.concurrent.ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof TaskException) {
                        throw (TaskException) c;
                    }
                    throw new TaskStoreException("store write failed", c);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
