package dev.agenttasks.postgres;

import dev.agenttasks.Task;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TaskRecord;

import java.sql.ResultSet;
import java.sql.SQLException;

import static dev.agenttasks.postgres.Times.instant;

/** A task row as SQL reads it ({@link #taskColumns(String)}) and as a {@link TaskRecord} ({@link #taskRecord}). */
final class TaskRows {

    private TaskRows() {
    }

    /**
     * @param s the quoted schema
     * @return the columns {@link #taskRecord(ResultSet)} reads, of a task row aliased {@code t}
     */
    static String taskColumns(String s) {
        return "t.id, t.agent_id, t.session_id, t.status, t.title, t.model, t.created_at, t.started_at, "
                + "t.completed_at, t.error, t.work_dir, t.metadata, t.options, t.timeout_millis, t.owner, t.lease_until, "
                + "(SELECT coalesce(max(e.seq), 0) FROM " + s + ".events e WHERE e.task_id = t.id), t.epoch";
    }

    /**
     * @param s the quoted schema
     * @return a select of task rows (aliased {@code t}) in the form {@link #taskRecord(ResultSet)} reads
     */
    static String selectTask(String s) {
        return "SELECT " + taskColumns(s) + " FROM " + s + ".tasks t";
    }

    static TaskRecord taskRecord(ResultSet rs) throws SQLException {
        Task t = new Task(rs.getString(1), rs.getString(2), rs.getString(3), TaskStatus.valueOf(rs.getString(4)),
                rs.getString(5), rs.getString(6), Times.fromNanos(rs.getLong(7)), instant(rs, 8), instant(rs, 9),
                rs.getString(10), rs.getString(11), Json.readStringMap(rs.getString(12)));
        return new TaskRecord(t, Json.readMap(rs.getString(13)), rs.getLong(14), rs.getString(15), instant(rs, 16),
                rs.getLong(17), rs.getLong(18));
    }
}
