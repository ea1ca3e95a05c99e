package dev.agenttasks;

/** A {@link dev.agenttasks.spi.TaskStore} failed (I/O error, full disk, locked database, corrupt file). */
public class TaskStoreException extends TaskException {
    private static final long serialVersionUID = 1L;

    /** @param message what failed */
    public TaskStoreException(String message) {
        super(message);
    }

    /**
     * @param message what failed
     * @param cause the underlying failure
     */
    public TaskStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
