package dev.agenttasks;

import java.util.List;
import java.util.Optional;

/**
 * One page of {@link TaskManager#list(TaskQuery)}.
 *
 * @param tasks      the tasks, newest first
 * @param nextCursor an opaque cursor for the next page, or {@code null} if this is the last page
 */
public record TaskPage(List<Task> tasks, String nextCursor) {

    /**
     * Copies the list.
     *
     * @param tasks the tasks, newest first
     * @param nextCursor an opaque cursor for the next page, or {@code null} if this is the last page
     */
    public TaskPage {
        tasks = List.copyOf(tasks);
    }

    /** @return the cursor of the next page, if there is one */
    public Optional<String> next() {
        return Optional.ofNullable(nextCursor);
    }
}
