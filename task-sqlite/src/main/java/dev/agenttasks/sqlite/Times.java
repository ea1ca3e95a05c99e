package dev.agenttasks.sqlite;

import dev.agenttasks.TaskStoreException;

import java.time.Instant;

/**
 * Instants as epoch nanoseconds in one signed 64-bit INTEGER column: exact to the nanosecond, ordered,
 * and covering 1677-09-21 to 2262-04-11.
 */
final class Times {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private Times() {
    }

    static long toNanos(Instant t, String field) {
        try {
            return Math.addExact(Math.multiplyExact(t.getEpochSecond(), NANOS_PER_SECOND), t.getNano());
        } catch (ArithmeticException e) {
            throw new TaskStoreException(field + " is outside the range the SQLite store can hold "
                    + "(1677-09-21 to 2262-04-11): " + t, e);
        }
    }

    static Instant fromNanos(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, NANOS_PER_SECOND), Math.floorMod(nanos, NANOS_PER_SECOND));
    }

    /** An instant as epoch nanoseconds, clamped to the range a column holds (for bounds of queries). */
    static long clampedNanos(Instant t) {
        if (t.isBefore(fromNanos(Long.MIN_VALUE))) {
            return Long.MIN_VALUE;
        }
        if (t.isAfter(fromNanos(Long.MAX_VALUE))) {
            return Long.MAX_VALUE;
        }
        return Times.toNanos(t, "completedBefore");
    }
}
