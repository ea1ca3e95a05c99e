package dev.agenttasks;

/**
 * Decides, when a manager starts, what happens to tasks whose turn was running when their host
 * stopped (crashed, or closed before the turn ended): tasks left {@code RUNNING}. Only those are
 * interrupted work. Tasks left {@code PENDING} (queued, or given a message while no slot was free)
 * had no turn running: they are queued again in creation order whatever the policy, so a clean
 * {@link TaskManager#close()} never loses queued work. Tasks {@code WAITING_FOR_INPUT} keep waiting.
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
         * Run it again: the task gets a turn with {@link dev.agenttasks.spi.Turn#resumed()} set and its
         * saved session id.
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
