package dev.agenttasks.postgres;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.Set;

/** Classifies PostgreSQL failures by SQLState. */
final class SqlStates {

    static final String FOREIGN_KEY_VIOLATION = "23503";
    static final String UNIQUE_VIOLATION = "23505";

    /**
     * Server going away or not there yet, serialization failure, deadlock, too many connections, and a session the
     * server ended for idling (in a transaction: {@code idle_in_transaction_session_timeout}, as after a host was
     * frozen mid-batch; or {@code idle_session_timeout}): nothing of its transaction was committed.
     */
    private static final Set<String> TRANSIENT = Set.of("57P01", "57P02", "57P03", "40001", "40P01", "53300", "25P03",
            "57P05");

    private SqlStates() {
    }

    /** @return the first SQLState in the exception's chain (next exceptions and causes), or null */
    static String state(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException) {
                for (SQLException s = (SQLException) t; s != null; s = s.getNextException()) {
                    if (s.getSQLState() != null) {
                        return s.getSQLState();
                    }
                    if (s.getNextException() == s) {
                        break;
                    }
                }
            }
        }
        return null;
    }

    /** @return true for a failure worth trying again unchanged, on another connection */
    static boolean isTransient(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientException || t instanceof SQLRecoverableException) {
                return true;
            }
        }
        String state = state(e);
        return state != null && (state.startsWith("08") || TRANSIENT.contains(state));
    }

    /** @return true if the connection itself broke (the outcome of a commit in flight is unknown) */
    static boolean isConnectionLoss(SQLException e) {
        String state = state(e);
        return state == null || state.startsWith("08") || state.startsWith("57P");
    }
}
