package dev.agenttasks.langchain4j;

import dev.agenttasks.spi.TurnFailure;

/**
 * A call to the chat model failed: the HTTP request was refused or broke off, the provider answered
 * with an error status, or the stream could not be read. The runner throws it from
 * {@link dev.agenttasks.spi.AgentRunner#runTurn}, so the task fails with {@link #getMessage()} as its
 * error, for example {@code model call failed: HTTP 500 (server error): upstream overloaded}.
 *
 * <p>{@link #isTransient()} tells the manager's {@link dev.agenttasks.RetryPolicy} whether running the
 * turn again may succeed (it is a {@link TurnFailure}): it is true for rate limits (HTTP 429), server
 * errors (HTTP 5xx), timeouts and connection failures, and false for everything else (bad request,
 * authentication, unknown model, a malformed stream). A transient failure is retried with backoff, each
 * attempt recorded as a {@code retry} event; once the attempts run out the task fails with this
 * message. The original exception is the {@linkplain #getCause() cause}.
 */
public class ModelCallException extends Exception implements TurnFailure {

    private static final long serialVersionUID = 1L;

    /** @serial the HTTP status the provider answered with, or {@code -1} if there was none */
    private final int statusCode;
    /** @serial the provider's own error message, or {@code null} */
    private final String providerMessage;
    /** @serial whether trying the same call again may succeed */
    private final boolean transientFailure;

    /**
     * @param message          the message recorded on the task
     * @param statusCode       the HTTP status the provider answered with, or {@code -1} if there was none
     * @param providerMessage  the provider's own error message, or {@code null}
     * @param transientFailure whether a later attempt may succeed
     * @param cause            the original failure, or {@code null}
     */
    public ModelCallException(String message, int statusCode, String providerMessage, boolean transientFailure,
                              Throwable cause) {
        super(message, cause);
        this.statusCode = statusCode;
        this.providerMessage = providerMessage;
        this.transientFailure = transientFailure;
    }

    /** @return the HTTP status code of the provider's answer, or {@code -1} if the call got none */
    public int statusCode() {
        return statusCode;
    }

    /** @return the provider's error message (from its error body), or {@code null} */
    public String providerMessage() {
        return providerMessage;
    }

    /**
     * @return true if the failure may go away by itself (rate limit, 5xx, timeout, connection failure),
     *         so running the turn again is worth it
     */
    @Override
    public boolean isTransient() {
        return transientFailure;
    }
}
