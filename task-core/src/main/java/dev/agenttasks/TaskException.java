package dev.agenttasks;

/** The root of every exception agent-tasks throws. Unchecked. */
public class TaskException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what went wrong */
    public TaskException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong
     * @param cause the underlying failure
     */
    public TaskException(String message, Throwable cause) {
        super(message, cause);
    }
}
