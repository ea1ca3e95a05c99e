package dev.agenttasks;

import java.util.EnumSet;
import java.util.Set;

/**
 * A filter and page request for {@link TaskManager#list(TaskQuery)}. Results are newest first.
 *
 * @param statuses      statuses to include; empty means all
 * @param agentId       only tasks of this agent, or {@code null} for all
 * @param titleContains case-insensitive substring of the title, or {@code null}
 * @param limit         page size, 1 to {@value #MAX_LIMIT}
 * @param cursor        the {@link TaskPage#nextCursor()} of the previous page, or {@code null} for the first
 */
public record TaskQuery(Set<TaskStatus> statuses, String agentId, String titleContains, int limit, String cursor) {

    /** The default page size. */
    public static final int DEFAULT_LIMIT = 50;
    /** The largest page size. */
    public static final int MAX_LIMIT = 1000;

    /**
     * Validates the limit and copies the status set.
     *
     * @param statuses statuses to include; empty means all
     * @param agentId only tasks of this agent, or {@code null} for all
     * @param titleContains case-insensitive substring of the title, or {@code null}
     * @param limit page size, 1 to {@value #MAX_LIMIT}
     * @param cursor the {@link TaskPage#nextCursor()} of the previous page, or {@code null} for the first
     */
    public TaskQuery {
        statuses = statuses == null || statuses.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(statuses));
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new InvalidRequestException("limit", "limit must be between 1 and " + MAX_LIMIT + ": " + limit);
        }
    }

    /** @return a query for the first page of all tasks, {@value #DEFAULT_LIMIT} per page */
    public static TaskQuery all() {
        return new TaskQuery(Set.of(), null, null, DEFAULT_LIMIT, null);
    }

    /**
     * @param s statuses to keep
     * @return a copy filtering on them
     */
    public TaskQuery withStatuses(Set<TaskStatus> s) {
        return new TaskQuery(s, agentId, titleContains, limit, cursor);
    }

    /**
     * @param s one or more statuses
     * @return a copy filtering on them
     */
    public TaskQuery withStatus(TaskStatus... s) {
        return withStatuses(s.length == 0 ? Set.of() : EnumSet.of(s[0], s));
    }

    /**
     * @param id agent id
     * @return a copy filtering on it
     */
    public TaskQuery withAgentId(String id) {
        return new TaskQuery(statuses, id, titleContains, limit, cursor);
    }

    /**
     * @param text title substring
     * @return a copy filtering on it
     */
    public TaskQuery withTitleContains(String text) {
        return new TaskQuery(statuses, agentId, text, limit, cursor);
    }

    /**
     * @param n page size
     * @return a copy with that page size
     */
    public TaskQuery withLimit(int n) {
        return new TaskQuery(statuses, agentId, titleContains, n, cursor);
    }

    /**
     * @param c cursor from a previous page
     * @return a copy starting after it
     */
    public TaskQuery withCursor(String c) {
        return new TaskQuery(statuses, agentId, titleContains, limit, c);
    }
}
