package dev.agenttasks.spi;

/**
 * A turn failed in a way that may go away by itself (a rate limit, an overloaded server, a timeout).
 * Thrown from {@link AgentRunner#runTurn}, it makes the manager retry the turn under its
 * {@link dev.agenttasks.RetryPolicy}; once the attempts run out, the task fails with this exception's
 * message.
 */
public class TransientTurnException extends RuntimeException implements TurnFailure {
    private static final long serialVersionUID = 1L;

    /** @param message what went wrong; recorded in the {@code retry} event and, at the end, on the task */
    public TransientTurnException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong; recorded in the {@code retry} event and, at the end, on the task
     * @param cause   the original failure
     */
    public TransientTurnException(String message, Throwable cause) {
        super(message, cause);
    }

    /** @return true */
    @Override
    public boolean isTransient() {
        return true;
    }
}
