package dev.agenttasks.spi;

import java.util.Map;

/**
 * How a turn ended, when it did not throw.
 *
 * @param kind whether the agent finished or asked for input
 * @param data the result (for {@code COMPLETED}) or the question (for {@code AWAITING_INPUT}); JSON-compatible,
 *             recorded in the status event
 */
public record TurnResult(Kind kind, Map<String, Object> data) {

    /** The two ways a turn can end normally. */
    public enum Kind {
        /** The agent finished its work. */
        COMPLETED,
        /** The agent asked the user something and waits for a message. */
        AWAITING_INPUT
    }

    /**
     * Normalises null data to an empty map.
     *
     * @param kind whether the agent finished or asked for input
     * @param data the result (for {@code COMPLETED}) or the question (for {@code AWAITING_INPUT}); JSON-compatible, recorded in the status event
     */
    public TurnResult {
        java.util.Objects.requireNonNull(kind, "kind");
        data = data == null ? Map.of() : data;
    }

    /**
     * @param result the result, may be empty
     * @return a completed turn
     */
    public static TurnResult completed(Map<String, Object> result) {
        return new TurnResult(Kind.COMPLETED, result);
    }

    /** @return a completed turn without result data */
    public static TurnResult completed() {
        return new TurnResult(Kind.COMPLETED, Map.of());
    }

    /**
     * @param question what the agent asks, for example {@code {"question": "Which file?"}}
     * @return an awaiting turn
     */
    public static TurnResult awaitingInput(Map<String, Object> question) {
        return new TurnResult(Kind.AWAITING_INPUT, question);
    }
}
