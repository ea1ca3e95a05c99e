package dev.agenttasks.benchmarks;

import dev.agenttasks.TaskEvent;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

/** Subscribers used by the benchmarks. All request everything up front (unbounded demand). */
final class Subscribers {
    private Subscribers() {
    }

    /** Counts events and completes a latch on onComplete or onError. */
    static class Counting implements Flow.Subscriber<TaskEvent> {
        final CountDownLatch done = new CountDownLatch(1);
        volatile long count;
        volatile Throwable error;
        volatile long completedAt;

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            subscription.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(TaskEvent item) {
            count++; // one delivery thread at a time per subscription (§1.3)
            seen(item);
        }

        void seen(TaskEvent item) {
        }

        @Override
        public void onError(Throwable throwable) {
            error = throwable;
            completedAt = System.nanoTime();
            done.countDown();
        }

        @Override
        public void onComplete() {
            completedAt = System.nanoTime();
            done.countDown();
        }

        /** Waits for the end of the stream; fails on an error or a time-out. */
        void await(long seconds) throws InterruptedException {
            if (!done.await(seconds, TimeUnit.SECONDS)) {
                throw new IllegalStateException("subscriber did not complete within " + seconds + " s (saw " + count + ")");
            }
            if (error != null) {
                throw new IllegalStateException("subscription failed", error);
            }
        }
    }

    /** Records emit-to-delivery latency of payload events from their "t" field. */
    static final class Latency extends Counting {
        final long[] nanos;
        int n;

        Latency(int capacity) {
            nanos = new long[capacity];
        }

        @Override
        void seen(TaskEvent item) {
            long now = System.nanoTime();
            Object t = item.data().get("t");
            if (Agents.TYPE.equals(item.type()) && t instanceof Number && n < nanos.length) {
                nanos[n++] = now - ((Number) t).longValue();
            }
        }
    }
}
