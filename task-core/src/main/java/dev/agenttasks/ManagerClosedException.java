package dev.agenttasks;

/** The {@link TaskManager} is closed or closing and accepts no more work. HTTP hosts map it to 503. */
public class ManagerClosedException extends TaskException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception. */
    public ManagerClosedException() {
        super("the task manager is closed");
    }
}
