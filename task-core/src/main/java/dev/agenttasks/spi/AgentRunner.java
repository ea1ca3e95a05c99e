package dev.agenttasks.spi;

import java.util.Optional;

/**
 * How a host runs its agents. The manager calls {@link #describe(String)} when a task is created and
 * {@link #runTurn(Turn, TurnContext)} for every turn, on one of its executor threads.
 *
 * <p>A turn ends in one of three ways:
 * <ul>
 *   <li>it returns {@link TurnResult#completed(java.util.Map)}: the task completes (unless follow-up
 *       messages are queued, which then run as further turns);</li>
 *   <li>it returns {@link TurnResult#awaitingInput(java.util.Map)}: the task waits for a user message,
 *       holding no thread; the message starts the next turn with the saved session id;</li>
 *   <li>it throws: the task fails with the exception's message recorded.</li>
 * </ul>
 * A cancelled turn is interrupted and sees {@link TurnContext#isCancelled()}; whatever it returns or
 * emits afterwards is ignored.
 */
public interface AgentRunner {

    /**
     * Resolves an agent id.
     *
     * @param agentId the id from the request
     * @return the agent, or empty if there is none with that id
     */
    Optional<AgentDescriptor> describe(String agentId);

    /**
     * Runs one turn of the agent.
     *
     * @param turn    what to run
     * @param context where to emit events, report the session id and check for cancellation
     * @return how the turn ended
     * @throws Exception any failure; it fails the task
     */
    TurnResult runTurn(Turn turn, TurnContext context) throws Exception;
}
