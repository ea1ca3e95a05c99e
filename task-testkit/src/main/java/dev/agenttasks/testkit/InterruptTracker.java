package dev.agenttasks.testkit;

/**
 * Remembers, per thread, that a wait step of a {@link ScriptedAgentRunner} script saw an interrupt it then
 * ignored or handled, so that the turn's {@link ScriptedAgentRunner.TurnOutcome} reports it.
 */
final class InterruptTracker {
    private static final ThreadLocal<Boolean> SEEN = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private InterruptTracker() {
    }

    static void mark() {
        SEEN.set(Boolean.TRUE);
    }

    static boolean consume() {
        boolean seen = SEEN.get();
        SEEN.remove();
        return seen;
    }
}
