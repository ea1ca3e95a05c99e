package dev.agenttasks.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A scheduler whose timers fire only when the test advances its {@link SettableClock}: {@link #advance}
 * moves the clock step by step to each due timer and runs it on the test's thread, in due-time order
 * (ties in scheduling order). Only one-shot {@code schedule} is supported, which is all the engine uses.
 */
final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {
    private final SettableClock clock;
    private final PriorityQueue<Timer> queue = new PriorityQueue<>();
    private final AtomicLong order = new AtomicLong();
    private volatile boolean shutdown;

    ManualScheduler(SettableClock clock) {
        this.clock = clock;
    }

    /** Moves time forward by {@code d}, running every timer that falls due on the way. */
    void advance(Duration d) {
        Instant end = clock.instant().plus(d);
        while (true) {
            Timer next;
            synchronized (this) {
                next = queue.peek();
                if (next == null || next.due.isAfter(end)) {
                    break;
                }
                queue.poll();
            }
            Duration step = Duration.between(clock.instant(), next.due);
            if (!step.isNegative()) {
                clock.advance(step);
            }
            next.run();
        }
        Duration rest = Duration.between(clock.instant(), end);
        if (!rest.isNegative()) {
            clock.advance(rest);
        }
    }

    /** @return timers scheduled and neither run nor cancelled */
    synchronized int pending() {
        int n = 0;
        for (Timer t : queue) {
            if (!t.isCancelled()) {
                n++;
            }
        }
        return n;
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return schedule(() -> {
            command.run();
            return null;
        }, delay, unit);
    }

    @Override
    public synchronized <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        if (shutdown) {
            throw new java.util.concurrent.RejectedExecutionException("shut down");
        }
        Timer t = new Timer(callable, clock.instant().plusNanos(unit.toNanos(Math.max(0, delay))), order.incrementAndGet());
        queue.add(t);
        @SuppressWarnings("unchecked")
        ScheduledFuture<V> f = (ScheduledFuture<V>) t;
        return f;
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        throw new UnsupportedOperationException("the engine schedules one-shot timers only");
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("the engine schedules one-shot timers only");
    }

    /** Runs at once, on the caller's thread. */
    @Override
    public void execute(Runnable command) {
        command.run();
    }

    @Override
    public void shutdown() {
        shutdown = true;
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> left = new ArrayList<>(queue);
        queue.clear();
        return left;
    }

    @Override
    public boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return shutdown;
    }

    private final class Timer extends FutureTask<Object> implements ScheduledFuture<Object> {
        final Instant due;
        final long seq;

        @SuppressWarnings("unchecked")
        Timer(Callable<?> c, Instant due, long seq) {
            super((Callable<Object>) c);
            this.due = due;
            this.seq = seq;
        }

        @Override
        public boolean cancel(boolean mayInterrupt) {
            boolean done = super.cancel(mayInterrupt);
            synchronized (ManualScheduler.this) {
                queue.remove(this);
            }
            return done;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(Duration.between(clock.instant(), due).toNanos(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed o) {
            Timer t = (Timer) o;
            int c = due.compareTo(t.due);
            return c != 0 ? c : Long.compare(seq, t.seq);
        }

        /** Rethrows what the timer threw, so a failing timer fails the test that advanced time. */
        @Override
        public void run() {
            super.run();
            if (!isCancelled()) {
                try {
                    get();
                } catch (ExecutionException e) {
                    throw new AssertionError("a timer failed", e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
