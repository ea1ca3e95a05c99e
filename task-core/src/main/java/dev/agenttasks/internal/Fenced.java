package dev.agenttasks.internal;

import dev.agenttasks.spi.StoreConflictException;

import java.util.function.Supplier;

/**
 * Runs a public call again when its write lost a fence: the task changed hands or was let go (another call on
 * this host finished or released it, or another host took it) between the call's look at the task and its
 * commit. Nothing of the failed unit was written, so the call starts over from the store's state and ends
 * with a documented result (for example {@link dev.agenttasks.TaskNotAcceptingMessagesException} for a task
 * that was cancelled meanwhile) instead of the store's conflict. Found by the Fray interleaving tests.
 */
final class Fenced {
    static final int ATTEMPTS = 4;

    private Fenced() {
    }

    static <T> T retry(Supplier<T> call) {
        for (int attempt = 1; ; attempt++) {
            try {
                return call.get();
            } catch (StoreConflictException e) {
                if (attempt >= ATTEMPTS) {
                    throw e;
                }
                Engine.log.debug("task {}: write fenced out ({}); the call starts over", e.taskId(), e.getMessage());
            }
        }
    }
}
