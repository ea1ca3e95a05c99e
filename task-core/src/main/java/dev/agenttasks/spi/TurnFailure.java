package dev.agenttasks.spi;

/**
 * Implemented by an exception a runner throws from {@link AgentRunner#runTurn} to say whether running
 * the turn again may succeed. When it is {@linkplain #isTransient() transient} (a rate limit, a 5xx
 * answer, a timeout of the model call, a dropped connection), the manager retries the turn under its
 * {@link dev.agenttasks.RetryPolicy}; any other failure fails the task at once.
 *
 * <p>The manager looks at the thrown exception and then at its chain of causes; the first one that
 * implements this interface decides. A runner that only wants to say "transient" throws
 * {@link TransientTurnException}.
 */
public interface TurnFailure {

    /** @return true if a later attempt of the same turn may succeed */
    boolean isTransient();
}
