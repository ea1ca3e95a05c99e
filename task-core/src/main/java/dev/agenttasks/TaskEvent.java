package dev.agenttasks;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One entry of a task's append-only event log.
 *
 * <p>Sequence numbers start at 1 for every task and have no gaps; a number is never reused.
 * Status changes are events too, of type {@value #STATUS} with data {@code {"status": "running", …}},
 * so the log alone tells the whole story of a task. The last event of a finished task is its terminal
 * status event.
 *
 * <p>The engine writes these events itself: seq 1 is always {@code status} {@code {"status":"pending"}},
 * followed, if the task was created with a message, by {@code user_message}
 * {@code {"turn":1,"text":…}} (or {@code "content":[…]}); a turn starts with {@code status}
 * {@code {"status":"running","turn":n}} (when the status changes), and a follow-up message is recorded
 * as {@code user_message} {@code {"turn":n,…}} when its turn starts; a turn asking for input ends with {@code status}
 * {@code {"status":"waiting_for_input","turn":n,"question":{…}}}; the terminal event carries
 * {@code "result"} (completed) or {@code "error"} (failed). Every status event after the first turn
 * started carries its {@code "turn"} number. Everything else comes from the runner.
 *
 * <p>Data is normalised when emitted: integral numbers are {@link Long}, other numbers
 * {@link Double}; maps keep insertion order. Stores must return data the same way.
 *
 * @param taskId    the task the event belongs to
 * @param seq       the position in the task's log, from 1
 * @param type      the event type, for example {@code "text_delta"} or {@value #STATUS}
 * @param data      JSON-compatible immutable data (strings, numbers, booleans, null, lists, maps)
 * @param timestamp when the event was emitted
 */
public record TaskEvent(String taskId, long seq, String type, Map<String, Object> data, Instant timestamp) {

    /** The type of the events that record a status change. */
    public static final String STATUS = "status";

    /**
     * Checks the fields; {@code data} must already be immutable JSON-compatible data.
     *
     * @param taskId the task the event belongs to
     * @param seq the position in the task's log, from 1
     * @param type the event type, for example {@code "text_delta"} or {@value #STATUS}
     * @param data JSON-compatible immutable data (strings, numbers, booleans, null, lists, maps)
     * @param timestamp when the event was emitted
     */
    public TaskEvent {
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(timestamp, "timestamp");
        if (seq < 1) {
            throw new IllegalArgumentException("seq must be >= 1: " + seq);
        }
    }

    /** @return true if this is a status event */
    public boolean isStatus() {
        return STATUS.equals(type);
    }

    /** @return the status this event records, or {@code null} if it is not a status event */
    public TaskStatus status() {
        if (!isStatus()) {
            return null;
        }
        Object s = data.get("status");
        return s == null ? null : TaskStatus.parse(s.toString());
    }

    /** @return true if this is the status event of a terminal status (the last event of a task) */
    public boolean isTerminal() {
        TaskStatus s = status();
        return s != null && s.isTerminal();
    }
}
