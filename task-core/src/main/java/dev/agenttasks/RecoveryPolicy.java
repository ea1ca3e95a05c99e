package dev.agenttasks;

/**
 * Decides, when a manager starts, what happens to tasks that a host which died left
 * {@code PENDING} or {@code RUNNING}. Tasks {@code WAITING_FOR_INPUT} need no recovery: they keep
 * waiting.
 */
@FunctionalInterface
public interface RecoveryPolicy {

    /** The error recorded by {@link #failInterrupted()}. */
    String INTERRUPTED = "interrupted: the host stopped";

    /** What to do with one interrupted task. */
    enum Action {
        /** Mark the task {@code FAILED} with the error {@value RecoveryPolicy#INTERRUPTED}. */
        FAIL,
        /**
         * Run it again: a {@code PENDING} task is queued as if new; a {@code RUNNING} task gets a turn
         * with {@link dev.agenttasks.spi.Turn#resumed()} set and its saved session id.
         */
        RESUME
    }

    /**
     * @param task an interrupted task, as the store has it
     * @return what to do with it
     */
    Action decide(Task task);

    /** @return the default policy: every interrupted task fails with {@value #INTERRUPTED} */
    static RecoveryPolicy failInterrupted() {
        return task -> Action.FAIL;
    }

    /** @return a policy that resumes every interrupted task */
    static RecoveryPolicy resume() {
        return task -> Action.RESUME;
    }
}
