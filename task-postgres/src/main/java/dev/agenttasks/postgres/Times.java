package dev.agenttasks.postgres;

import dev.agenttasks.TaskStoreException;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;

/**
 * Instants as epoch nanoseconds in one signed 64-bit bigint column: exact to the nanosecond, ordered,
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
            throw new TaskStoreException(field + " is outside the range the PostgreSQL store can hold "
                    + "(1677-09-21 to 2262-04-11): " + t, e);
        }
    }

    static Instant fromNanos(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, NANOS_PER_SECOND), Math.floorMod(nanos, NANOS_PER_SECOND));
    }

    static Long nanos(Instant t, String field) {
        return t == null ? null : Times.toNanos(t, field);
    }

    static void setNanos(PreparedStatement ps, int index, Instant t, String field) throws SQLException {
        if (t == null) {
            ps.setNull(index, Types.BIGINT);
        } else {
            ps.setLong(index, Times.toNanos(t, field));
        }
    }

    static Instant instant(ResultSet rs, int column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : Times.fromNanos(v);
    }

    static long clampedNanos(Instant t) {
        if (t.isBefore(Times.fromNanos(Long.MIN_VALUE))) {
            return Long.MIN_VALUE;
        }
        if (t.isAfter(Times.fromNanos(Long.MAX_VALUE))) {
            return Long.MAX_VALUE;
        }
        return Times.toNanos(t, "instant");
    }
}
