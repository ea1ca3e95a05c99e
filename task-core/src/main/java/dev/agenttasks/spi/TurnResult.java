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
     * @param result the result, may be empty or {@code null}; any map of JSON-compatible values (for
     *               example a {@code Map<String, String>}), like {@link TurnContext#emit}'s data. The
     *               manager copies and validates it when the turn returns.
     * @return a completed turn
     */
    public static TurnResult completed(Map<String, ?> result) {
        return new TurnResult(Kind.COMPLETED, view(result));
    }

    /** @return a completed turn without result data */
    public static TurnResult completed() {
        return new TurnResult(Kind.COMPLETED, Map.of());
    }

    /**
     * @param question what the agent asks, for example {@code {"question": "Which file?"}}; any map of
     *                 JSON-compatible values, like {@link TurnContext#emit}'s data
     * @return an awaiting turn
     */
    public static TurnResult awaitingInput(Map<String, ?> question) {
        return new TurnResult(Kind.AWAITING_INPUT, view(question));
    }

    private static Map<String, Object> view(Map<String, ?> data) {
        return data == null ? Map.of() : java.util.Collections.unmodifiableMap(data);
    }
}
