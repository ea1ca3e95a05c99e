package dev.agenttasks;

/**
 * A message sent with {@link MessageStrategy#REJECT} found the task busy (a turn running, queued, or
 * waiting for a retry); nothing was stored. HTTP hosts map it to 409, like its superclass.
 */
public class TaskBusyException extends TaskNotAcceptingMessagesException {
    private static final long serialVersionUID = 1L;

    /**
     * @param taskId the task
     * @param status its status when the message arrived
     */
    public TaskBusyException(String taskId, TaskStatus status) {
        super(taskId, status, "task " + taskId + " is busy (" + status.wireName()
                + ") and the message strategy is reject; the message was not stored");
    }
}
