package dev.agenttasks.spi;

import dev.agenttasks.TaskStoreException;

/**
 * A conditional write found the store in another state than expected: a task's status was not the
 * expected one, an id or seq already existed, or the task was missing.
 */
public class StoreConflictException extends TaskStoreException {
    private static final long serialVersionUID = 1L;
    /** @serial the task whose write conflicted */
    private final String taskId;

    /**
     * @param taskId the task concerned
     * @param message what conflicted
     */
    public StoreConflictException(String taskId, String message) {
        super(message);
        this.taskId = taskId;
    }

    /** @return the task concerned */
    public String taskId() {
        return taskId;
    }
}
