package dev.agenttasks.internal;

import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.spi.TaskRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One subscriber's cursor over a task's event log. Signals are serialised by a work-in-progress
 * counter and run on the engine's delivery executor. Events come from the task's in-memory tail when
 * it still holds them and from the store, a page at a time, when the subscriber has fallen behind; so
 * memory per subscription is bounded by the page size whatever the subscriber's speed.
 */
final class EventSubscription implements Flow.Subscription, Runnable {
    private static final Logger log = LoggerFactory.getLogger(EventSubscription.class);
    /** Events delivered in one run before yielding the delivery thread to other subscriptions. */
    private static final int FAIR_SHARE = 512;

    private final Engine engine;
    final String taskId;
    private final Flow.Subscriber<? super TaskEvent> subscriber;
    private final AtomicLong requested = new AtomicLong();
    private final AtomicInteger wip = new AtomicInteger();
    private final ArrayDeque<TaskEvent> buffer = new ArrayDeque<>();
    private volatile boolean cancelled;
    private volatile Throwable error;
    private boolean started;
    private boolean resolved;
    private boolean finished;
    /** Null when the task was already finished when resolved (read-only from the store). */
    private TaskState state;
    private long finalSeq = -1;
    /** The seq of the last event delivered (at first the subscriber's {@code afterSeq}); read by {@link #behind}. */
    private volatile long cursor;
    /**
     * A read from the store, in this pass of {@link #run()}, returned fewer events than asked for: the store
     * had no more then, so reading again before a new signal would return nothing. Each signal, request or
     * wake-up starts a new pass (it raises {@code wip}), which clears it.
     */
    private boolean drained;
    /**
     * Read from the store, this subscription's {@code afterSeq} was beyond the task's last event, and it has
     * delivered nothing since: if the task ends at or before that seq, no event will ever reach it, so
     * {@link RemoteEvents} checks the task's status for it ({@link #aheadAt}, {@link #endedAt}).
     */
    private volatile boolean ahead;
    /** The last seq of the task, once {@link RemoteEvents} found it finished while this one was ahead. */
    private volatile long endedAt = Long.MAX_VALUE;

    EventSubscription(Engine engine, String taskId, long afterSeq, Flow.Subscriber<? super TaskEvent> subscriber) {
        this.engine = engine;
        this.taskId = taskId;
        this.cursor = afterSeq;
        this.subscriber = subscriber;
    }

    @Override
    public void request(long n) {
        if (n <= 0) {
            fail(new IllegalArgumentException("§3.9: request must be positive, was " + n));
            return;
        }
        long r;
        long next;
        do {
            r = requested.get();
            if (r == Long.MAX_VALUE) {
                break;
            }
            next = r + n;
            if (next < 0) {
                next = Long.MAX_VALUE;
            }
        } while (!requested.compareAndSet(r, next));
        schedule();
    }

    @Override
    public void cancel() {
        cancelled = true;
        schedule();
    }

    /** Ends the subscription with an error (task deleted, manager closed, store failure). */
    void fail(Throwable t) {
        if (error == null) {
            error = t;
        }
        schedule();
    }

    /**
     * For the remote polls of {@link RemoteEvents}: whether this open subscription has not delivered the
     * event {@code seq} yet. Any thread.
     *
     * @param seq the task's last stored seq, read before this call
     * @return true if it should be signalled
     */
    boolean behind(long seq) {
        return !cancelled && cursor < seq;
    }

    /**
     * For the remote polls of {@link RemoteEvents}: whether this open subscription started beyond the
     * task's last event and is still at or beyond {@code seq}, so that only the task's status can tell
     * whether anything will come. Any thread.
     *
     * @param seq the task's last stored seq
     */
    boolean aheadAt(long seq) {
        return !cancelled && ahead && cursor >= seq;
    }

    /**
     * For the remote polls: the task finished with {@code lastSeq} as its last event, at or before this
     * subscription's cursor; it completes. Any thread.
     */
    void endedAt(long lastSeq) {
        endedAt = lastSeq;
        schedule();
    }

    /** New committed events may be available. */
    void signal() {
        if (requested.get() > 0) {
            schedule();
        }
    }

    void schedule() {
        if (wip.getAndIncrement() == 0) {
            engine.deliver(this);
        }
    }

