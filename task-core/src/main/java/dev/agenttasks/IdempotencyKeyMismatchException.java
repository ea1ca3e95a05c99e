package dev.agenttasks;

/**
 * An idempotency key was used again with a different request: a create whose key an earlier create
 * used with another agent, message, options, metadata, work directory, title or timeout, or a message
 * whose key an earlier message to the same task used with other content. Nothing was written. HTTP
 * hosts map it to 422 (as the IETF {@code Idempotency-Key} draft suggests).
 */
public class IdempotencyKeyMismatchException extends TaskException {
    private static final long serialVersionUID = 1L;
    /** @serial the key that was reused */
    private final String key;
    /** @serial the task the key belongs to */
    private final String taskId;

    /**
     * @param key    the key that was reused
     * @param taskId the task the first request with the key created or concerned
     */
    public IdempotencyKeyMismatchException(String key, String taskId) {
        super("idempotency key " + key + " was used for a different request (task " + taskId + ")");
        this.key = key;
        this.taskId = taskId;
    }

    /** @return the key that was reused */
    public String key() {
        return key;
    }

    /** @return the task the first request with the key created or concerned */
    public String taskId() {
        return taskId;
    }
}
