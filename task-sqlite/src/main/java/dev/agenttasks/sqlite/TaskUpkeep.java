package dev.agenttasks.sqlite;

import dev.agenttasks.TaskStatus;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;

/**
 * What the store's own task inserts and status updates keep besides the task row (schema version 4): the
 * integer key {@code pk}, {@code created_hw}, the title index {@code tasks_title} and the per-status counts
 * {@code task_counts}. Schema versions 2 and 3 kept them with row triggers; a statement that fires a trigger
 * runs with a statement journal, which copies every 32 KB page the statement writes (and FTS5 flushes its
 * pending terms as a new segment at every savepoint such a journal opens): about two thirds of the writer's
 * CPU time per task. Here the writer computes them in the write transaction:
 * <ul>
 *   <li>a new task's {@code pk} is one above the highest (what SQLite would choose) and its
 *       {@code created_hw} the larger of its {@code created_at} and the previous task's {@code created_hw}
 *       (what the trigger {@code tasks_hw_insert} computed);</li>
 *   <li>its title goes into the index with a plain insert (pending in memory until the commit);</li>
 *   <li>count changes are summed per status and written once per transaction, before the commit.</li>
 * </ul>
 * Deletes still go through the schema's delete triggers (rare; they also cover rows deleted by another
 * connection). One instance per writer connection, used under the store's write lock only.
 */
final class TaskUpkeep {

    private static final String LAST_TASK = "SELECT pk, created_hw FROM tasks ORDER BY pk DESC LIMIT 1";
    private static final String INDEX_TITLE = "INSERT INTO tasks_title (rowid, title_lower) VALUES (?, ?)";
    private static final String ADD_COUNT = "INSERT INTO task_counts (status, n) VALUES (?, ?) "
            + "ON CONFLICT (status) DO UPDATE SET n = n + excluded.n";
    private static final TaskStatus[] STATUSES = TaskStatus.values();

    private final PreparedStatement lastTask;
    private final PreparedStatement indexTitle;
    private final PreparedStatement addCount;
    /** Count changes of the transaction in progress, by {@link TaskStatus#ordinal()}. */
    private final long[] countDeltas = new long[STATUSES.length];
    /** Whether {@link #lastPk} and {@link #lastHw} were read in the transaction in progress. */
    private boolean started;
    private long lastPk;
    private long lastHw;

    TaskUpkeep(Connection writer) throws SQLException {
        this.lastTask = writer.prepareStatement(LAST_TASK);
        this.indexTitle = writer.prepareStatement(INDEX_TITLE);
        this.addCount = writer.prepareStatement(ADD_COUNT);
    }

    /** Forgets the state of a transaction (at its start, and after a rollback). */
    void reset() {
        started = false;
        Arrays.fill(countDeltas, 0);
        try {
            indexTitle.clearBatch();
        } catch (SQLException e) {
            // nothing was batched that could outlive the rollback
        }
    }

    /**
     * The key of the next task inserted in this transaction, and its {@code created_hw} through
     * {@link #hwFor(long)}: call once per row, in insert order.
     */
    long nextPk() throws SQLException {
        if (!started) {
            try (ResultSet rs = lastTask.executeQuery()) {
                if (rs.next()) {
                    lastPk = rs.getLong(1);
                    long hw = rs.getLong(2);
                    lastHw = rs.wasNull() ? Long.MIN_VALUE : hw;
                } else {
                    lastPk = 0;
                    lastHw = Long.MIN_VALUE;
                }
            }
            started = true;
        }
        return ++lastPk;
    }

    /**
     * @param createdAt the {@code created_at} of the row whose key {@link #nextPk()} just gave
     * @return its {@code created_hw}
     */
    long hwFor(long createdAt) {
        // a row without created_hw (written without the store) counts as its own created_at, as in the trigger
        lastHw = Math.max(lastHw, createdAt);
        return lastHw;
    }

    /** Adds an inserted task's title to the index batch (sent by {@link #indexTitles()}). */
    void addTitle(long pk, String titleLower) throws SQLException {
        indexTitle.setLong(1, pk);
        indexTitle.setString(2, titleLower);
        indexTitle.addBatch();
    }

    /** Sends the titles added since the last call to the index (pending in memory until the commit). */
    void indexTitles() throws SQLException {
        indexTitle.executeBatch();
    }

    /** Counts a task inserted with {@code status}. */
    void inserted(TaskStatus status) {
        countDeltas[status.ordinal()]++;
    }

    /** Counts a task moved from {@code from} to {@code to}. */
    void moved(TaskStatus from, TaskStatus to) {
        if (from != to) {
            countDeltas[from.ordinal()]--;
            countDeltas[to.ordinal()]++;
        }
    }

    /** Writes the transaction's count changes (inside it, before the commit). */
    void writeCounts() throws SQLException {
        boolean any = false;
        for (int i = 0; i < countDeltas.length; i++) {
            if (countDeltas[i] != 0) {
                addCount.setString(1, STATUSES[i].name());
                addCount.setLong(2, countDeltas[i]);
                addCount.addBatch();
                any = true;
            }
        }
        if (any) {
            addCount.executeBatch();
        }
        Arrays.fill(countDeltas, 0);
    }

    /** Closes the statements (at close, under the write lock). */
    List<PreparedStatement> statements() {
        return List.of(lastTask, indexTitle, addCount);
    }
}
