package dev.agenttasks.sqlite;

import dev.agenttasks.TaskException;
import dev.agenttasks.spi.TaskStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Retention for any {@link TaskStore}: removes terminal tasks that completed more than a maximum age
 * ago, with their events and messages, in bounded batches (one {@link TaskStore#purgeTerminal} call, so
 * one short transaction, per batch), so that the engine's writes interleave with a long purge.
 *
 * <pre>{@code
 * RetentionRunner retention = store.retention(Duration.ofDays(30)).build().start(Duration.ofHours(1));
 * ...
 * retention.close();
 * }</pre>
 *
 * A host may instead call {@link #runOnce()} from its own scheduler.
 */
public final class RetentionRunner implements AutoCloseable {

    /** The number of tasks removed per batch unless the builder is given another. */
    public static final int DEFAULT_BATCH_SIZE = 500;

    private static final Logger LOG = LoggerFactory.getLogger(RetentionRunner.class);

    private final TaskStore store;
    private final Duration maxAge;
    private final int batchSize;
    private final Clock clock;
    private ScheduledExecutorService scheduler;

    private RetentionRunner(Builder b) {
        this.store = b.store;
        this.maxAge = b.maxAge;
        this.batchSize = b.batchSize;
        this.clock = b.clock;
    }

    /**
     * @param store  the store to purge
     * @param maxAge how long a terminal task is kept after it completed; positive
     * @return a builder
     * @throws IllegalArgumentException if {@code maxAge} is not positive
     */
    public static Builder builder(TaskStore store, Duration maxAge) {
        return new Builder(store, maxAge);
    }

    /**
     * Removes every terminal task completed more than the maximum age ago, batch by batch.
     *
     * @return how many tasks were removed
     * @throws dev.agenttasks.TaskStoreException if the store fails (tasks of earlier batches stay removed)
     */
    public int runOnce() {
        Instant cutoff = clock.instant().minus(maxAge);
        int total = 0;
        int n;
        do {
            n = store.purgeTerminal(cutoff, batchSize);
            total += n;
        } while (n >= batchSize);
        if (total > 0) {
            LOG.info("Retention removed {} terminal tasks completed before {}", total, cutoff);
        }
        return total;
    }

    /**
     * Runs {@link #runOnce()} now and then every {@code interval} on a daemon thread of its own, until
     * {@link #close()}. A failed run is logged and the next one happens on time.
     *
     * @param interval time between runs; positive
     * @return this runner
     * @throws IllegalArgumentException if the interval is not positive
     * @throws IllegalStateException    if it was started already
     */
    public synchronized RetentionRunner start(Duration interval) {
        Objects.requireNonNull(interval, "interval can not be null");
        if (interval.isZero() || interval.isNegative()) {
            throw new IllegalArgumentException("interval must be positive: " + interval);
        }
        if (scheduler != null) {
            throw new IllegalStateException("retention runner already started");
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "agent-tasks-retention");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(this::runLogged, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    private void runLogged() {
        try {
            runOnce();
        } catch (TaskException e) {
            LOG.warn("Retention run failed: {}", e.getMessage(), e);
        }
    }

    /** Stops the schedule started by {@link #start(Duration)}, if any. Does not close the store. Idempotent. */
    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
    }

    /** Settings of a {@link RetentionRunner}. */
    public static final class Builder {
        private final TaskStore store;
        private final Duration maxAge;
        private int batchSize = DEFAULT_BATCH_SIZE;
        private Clock clock = Clock.systemUTC();

        private Builder(TaskStore store, Duration maxAge) {
            this.store = Objects.requireNonNull(store, "store can not be null");
            this.maxAge = Objects.requireNonNull(maxAge, "maxAge can not be null");
            if (maxAge.isZero() || maxAge.isNegative()) {
                throw new IllegalArgumentException("maxAge must be positive: " + maxAge);
            }
        }

        /**
         * @param n most tasks removed per transaction, at least 1; {@value #DEFAULT_BATCH_SIZE} by default
         * @return this builder
         * @throws IllegalArgumentException if {@code n} is below 1
         */
        public Builder batchSize(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("batchSize must be at least 1: " + n);
            }
            this.batchSize = n;
            return this;
        }

        /**
         * @param c the clock that tells "now" (the system UTC clock by default; tests pass a fixed one)
         * @return this builder
         */
        public Builder clock(Clock c) {
            this.clock = Objects.requireNonNull(c, "clock can not be null");
            return this;
        }

        /** @return the runner (not started) */
        public RetentionRunner build() {
            return new RetentionRunner(this);
        }
    }
}
