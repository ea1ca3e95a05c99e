package dev.agenttasks;

import java.time.Duration;
import java.util.Objects;

/**
 * How often and how soon a turn that failed with a <em>transient</em> failure is run again: exponential
 * backoff from {@link #initialInterval()}, multiplied by {@link #multiplier()} after each attempt, capped
 * at {@link #maxInterval()}, for at most {@link #maxAttempts()} attempts of the turn in all (the first
 * included). A runner marks a failure transient by throwing an exception that implements
 * {@link dev.agenttasks.spi.TurnFailure} with {@code isTransient() == true} (for example
 * {@link dev.agenttasks.spi.TransientTurnException}); any other failure fails the task at once, and so does
 * the turn timeout.
 *
 * <p>The delay before attempt {@code n + 1} is {@code min(initialInterval × multiplier^(n-1), maxInterval)};
 * there is no jitter. With the {@linkplain #defaults() defaults} (1 s, ×2, cap 100 s, 5 attempts) a turn
 * is retried after 1, 2, 4 and 8 seconds before its task fails with the last failure. The policy is set
 * per manager ({@link TaskManager.Builder#retryPolicy}) and may be overridden per task
 * ({@link TaskRequest.Builder#retryPolicy}); {@link #none()} turns retries off.
 *
 * @param initialInterval the delay before the first retry, positive
 * @param multiplier      how much each further delay grows, at least 1
 * @param maxInterval     the longest delay, at least {@code initialInterval}
 * @param maxAttempts     the most attempts of one turn, the first included, at least 1 (1: no retries)
 */
public record RetryPolicy(Duration initialInterval, double multiplier, Duration maxInterval, int maxAttempts) {

    /** Default {@link #initialInterval()}: 1 second. */
    public static final Duration DEFAULT_INITIAL_INTERVAL = Duration.ofSeconds(1);
    /** Default {@link #multiplier()}: 2. */
    public static final double DEFAULT_MULTIPLIER = 2.0;
    /** Default cap, as a multiple of the initial interval: 100 (Temporal's default). */
    public static final int DEFAULT_MAX_INTERVAL_FACTOR = 100;
    /** Default {@link #maxAttempts()}: 5 (the first attempt and 4 retries). */
    public static final int DEFAULT_MAX_ATTEMPTS = 5;

    /**
     * Validates the values.
     *
     * @param initialInterval the delay before the first retry, positive
     * @param multiplier      how much each further delay grows, at least 1
     * @param maxInterval     the longest delay, at least {@code initialInterval}
     * @param maxAttempts     the most attempts of one turn, the first included, at least 1
     * @throws IllegalArgumentException if a value is out of range
     * @throws NullPointerException     if a duration is null
     */
    public RetryPolicy {
        Objects.requireNonNull(initialInterval, "initialInterval can not be null");
        Objects.requireNonNull(maxInterval, "maxInterval can not be null");
        if (initialInterval.isNegative() || initialInterval.isZero()) {
            throw new IllegalArgumentException("initialInterval must be positive: " + initialInterval);
        }
        if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
            throw new IllegalArgumentException("multiplier must be a finite number of at least 1: " + multiplier);
        }
        if (maxInterval.compareTo(initialInterval) < 0) {
            throw new IllegalArgumentException("maxInterval must not be shorter than initialInterval: " + maxInterval);
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1: " + maxAttempts);
        }
    }

    /** @return 1 s, ×2, cap 100 s, 5 attempts: the manager's default */
    public static RetryPolicy defaults() {
        return builder().build();
    }

    /** @return a policy that never retries (one attempt) */
    public static RetryPolicy none() {
        return builder().maxAttempts(1).build();
    }

    /** @return a builder starting from the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The delay after a failed attempt.
     *
     * @param attempt the attempt that failed, from 1
     * @return how long to wait before the next attempt
     * @throws IllegalArgumentException if {@code attempt} is below 1
     */
    public Duration delayAfter(int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be at least 1: " + attempt);
        }
        double nanos = initialInterval.toNanos() * Math.pow(multiplier, attempt - 1);
        long cap = maxInterval.toNanos();
        return nanos >= cap ? maxInterval : Duration.ofNanos((long) nanos);
    }

    /** Builds a {@link RetryPolicy}; unset values are the defaults. Not thread-safe. */
    public static final class Builder {
        private Duration initialInterval = DEFAULT_INITIAL_INTERVAL;
        private double multiplier = DEFAULT_MULTIPLIER;
        private Duration maxInterval;
        private int maxAttempts = DEFAULT_MAX_ATTEMPTS;

        private Builder() {
        }

        /**
         * @param interval the delay before the first retry
         * @return this
         */
        public Builder initialInterval(Duration interval) {
            this.initialInterval = Objects.requireNonNull(interval, "initialInterval can not be null");
            return this;
        }

        /**
         * @param multiplier how much each further delay grows, at least 1
         * @return this
         */
        public Builder multiplier(double multiplier) {
            this.multiplier = multiplier;
            return this;
        }

        /**
         * @param interval the longest delay; unset: 100 times the initial interval
         * @return this
         */
        public Builder maxInterval(Duration interval) {
            this.maxInterval = Objects.requireNonNull(interval, "maxInterval can not be null");
            return this;
        }

        /**
         * @param attempts the most attempts of one turn, the first included; 1 turns retries off
         * @return this
         */
        public Builder maxAttempts(int attempts) {
            this.maxAttempts = attempts;
            return this;
        }

        /**
         * @return the policy
         * @throws IllegalArgumentException if a value is out of range
         */
        public RetryPolicy build() {
            Duration max = maxInterval != null ? maxInterval : initialInterval.multipliedBy(DEFAULT_MAX_INTERVAL_FACTOR);
            return new RetryPolicy(initialInterval, multiplier, max, maxAttempts);
        }
    }
}
