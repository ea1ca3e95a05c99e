package dev.agenttasks.spi;

/**
 * A {@link StoreOp.PutKey} found its idempotency key already stored; nothing of the batch was applied.
 * Stores throw this subclass (not a plain {@link StoreConflictException}) so the engine can tell a
 * retried request from a conflict of the task's own writes.
 */
public class DuplicateKeyException extends StoreConflictException {
    private static final long serialVersionUID = 1L;
    /** @serial the key that exists */
    private final String key;

    /**
     * @param taskId the task of the op that failed
     * @param key    the key that exists
     */
    public DuplicateKeyException(String taskId, String key) {
        super(taskId, "idempotency key already exists: " + key);
        this.key = key;
    }

    /** @return the key that exists */
    public String key() {
        return key;
    }
}
