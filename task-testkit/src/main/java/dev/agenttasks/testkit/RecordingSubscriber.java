package dev.agenttasks.testkit;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A {@link Flow.Subscriber} for tests: it records what it receives, lets the test control demand and
 * offers awaits with timeouts (built on a lock and condition, never on sleeps).
 *
 * <p>It also checks the Reactive Streams rules it can see from the subscriber's side and records each
 * breach in {@link #violations()}: a second {@code onSubscribe}, a signal before {@code onSubscribe},
 * {@code onNext} beyond the requested demand, a null item, a signal after a terminal one, and two
 * signals delivered concurrently by different threads.
 *
 * <pre>{@code
 * RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
 * manager.events(taskId).subscribe(sub);
 * sub.awaitCompletion(Duration.ofSeconds(5));
 * sub.assertNoViolations();
 * }</pre>
 *
 * <p>All methods are thread-safe.
 *
 * @param <T> the item type
 */
public final class RecordingSubscriber<T> implements Flow.Subscriber<T> {

    /** The default timeout of the awaits without an explicit one: 10 seconds. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    private final SignalRecord<T> record = new SignalRecord<>();
    private final long initialRequest;
    private final AtomicReference<Thread> signalling = new AtomicReference<>();

    private volatile long requestOnEachItem;
    private volatile boolean keepItems = true;
    private volatile Consumer<? super T> onItem;

    private RecordingSubscriber(long initialRequest) {
        this.initialRequest = initialRequest;
    }

    /**
     * A subscriber that requests nothing until told to with {@link #request(long)}.
     *
     * @param <T> the item type
     * @return the subscriber
     */
    public static <T> RecordingSubscriber<T> create() {
        return new RecordingSubscriber<>(0);
    }

    /**
     * A subscriber that requests {@code n} items as soon as it is subscribed.
     *
     * @param n   the initial demand; 0 for none, {@link Long#MAX_VALUE} for unbounded
     * @param <T> the item type
     * @return the subscriber
     */
    public static <T> RecordingSubscriber<T> requesting(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("initial request must not be negative: " + n);
        }
        return new RecordingSubscriber<>(n);
    }

    /**
     * A subscriber that requests {@link Long#MAX_VALUE} items as soon as it is subscribed.
     *
     * @param <T> the item type
     * @return the subscriber
     */
    public static <T> RecordingSubscriber<T> unbounded() {
        return new RecordingSubscriber<>(Long.MAX_VALUE);
    }

    /**
     * Makes the subscriber request {@code k} more items after each item it receives (after recording it),
     * from within {@code onNext}. With an initial request of {@code b} this keeps {@code b} items
     * outstanding; with {@code b = 1, k = 1} it consumes one item at a time.
     *
     * @param k items to request after each item, 0 to stop doing so
     * @return this
     */
    public RecordingSubscriber<T> requestOnEachItem(long k) {
        if (k < 0) {
            throw new IllegalArgumentException("k must not be negative: " + k);
        }
        this.requestOnEachItem = k;
        return this;
    }

    /**
     * Whether to keep every item in {@link #items()}. Turn it off for long streams: the subscriber then
     * keeps only the count and the last item.
     *
     * @param keep false to keep only the count and the last item
     * @return this
     */
    public RecordingSubscriber<T> keepItems(boolean keep) {
        this.keepItems = keep;
        return this;
    }

    /**
     * A callback run on every item, in {@code onNext}, after it is recorded and before any automatic
     * request. An exception it throws is recorded as a violation of the test's own expectation and
     * cancels the subscription.
     *
     * @param consumer the callback
     * @return this
     */
    public RecordingSubscriber<T> onItem(Consumer<? super T> consumer) {
        this.onItem = Objects.requireNonNull(consumer, "consumer can not be null");
        return this;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        boolean nested = enter("onSubscribe");
        try {
            if (s == null) {
                record.violation("rule 2.13: onSubscribe(null)");
                return;
            }
            if (!record.subscribed(s, initialRequest)) {
                s.cancel();
                return;
            }
            if (initialRequest > 0) {
                s.request(initialRequest);
            }
        } finally {
            leave(nested);
        }
    }

    @Override
    public void onNext(T item) {
        boolean nested = enter("onNext");
        try {
            Flow.Subscription s = record.next(item, keepItems);
            Consumer<? super T> callback = onItem;
            if (callback != null) {
                try {
                    callback.accept(item);
                } catch (RuntimeException | AssertionError e) {
                    record.violation("item check failed: " + e.getMessage());
                    cancel();
                    return;
                }
            }
            long k = requestOnEachItem;
            if (k > 0 && s != null && !isCancelled()) {
                request(k);
            }
        } finally {
            leave(nested);
        }
    }

    @Override
    public void onError(Throwable throwable) {
        boolean nested = enter("onError");
        try {
            record.error(throwable);
        } finally {
            leave(nested);
        }
    }

    @Override
    public void onComplete() {
        boolean nested = enter("onComplete");
        try {
            record.complete();
        } finally {
            leave(nested);
        }
    }

    /**
     * Requests {@code n} more items. Non-positive values are passed on unchanged, to test that the
     * publisher answers them with {@code onError} (rule 3.9).
     *
     * @param n the demand to add
     * @throws IllegalStateException if not subscribed yet
     */
    public void request(long n) {
        record.addDemand(n).request(n);
    }

    /**
     * Cancels the subscription (if subscribed). Idempotent.
     */
    public void cancel() {
        Flow.Subscription s = record.markCancelled();
        if (s != null) {
            s.cancel();
        }
    }

    /** @return true once {@link #cancel()} was called */
    public boolean isCancelled() {
        return record.cancelled();
    }

    /** @return true once {@code onSubscribe} was received */
    public boolean isSubscribed() {
        return record.subscribed();
    }

    /** @return a copy of the items received so far (empty if {@link #keepItems(boolean)} is off) */
    public List<T> items() {
        return record.items();
    }

    /** @return how many items were received */
    public long itemCount() {
        return record.itemCount();
    }

    /** @return the last item received, if any */
    public Optional<T> lastItem() {
        return record.lastItem();
    }

    /** @return the demand requested and not yet served ({@link Long#MAX_VALUE} if unbounded) */
    public long outstandingDemand() {
        return record.outstandingDemand();
    }

    /** @return the error received, if any */
    public Optional<Throwable> error() {
        return record.errorReceived();
    }

    /** @return true once {@code onComplete} was received */
    public boolean isCompleted() {
        return record.completed();
    }

    /** @return true once {@code onComplete} or {@code onError} was received */
    public boolean isTerminated() {
        return record.terminated();
    }

    /** @return the Reactive Streams rule breaches seen so far, in order */
    public List<String> violations() {
        return record.violations();
    }

    /**
     * @throws AssertionError listing the breaches, if any was seen
     */
    public void assertNoViolations() {
        List<String> v = violations();
        if (!v.isEmpty()) {
            throw new AssertionError("Reactive Streams rule violations: " + v);
        }
    }

    /**
     * Waits for {@code onSubscribe}.
     *
     * @param timeout the longest wait
     * @return this
     * @throws AssertionError if it did not arrive in time
     */
    public RecordingSubscriber<T> awaitSubscription(Duration timeout) {
        record.awaitSubscription(timeout);
        return this;
    }

    /**
     * Waits until at least {@code n} items were received.
     *
     * @param n       the count to reach
     * @param timeout the longest wait
     * @return the first {@code n} items (empty if items are not kept)
     * @throws AssertionError if they did not arrive in time, or the stream ended before
     */
    public List<T> awaitItems(long n, Duration timeout) {
        return record.awaitItems(n, timeout, keepItems);
    }

    /**
     * Waits until at least {@code n} items were received, up to {@link #DEFAULT_TIMEOUT}.
     *
     * @param n the count to reach
     * @return the first {@code n} items
     */
    public List<T> awaitItems(long n) {
        return awaitItems(n, DEFAULT_TIMEOUT);
    }

    /**
     * Waits until an item matching the predicate has been received (items must be kept).
     *
     * @param predicate what to look for
     * @param timeout   the longest wait
     * @return the first matching item
     * @throws AssertionError if none arrived in time, or the stream ended without one
     */
    public T awaitItem(Predicate<? super T> predicate, Duration timeout) {
        return record.awaitItem(predicate, timeout);
    }

    /**
     * Waits for {@code onComplete}.
     *
     * @param timeout the longest wait
     * @return every item received (empty if items are not kept)
     * @throws AssertionError if it did not complete in time, or ended with {@code onError}
     */
    public List<T> awaitCompletion(Duration timeout) {
        return record.awaitCompletion(timeout);
    }

    /**
     * Waits for {@code onComplete}, up to {@link #DEFAULT_TIMEOUT}.
     *
     * @return every item received
     */
    public List<T> awaitCompletion() {
        return awaitCompletion(DEFAULT_TIMEOUT);
    }

    /**
     * Waits for {@code onError}.
     *
     * @param timeout the longest wait
     * @return the error
     * @throws AssertionError if no error arrived in time, or the stream completed normally
     */
    public Throwable awaitError(Duration timeout) {
        return record.awaitError(timeout);
    }

    /**
     * Waits for {@code onError}, up to {@link #DEFAULT_TIMEOUT}.
     *
     * @return the error
     */
    public Throwable awaitError() {
        return awaitError(DEFAULT_TIMEOUT);
    }

    /**
     * Waits for {@code onComplete} or {@code onError}.
     *
     * @param timeout the longest wait
     * @return this
     * @throws AssertionError if neither arrived in time
     */
    public RecordingSubscriber<T> awaitTerminal(Duration timeout) {
        record.awaitTerminal(timeout);
        return this;
    }

    /**
     * Checks that nothing terminal arrives and no more than {@code maxItems} items, for tests of demand.
     * This does not wait: it inspects the state as it is now.
     *
     * @param maxItems the most items that may have been received
     * @throws AssertionError if more items arrived or the stream ended
     */
    public void assertAtMostItemsAndNotTerminated(long maxItems) {
        record.assertAtMostItemsAndNotTerminated(maxItems);
    }

    @Override
    public String toString() {
        return record.toString();
    }

    /** @return true if this is a nested signal on the same thread (synchronous re-entry), which is legal */
    private boolean enter(String signal) {
        Thread me = Thread.currentThread();
        Thread other = signalling.get();
        if (other == me) {
            return true;
        }
        if (!signalling.compareAndSet(null, me)) {
            record.violation("rule 1.3: " + signal + " on " + me.getName() + " while " + signalling.get()
                    + " was signalling concurrently");
            return true;
        }
        return false;
    }

    private void leave(boolean nested) {
        if (!nested) {
            signalling.set(null);
        }
    }
}
