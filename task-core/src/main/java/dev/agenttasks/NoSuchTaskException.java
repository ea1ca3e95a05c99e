package dev.agenttasks;

/** No task has the given id (it never existed, or it was deleted). HTTP hosts map it to 404. */
public class NoSuchTaskException extends TaskException {
    private static final long serialVersionUID = 1L;
    /** @serial the id that was not found */
    private final String taskId;

    /** @param taskId the id that was not found */
    public NoSuchTaskException(String taskId) {
        super("no such task: " + taskId);
        this.taskId = taskId;
    }

    /** @return the id that was not found */
    public String taskId() {
        return taskId;
    }
}
