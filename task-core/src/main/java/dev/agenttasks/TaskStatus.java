package dev.agenttasks;

import java.util.Locale;

/**
 * The lifecycle states of a task.
 *
 * <pre>
 * PENDING ◄─► RUNNING ──► COMPLETED
 *    │          │  ▲  └──► FAILED
 *    │          ▼  │  └──► CANCELLED
 *    │   WAITING_FOR_INPUT ──► CANCELLED / FAILED
 *    └──► CANCELLED / FAILED
 * </pre>
 *
 * <p>{@code RUNNING → PENDING} happens when a turn failed transiently and waits for its retry (see
 * {@link RetryPolicy}), or when a message sent with {@link MessageStrategy#INTERRUPT} stopped the turn:
 * the task holds no slot until its next turn starts.
 *
 * <p>Only the transitions allowed by {@link #canMoveTo(TaskStatus)} ever happen; terminal states
 * ({@link #isTerminal()}) have no way out.
 */
public enum TaskStatus {
    /**
     * Queued for a turn: created and not started yet, given a message while waiting for input and now
     * waiting for a free slot (for example, the concurrency limit is reached), waiting for the retry of a
     * turn that failed transiently (the time is in its {@code retry} event), or interrupted by a message.
     */
    PENDING,
    /** A turn of the agent is running. */
    RUNNING,
    /** The agent asked the user something; the task holds no thread until a message arrives. */
    WAITING_FOR_INPUT,
    /** The agent finished. Terminal. */
    COMPLETED,
    /** The agent, the store or the host failed; see {@link Task#error()}. Terminal. */
    FAILED,
    /** Cancelled by a caller. Terminal. */
    CANCELLED;

    /** @return true for {@code COMPLETED}, {@code FAILED} and {@code CANCELLED} */
    public boolean isTerminal() {
        return this == COMPLETED || this == FAILED || this == CANCELLED;
    }

    /**
     * Whether a task in this status may move to {@code next}.
     *
     * @param next the proposed status
     * @return true if the transition is legal
     */
    public boolean canMoveTo(TaskStatus next) {
        switch (this) {
            case PENDING:
                return next == RUNNING || next == CANCELLED || next == FAILED;
            case RUNNING:
                return next == WAITING_FOR_INPUT || next == PENDING || next == COMPLETED || next == FAILED
                        || next == CANCELLED;
            case WAITING_FOR_INPUT:
                return next == PENDING || next == RUNNING || next == CANCELLED || next == FAILED;
            default:
                return false;
        }
    }

    /** @return the lower-case wire name, for example {@code waiting_for_input} */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a wire name or enum name, case-insensitively.
     *
     * @param name for example {@code "running"}
     * @return the status
     * @throws InvalidRequestException if the name is not a status
     */
    public static TaskStatus parse(String name) {
        if (name != null) {
            for (TaskStatus s : values()) {
                if (s.name().equalsIgnoreCase(name.trim())) {
                    return s;
                }
            }
        }
        throw new InvalidRequestException("status", "unknown status: " + name);
    }
}
