package dev.agenttasks;

/** Signalled to the open event subscriptions of a task when the task is deleted. */
public class TaskDeletedException extends NoSuchTaskException {
    private static final long serialVersionUID = 1L;

    /** @param taskId the deleted task */
    public TaskDeletedException(String taskId) {
        super(taskId);
    }

    @Override
    public String getMessage() {
        return "task deleted: " + taskId();
    }
}
