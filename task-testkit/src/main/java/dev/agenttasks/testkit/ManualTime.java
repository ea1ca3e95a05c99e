package dev.agenttasks.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Time that moves only when a test moves it: a {@link #clock()} and a {@link #scheduler()} to pass to
 * {@code TaskManager.Builder.clock(..)} and {@code .scheduler(..)} (several managers may share one, as
 * hosts whose clocks agree). {@link #advance(Duration)} moves the clock to each timer that falls due on
 * the way and runs it on the caller's thread, in due-time order (ties in scheduling order), so
 * time-driven behaviour (heartbeats, takeovers, polls) is checked exactly, with no real-time bound.
 * Only one-shot {@code schedule} is supported, which is all the engine uses. Thread-safe; only one
 * thread advances at a time.
 */
final class ManualTime {
    private final PriorityQueue<Timer> queue = new PriorityQueue<>();
    private final AtomicLong order = new AtomicLong();
    private final Object advancing = new Object();
    private final Clock clock = new Clock() {
        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException("manual time stays in UTC");
        }
    };
    private final Scheduler scheduler = new Scheduler();
    private volatile Instant now;

    /** @param start the clock's first reading */
    ManualTime(Instant start) {
        this.now = start;
    }

    /** @return the clock, read by every manager given it */
    Clock clock() {
        return clock;
    }

    /** @return the scheduler whose timers run only in {@link #advance(Duration)} */
    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    /** @return the clock's reading */
    Instant now() {
        return now;
    }

    /**
     * Moves time forward, running every timer due on the way (also those the timers schedule).
     *
     * @param d how far; not negative
     * @throws AssertionError if a timer threw
     */
    void advance(Duration d) {
        synchronized (advancing) {
            Instant end = now.plus(d);
            while (true) {
                Timer next;
                synchronized (this) {
                    next = queue.peek();
                    if (next == null || next.due.isAfter(end)) {
                        break;
                    }
                    queue.poll();
                }
                if (next.due.isAfter(now)) {
                    now = next.due;
                }
                next.run();
            }
            now = end;
        }
    }

    private synchronized <V> ScheduledFuture<V> add(Callable<V> callable, long delay, TimeUnit unit) {
        if (scheduler.shutdown) {
            throw new RejectedExecutionException("manual time's scheduler is shut down");
        }
        Timer t = new Timer(callable, now.plusNanos(unit.toNanos(Math.max(0, delay))), order.incrementAndGet());
        queue.add(t);
        @SuppressWarnings("unchecked")
        ScheduledFuture<V> f = (ScheduledFuture<V>) t;
        return f;
    }

    private final class Scheduler extends AbstractExecutorService implements ScheduledExecutorService {
        private volatile boolean shutdown;

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            return add(() -> {
                command.run();
                return null;
            }, delay, unit);
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            return add(callable, delay, unit);
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
        public List<Runnable> shutdownNow() {
            shutdown = true;
            synchronized (ManualTime.this) {
                List<Runnable> left = new ArrayList<>(queue);
                queue.clear();
                return left;
            }
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
            synchronized (ManualTime.this) {
                queue.remove(this);
            }
            return done;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(Duration.between(now, due).toNanos(), TimeUnit.NANOSECONDS);
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
