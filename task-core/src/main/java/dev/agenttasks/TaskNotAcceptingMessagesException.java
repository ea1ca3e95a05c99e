package dev.agenttasks;

/** A follow-up message was sent to a task that has finished. HTTP hosts map it to 409. */
public class TaskNotAcceptingMessagesException extends TaskException {
    private static final long serialVersionUID = 1L;
    /** @serial the task that refused the message */
    private final String taskId;
    /** @serial the status that refused the message */
    private final TaskStatus status;

    /**
     * @param taskId the task
     * @param status its status
     */
    public TaskNotAcceptingMessagesException(String taskId, TaskStatus status) {
        this(taskId, status, "task " + taskId + " does not accept messages in status " + status.wireName());
    }

    /**
     * For subclasses with a message of their own.
     *
     * @param taskId  the task
     * @param status  its status
     * @param message the exception message
     */
    protected TaskNotAcceptingMessagesException(String taskId, TaskStatus status, String message) {
        super(message);
        this.taskId = taskId;
        this.status = status;
    }

    /** @return the task id */
    public String taskId() {
        return taskId;
    }

    /** @return the status that refused the message */
    public TaskStatus status() {
        return status;
    }
}