    @Override
    public void run() {
        int missed = 1;
        while (true) {
            drained = false; // a new pass: something (a signal, a request) may have changed since the last read
            if (finished) {
                return;
            }
            if (!started) {
                started = true;
                try {
                    subscriber.onSubscribe(this);
                } catch (Throwable t) {
                    log.warn("subscriber of task {} threw from onSubscribe; cancelling", taskId, t);
                    finish();
                    return;
                }
            }
            if (cancelled) {
                finish();
                return;
            }
            if (error != null) { // before any store read: a closed manager signals ManagerClosedException (defect 11)
                terminateWithError();
                return;
            }
            if (!resolved && !resolve()) {
                return;
            }
            long r = requested.get();
            long emitted = 0;
            while (emitted != r && emitted < FAIR_SHARE) {
                if (cancelled) {
                    finish();
                    return;
                }
                if (error != null) {
                    terminateWithError();
                    return;
                }
                TaskEvent e;
                try {
                    e = next();
                } catch (RuntimeException ex) {
                    if (error == null) { // close() or delete set the error first: keep it (a closed store's error is only its echo)
                        error = ex;
                    }
                    terminateWithError();
                    return;
                }
                if (e == null) {
                    break;
                }
                cursor = e.seq();
                if (ahead) {
                    ahead = false; // from now on it reads every event up to the terminal one
                }
                emitted++;
                try {
                    subscriber.onNext(e);
                } catch (Throwable t) {
                    log.warn("subscriber of task {} threw from onNext; cancelling its subscription", taskId, t);
                    finish();
                    return;
                }
                engine.delivered();
                if (e.isTerminal()) {
                    complete();
                    return;
                }
            }
            if (emitted > 0 && r != Long.MAX_VALUE) {
                requested.addAndGet(-emitted);
            }
            if (cancelled) {
                finish();
                return;
            }
            if (error != null) {
                terminateWithError();
                return;
            }
            if (caughtUpWithFinishedTask()) {
                complete();
                return;
            }
            if (emitted == FAIR_SHARE) {
                engine.deliver(this); // keep wip > 0: this run continues later, after others had a turn
                return;
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }

    /** @return false if the subscription ended while resolving */
    private boolean resolve() {
        resolved = true;
        try {
            state = engine.ownership.local(taskId);
            if (state == null) {
                Optional<TaskRecord> rec = engine.tasks.storedTask(taskId);
                engine.hooks.afterStoreRead(taskId);
                if (rec.isEmpty()) {
                    error = new NoSuchTaskException(taskId);
                    terminateWithError();
                    return false;
                }
                if (rec.get().task().status().isTerminal()) {
                    finalSeq = rec.get().lastSeq();
                } else {
                    ahead = cursor > rec.get().lastSeq();
                    goRemote(); // another host holds it, or it waits: read the store until its end
                }
            }
        } catch (RuntimeException ex) {
            if (error == null) { // keep the error close() or delete set before the store failed
                error = ex;
            }
            terminateWithError();
            return false;
        }
        return true;
    }

    /** Reads the store from now on, woken by {@link RemoteEvents}, until the terminal event. */
    private void goRemote() {
        state = null;
        finalSeq = Long.MAX_VALUE;
        engine.remoteEvents.watch(taskId);
    }

    /** Follows the task between this host's memory and the store as its claim comes and goes. */
    private void follow() {
        if (state != null && state.detached) {
            ahead = cursor > state.committedSeq && !state.committedTask.status().isTerminal();
            goRemote();
        } else if (state == null && finalSeq == Long.MAX_VALUE) {
            TaskState local = engine.ownership.local(taskId);
            if (local != null) {
                state = local;
            }
        }
    }

    private boolean caughtUpWithFinishedTask() {
        if (!buffer.isEmpty()) {
            return false;
        }
        if (state == null) {
            return cursor >= finalSeq || cursor >= endedAt;
        }
        return state.committedTask.status().isTerminal() && cursor >= state.committedSeq;
    }

    private TaskEvent next() {
        TaskEvent e = buffer.poll();
        if (e != null) {
            return e;
        }
        follow();
        long s = cursor + 1;
        if (state != null) {
            if (s > state.committedSeq) {
                return null;
            }
            e = state.tail.get(s);
            if (e != null) {
                return e;
            }
        } else if (s > finalSeq || drained) {
            return null;
        }
        int size = engine.pageSize(requested.get());
        List<TaskEvent> page = engine.store.events(taskId, cursor, size);
        if (state == null && page.size() < size) {
            drained = true; // caught up with the store: a commit elsewhere signals again (RemoteEvents)
        }
        for (TaskEvent p : page) {
            if (p.seq() > cursor) {
                buffer.add(p);
            }
        }
        engine.bufferPeak(buffer.size());
        return buffer.poll();
    }

    private void complete() {
        finish();
        try {
            subscriber.onComplete();
        } catch (Throwable t) {
            log.warn("subscriber of task {} threw from onComplete", taskId, t);
        }
    }

    private void terminateWithError() {
        Throwable t = error;
        finish();
        try {
            subscriber.onError(t);
        } catch (Throwable x) {
            log.warn("subscriber of task {} threw from onError", taskId, x);
        }
    }

    private void finish() {
        finished = true;
        cancelled = true;
        buffer.clear();
        engine.unregister(this);
    }
}
