package dev.agenttasks.postgres;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The event-log reads of {@link PostgresTaskStore} that serve remote subscribers (subscriptions to tasks
 * running on another host): {@link PostgresTaskStore#lastSeqs(Collection)}, the last stored seq of many
 * tasks in one statement, which the engine runs once per event-poll interval for all such tasks instead
 * of one read per task.
 */
final class EventReads {

    /** Ids per statement: one array parameter, bounded so a statement and its result stay small. */
    static final int MAX_IDS = 1_000;

    private EventReads() {
    }

    /**
     * @param schema the (unquoted) schema
     * @return the statement: each existing task of the array with its last seq (0 without events), one
     *         primary-key lookup and one backward index seek per task
     */
    static String selectLastSeqs(String schema) {
        String s = '"' + schema + '"';
        return "SELECT t.id, (SELECT coalesce(max(e.seq), 0) FROM " + s + ".events e WHERE e.task_id = t.id) FROM "
                + s + ".tasks t WHERE t.id = ANY (?::text[])";
    }

    /**
     * @param store   the store whose connections to use (with its retries of transient failures)
     * @param schema  its schema
     * @param taskIds the tasks
     * @return the last seq of each existing task; one auto-commit statement per {@value #MAX_IDS} ids
     */
    static Map<String, Long> lastSeqs(PostgresTaskStore store, String schema, Collection<String> taskIds) {
        List<String> ids = new ArrayList<>(new LinkedHashSet<>(taskIds));
        for (String id : ids) {
            Objects.requireNonNull(id, "task id");
        }
        Map<String, Long> out = new HashMap<>();
        String sql = selectLastSeqs(schema);
        for (int from = 0; from < ids.size(); from += MAX_IDS) {
            String[] chunk = ids.subList(from, Math.min(ids.size(), from + MAX_IDS)).toArray(new String[0]);
            store.call("read of the last seqs of " + chunk.length + " tasks", true, c -> {
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setArray(1, c.createArrayOf("text", chunk));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            out.put(rs.getString(1), rs.getLong(2));
                        }
                    }
                }
                return null;
            });
        }
        return out;
    }
}
