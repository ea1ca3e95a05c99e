package dev.agenttasks.testkit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Flow;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * What a {@link RecordingSubscriber} has received, under one lock, with the awaits on it (a condition
 * signalled on every change, never sleeps). Records Reactive Streams rule breaches it can see in the
 * signals' order and demand; the subscriber adds the ones about threads.
 *
 * @param <T> the item type
 */
final class SignalRecord<T> {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    private Flow.Subscription subscription;
    private final List<T> items = new ArrayList<>();
    private long itemCount;
    private T lastItem;
    private long requested;
    private Throwable error;
    private boolean completed;
    private boolean cancelled;
    private int subscriptions;
    private final List<String> violations = new ArrayList<>();

    /** @return false if this is a second subscription (recorded as a breach; the caller cancels it) */
    boolean subscribed(Flow.Subscription s, long initialRequest) {
        lock.lock();
        try {
            subscriptions++;
            if (subscriptions > 1) {
                violation("rule 2.5: onSubscribe called " + subscriptions + " times");
                return false;
            }
            subscription = s;
            requested = initialRequest;
            changed.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** @return the subscription, to request more */
    Flow.Subscription next(T item, boolean keep) {
        lock.lock();
        try {
            if (subscription == null) {
                violation("rule 1.9: onNext before onSubscribe");
            }
            if (item == null) {
                violation("rule 2.13: onNext(null)");
            }
            if (completed || error != null) {
                violation("rule 1.7: onNext after " + (completed ? "onComplete" : "onError") + ": " + item);
            }
            if (requested != Long.MAX_VALUE) {
                if (requested <= 0) {
                    violation("rule 1.1: onNext beyond the requested demand (item " + (itemCount + 1) + "): " + item);
                } else {
                    requested--;
                }
            }
            itemCount++;
            lastItem = item;
            if (keep) {
                items.add(item);
            }
            changed.signalAll();
            return subscription;
        } finally {
            lock.unlock();
        }
    }

    void error(Throwable throwable) {
        lock.lock();
        try {
            if (throwable == null) {
                violation("rule 2.13: onError(null)");
            }
            if (completed || error != null) {
                violation("rule 1.7: onError after a terminal signal: " + throwable);
            } else {
                error = throwable == null ? new NullPointerException("onError(null)") : throwable;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void complete() {
        lock.lock();
        try {
            if (completed || error != null) {
                violation("rule 1.7: onComplete after a terminal signal");
            } else {
                completed = true;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds positive demand to the count.
     *
     * @return the subscription to pass the request to
     * @throws IllegalStateException if not subscribed yet
     */
    Flow.Subscription addDemand(long n) {
        lock.lock();
        try {
            if (subscription == null) {
                throw new IllegalStateException("not subscribed yet");
            }
            if (n > 0) {
                long sum = requested + n;
                requested = sum < 0 ? Long.MAX_VALUE : sum;
            }
            return subscription;
        } finally {
            lock.unlock();
        }
    }

    /** @return the subscription to cancel, or {@code null} */
    Flow.Subscription markCancelled() {
        lock.lock();
        try {
            cancelled = true;
            changed.signalAll();
            return subscription;
        } finally {
            lock.unlock();
        }
    }

    void violation(String v) {
        lock.lock();
        try {
            violations.add(v);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean cancelled() {
        return read(() -> cancelled);
    }

    boolean subscribed() {
        return read(() -> subscription != null);
    }

    List<T> items() {
        lock.lock();
        try {
            return List.copyOf(items);
        } finally {
            lock.unlock();
        }
    }

    long itemCount() {
        lock.lock();
        try {
            return itemCount;
        } finally {
            lock.unlock();
        }
    }

    Optional<T> lastItem() {
        lock.lock();
        try {
            return Optional.ofNullable(lastItem);
        } finally {
            lock.unlock();
        }
    }

    long outstandingDemand() {
        lock.lock();
        try {
            return requested;
        } finally {
            lock.unlock();
        }
    }

    Optional<Throwable> errorReceived() {
        lock.lock();
        try {
            return Optional.ofNullable(error);
        } finally {
            lock.unlock();
        }
    }

    boolean completed() {
        return read(() -> completed);
    }

    boolean terminated() {
        return read(() -> completed || error != null);
    }

    List<String> violations() {
        lock.lock();
        try {
            return List.copyOf(violations);
        } finally {
            lock.unlock();
        }
    }

    void awaitSubscription(Duration timeout) {
        awaitState(timeout, () -> subscription != null, "onSubscribe");
    }

    List<T> awaitItems(long n, Duration timeout, boolean keep) {
        awaitState(timeout, () -> itemCount >= n || completed || error != null, n + " items");
        lock.lock();
        try {
            if (itemCount < n) {
                throw new AssertionError("stream ended after " + itemCount + " of " + n + " items"
                        + (error != null ? " with error " + error : " (completed)"));
            }
            return keep ? List.copyOf(items.subList(0, (int) Math.min(n, items.size()))) : List.of();
        } finally {
            lock.unlock();
        }
    }

    T awaitItem(Predicate<? super T> predicate, Duration timeout) {
        awaitState(timeout, () -> completed || error != null || items.stream().anyMatch(predicate),
                "a matching item");
        lock.lock();
        try {
            return items.stream().filter(predicate).findFirst().orElseThrow(() -> new AssertionError(
                    "stream ended without a matching item after " + itemCount + " items"
                            + (error != null ? " with error " + error : "")));
        } finally {
            lock.unlock();
        }
    }

    List<T> awaitCompletion(Duration timeout) {
        awaitState(timeout, () -> completed || error != null, "onComplete");
        lock.lock();
        try {
            if (error != null) {
                AssertionError e = new AssertionError("expected onComplete but got onError: " + error);
                e.initCause(error);
                throw e;
            }
            return List.copyOf(items);
        } finally {
            lock.unlock();
        }
    }

    Throwable awaitError(Duration timeout) {
        awaitState(timeout, () -> completed || error != null, "onError");
        lock.lock();
        try {
            if (error == null) {
                throw new AssertionError("expected onError but the stream completed after " + itemCount + " items");
            }
            return error;
        } finally {
            lock.unlock();
        }
    }

    void awaitTerminal(Duration timeout) {
        awaitState(timeout, () -> completed || error != null, "a terminal signal");
    }

    void assertAtMostItemsAndNotTerminated(long maxItems) {
        lock.lock();
        try {
            if (itemCount > maxItems) {
                throw new AssertionError("received " + itemCount + " items, expected at most " + maxItems);
            }
            if (completed || error != null) {
                throw new AssertionError("stream ended unexpectedly" + (error != null ? ": " + error : ""));
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        lock.lock();
        try {
            return "RecordingSubscriber{items=" + itemCount + ", requested=" + requested + ", completed=" + completed
                    + ", error=" + error + ", cancelled=" + cancelled + ", violations=" + violations.size() + "}";
        } finally {
            lock.unlock();
        }
    }

    private boolean read(BooleanSupplier value) {
        lock.lock();
        try {
            return value.getAsBoolean();
        } finally {
            lock.unlock();
        }
    }

    private void awaitState(Duration timeout, BooleanSupplier state, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!state.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what
                            + ": " + this);
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for " + what, e);
        } finally {
            lock.unlock();
        }
    }
}
