package dev.agenttasks.spi;

import dev.agenttasks.TaskStoreException;

/**
 * A store failure that may succeed if the same operation is tried again, unchanged: a lock held by another
 * connection past the store's own wait (SQLite {@code SQLITE_BUSY}/{@code SQLITE_LOCKED}), a broken or reset
 * connection, a database that is restarting.
 *
 * <p>Store authors throw it (from {@link TaskStore#write} and the read methods) only when nothing of the failed
 * call was applied, so that the engine may repeat it as a whole. The engine retries such a failure with backoff
 * within the manager's transient-error budget before it treats the failure as permanent; any other
 * {@link TaskStoreException} is treated as permanent at once.
 */
public class TransientStoreException extends TaskStoreException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed
     * @param cause the underlying failure, for example the driver's exception
     */
    public TransientStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
