package dev.agenttasks.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * A position in the newest-first task order ({@code createdAt} descending, then {@code id}
 * descending). A store lists the tasks strictly after it in that order.
 *
 * @param createdAt the creation time of the last task of the previous page
 * @param id        its id
 */
public record TaskCursor(Instant createdAt, String id) {
    /**
     * Requires both fields.
     *
     * @param createdAt the creation time of the last task of the previous page
     * @param id its id
     */
    public TaskCursor {
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(id, "id");
    }
}
