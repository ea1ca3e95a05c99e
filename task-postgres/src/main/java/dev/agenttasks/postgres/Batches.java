package dev.agenttasks.postgres;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.JsonEncoded;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The statements of a {@link PostgresTaskStore#write(List) write batch}, inside its transaction: how the ops are
 * grouped into runs ({@link #plan(List)}) and how each run is applied (one multi-row statement or one pipelined
 * JDBC batch per run); the multi-host ops are {@link HostOps}'. Moved out of the store.
 */
final class Batches {

    private final DataSource dataSource;
    private final String schema;
    private final HostOps hostOps;
    private final String insertTasks;
    private final String updateTask;
    private final String appendEvents;
    private final String addMessage;
    private final String removeMessage;
    private final String taskStatus;
    private final String existingTasks;

    Batches(DataSource dataSource, String schema) {
        this.dataSource = dataSource;
        this.schema = schema;
        this.hostOps = new HostOps(schema);
        String s = '"' + schema + '"';
        this.insertTasks = "INSERT INTO " + s + ".tasks (id, agent_id, session_id, status, title, title_lower, model, "
                + "created_at, started_at, completed_at, error, work_dir, metadata, options, timeout_millis, owner, "
                + "lease_until, epoch) SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], "
                + "?::text[], ?::text[], ?::int8[], ?::int8[], ?::int8[], ?::text[], ?::text[], ?::text[], ?::text[], "
                + "?::int8[], ?::text[], ?::int8[], ?::int8[]) ON CONFLICT (id) DO NOTHING RETURNING id";
        this.updateTask = "UPDATE " + s + ".tasks SET session_id = ?, status = ?, started_at = ?, completed_at = ?, "
                + "error = ?, owner = ?, lease_until = ? WHERE id = ? AND status = ?";
        this.appendEvents = "INSERT INTO " + s + ".events (task_id, seq, type, data, ts) "
                + "SELECT u.task_id, u.seq, u.type, u.data, u.ts FROM unnest(?::text[], ?::int8[], ?::text[], "
                + "?::text[], ?::int8[]) AS u (task_id, seq, type, data, ts) "
                + "ON CONFLICT (task_id, seq) DO NOTHING RETURNING task_id, seq, txid_current()";
        this.addMessage = "INSERT INTO " + s + ".messages (task_id, message_id, message, created_at) VALUES (?, ?, ?, ?)";
        this.removeMessage = "DELETE FROM " + s + ".messages WHERE task_id = ? AND message_id = ?";
        this.taskStatus = "SELECT status FROM " + s + ".tasks WHERE id = ?";
        this.existingTasks = "SELECT id FROM " + s + ".tasks WHERE id = ANY (?::text[])";
    }

    /** The kinds of op in the order {@link #plan(List)} applies them when it may group them by kind. */
    private static final List<Class<?>> KINDS = List.of(StoreOp.InsertTask.class, StoreOp.Fence.class,
            StoreOp.UpdateTask.class, StoreOp.AddMessage.class, StoreOp.RemoveMessage.class, StoreOp.AddRequest.class,
            StoreOp.RemoveRequest.class, StoreOp.PutKey.class, StoreOp.AppendEvent.class);

    /**
     * Groups the ops into runs of one kind. Kind by kind (inserts, fences, updates, new messages, removed
     * messages, new requests, removed requests, idempotency keys, events) when that is equivalent to their order:
     * no op comes before the insert of its task, no message is removed before it is added in the batch, and no
     * fence comes after another op (but the insert) of its task. Otherwise consecutive runs of the same kind, in
     * order.
     */
    static List<List<StoreOp>> plan(List<StoreOp> ops) {
        Map<String, Integer> insertAt = new HashMap<>();
        Map<String, Integer> addAt = new HashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            StoreOp op = ops.get(i);
            if (op instanceof StoreOp.InsertTask) {
                insertAt.putIfAbsent(op.taskId(), i);
            } else if (op instanceof StoreOp.AddMessage) {
                addAt.putIfAbsent(op.taskId() + '\u0000' + ((StoreOp.AddMessage) op).message().messageId(), i);
            }
        }
        boolean byKind = true;
        Set<String> touched = new HashSet<>();
        for (int i = 0; i < ops.size() && byKind; i++) {
            StoreOp op = ops.get(i);
            Integer ins = insertAt.get(op.taskId());
            if (ins != null && ins > i) {
                byKind = false;
            } else if (op instanceof StoreOp.RemoveMessage) {
                Integer add = addAt.get(op.taskId() + '\u0000' + ((StoreOp.RemoveMessage) op).messageId());
                byKind = add == null || add < i;
            } else if (op instanceof StoreOp.Fence) {
                byKind = !touched.contains(op.taskId());
            }
            if (!(op instanceof StoreOp.InsertTask) && !(op instanceof StoreOp.Fence)) {
                touched.add(op.taskId());
            }
        }
        List<List<StoreOp>> runs = new ArrayList<>();
        if (byKind) {
            for (Class<?> kind : KINDS) {
                List<StoreOp> run = new ArrayList<>();
                for (StoreOp op : ops) {
                    if (op.getClass() == kind) {
                        run.add(op);
                    }
                }
                if (!run.isEmpty()) {
                    runs.add(run);
                }
            }
            return runs;
        }
        int i = 0;
        while (i < ops.size()) {
            Class<?> kind = ops.get(i).getClass();
            int j = i + 1;
            while (j < ops.size() && ops.get(j).getClass() == kind) {
                j++;
            }
            runs.add(ops.subList(i, j));
            i = j;
        }
        return runs;
    }

    /** @return the transaction id, if the run's statement reported it */
    String applyRun(Connection c, List<StoreOp> run) throws SQLException {
        StoreOp first = run.get(0);
        if (first instanceof StoreOp.AppendEvent) {
            return appendEvents(c, run);
        } else if (first instanceof StoreOp.InsertTask) {
            insertTasks(c, run);
        } else if (first instanceof StoreOp.UpdateTask) {
            updateTasks(c, run);
        } else if (first instanceof StoreOp.AddMessage) {
            addMessages(c, run);
        } else if (first instanceof StoreOp.RemoveMessage) {
            removeMessages(c, run);
        } else if (first instanceof StoreOp.Fence) {
            hostOps.fences(c, run);
        } else if (first instanceof StoreOp.AddRequest) {
            hostOps.addRequests(c, run);
        } else if (first instanceof StoreOp.RemoveRequest) {
            hostOps.removeRequests(c, run);
        } else if (first instanceof StoreOp.PutKey) {
            hostOps.putKeys(c, run);
        } else {
            throw new TaskStoreException("unknown store op: " + first.getClass().getName());
        }
        return null;
    }

    private void insertTasks(Connection c, List<StoreOp> run) throws SQLException {
        int n = run.size();
        String[][] text = new String[12][n];
        Long[][] num = new Long[6][n];
        for (int k = 0; k < n; k++) {
            TaskRecord r = ((StoreOp.InsertTask) run.get(k)).record();
            Task t = r.task();
            text[0][k] = t.id();
            text[1][k] = t.agentId();
            text[2][k] = t.sessionId();
            text[3][k] = t.status().name();
            text[4][k] = t.title();
            text[5][k] = t.title().toLowerCase(Locale.ROOT);
            text[6][k] = t.model();
            num[0][k] = Times.toNanos(t.createdAt(), "createdAt");
            num[1][k] = Times.nanos(t.startedAt(), "startedAt");
            num[2][k] = Times.nanos(t.completedAt(), "completedAt");
            text[7][k] = t.error();
            text[8][k] = t.workDir();
            text[9][k] = Json.write(t.metadata());
            text[10][k] = Json.write(r.options());
            num[3][k] = r.timeoutMillis();
            text[11][k] = r.owner();
            num[4][k] = Times.nanos(r.leaseUntil(), "leaseUntil");
            num[5][k] = r.epoch();
        }
        Set<String> inserted = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(insertTasks)) {
            int p = 1;
            for (int col = 0; col < 7; col++) {
                ps.setArray(p++, c.createArrayOf("text", text[col]));
            }
            ps.setArray(p++, c.createArrayOf("int8", num[0]));
            ps.setArray(p++, c.createArrayOf("int8", num[1]));
            ps.setArray(p++, c.createArrayOf("int8", num[2]));
            for (int col = 7; col < 11; col++) {
                ps.setArray(p++, c.createArrayOf("text", text[col]));
            }
            ps.setArray(p++, c.createArrayOf("int8", num[3]));
            ps.setArray(p++, c.createArrayOf("text", text[11]));
            ps.setArray(p++, c.createArrayOf("int8", num[4]));
            ps.setArray(p, c.createArrayOf("int8", num[5]));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    inserted.add(rs.getString(1));
                }
            }
        }
        if (inserted.size() < n) {
            Set<String> seen = new HashSet<>();
            for (StoreOp op : run) {
                String id = op.taskId();
                if (!inserted.contains(id) || !seen.add(id)) {
                    throw new StoreConflictException(id, "task already exists: " + id);
                }
            }
        }
    }

    private void updateTasks(Connection c, List<StoreOp> run) throws SQLException {
        int[] counts;
        try (PreparedStatement ps = c.prepareStatement(updateTask)) {
            for (StoreOp op : run) {
                StoreOp.UpdateTask u = (StoreOp.UpdateTask) op;
                TaskRecord r = u.record();
                Task t = r.task();
                ps.setString(1, t.sessionId());
                ps.setString(2, t.status().name());
                Times.setNanos(ps, 3, t.startedAt(), "startedAt");
                Times.setNanos(ps, 4, t.completedAt(), "completedAt");
                ps.setString(5, t.error());
                ps.setString(6, r.owner());
                Times.setNanos(ps, 7, r.leaseUntil(), "leaseUntil");
                ps.setString(8, t.id());
                ps.setString(9, u.expected().name());
                ps.addBatch();
            }
            counts = ps.executeBatch();
        }
        for (int k = 0; k < counts.length; k++) {
            if (counts[k] == 0) {
                StoreOp.UpdateTask u = (StoreOp.UpdateTask) run.get(k);
                String id = u.taskId();
                String status = status(c, id);
                throw new StoreConflictException(id, status == null ? "no such task: " + id
                        : "task " + id + " is " + status + ", expected " + u.expected());
            }
        }
    }

    /** @return the transaction id, or null if no row was written */
    private String appendEvents(Connection c, List<StoreOp> run) throws SQLException {
        int n = run.size();
        String[] ids = new String[n];
        Long[] seqs = new Long[n];
        String[] types = new String[n];
        String[] data = new String[n];
        Long[] ts = new Long[n];
        for (int k = 0; k < n; k++) {
            TaskEvent ev = ((StoreOp.AppendEvent) run.get(k)).event();
            ids[k] = ev.taskId();
            seqs[k] = ev.seq();
            types[k] = ev.type();
            // the engine encodes event data on the emitting thread; use it rather than encoding here
            data[k] = ev.data() instanceof JsonEncoded ? ((JsonEncoded) ev.data()).json() : Json.write(ev.data());
            ts[k] = Times.toNanos(ev.timestamp(), "event timestamp");
        }
        Set<String> written = new HashSet<>();
        String xid = null;
        try (PreparedStatement ps = c.prepareStatement(appendEvents)) {
            ps.setArray(1, c.createArrayOf("text", ids));
            ps.setArray(2, c.createArrayOf("int8", seqs));
            ps.setArray(3, c.createArrayOf("text", types));
            ps.setArray(4, c.createArrayOf("text", data));
            ps.setArray(5, c.createArrayOf("int8", ts));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    written.add(rs.getString(1) + '\u0000' + rs.getLong(2));
                    xid = rs.getString(3);
                }
            }
        } catch (SQLException e) {
            if (SqlStates.FOREIGN_KEY_VIOLATION.equals(SqlStates.state(e))) {
                // an event of a task that does not exist (or was deleted by another connection meanwhile)
                throw missingTask(c, run, e);
            }
            throw e;
        }
        if (written.size() == n) {
            return xid;
        }
        Set<String> existing = existing(c, ids);
        Set<String> seen = new HashSet<>();
        for (StoreOp op : run) {
            TaskEvent ev = ((StoreOp.AppendEvent) op).event();
            String key = ev.taskId() + '\u0000' + ev.seq();
            if (!existing.contains(ev.taskId())) {
                throw new StoreConflictException(ev.taskId(), "no such task: " + ev.taskId());
            }
            if (!written.contains(key) || !seen.add(key)) {
                throw new StoreConflictException(ev.taskId(), "event seq " + ev.seq() + " of task " + ev.taskId()
                        + " already exists");
            }
        }
        throw new TaskStoreException("PostgreSQL store " + schema + ": " + (n - written.size())
                + " events of the batch were not written, for no reason found");
    }

    private void addMessages(Connection c, List<StoreOp> run) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(addMessage)) {
            for (StoreOp op : run) {
                PendingMessage m = ((StoreOp.AddMessage) op).message();
                ps.setString(1, m.taskId());
                ps.setString(2, m.messageId());
                ps.setString(3, Json.writeMessage(m.message()));
                ps.setLong(4, Times.toNanos(m.createdAt(), "message createdAt"));
                ps.addBatch();
            }
            ps.executeBatch();
        } catch (SQLException e) {
            if (SqlStates.FOREIGN_KEY_VIOLATION.equals(SqlStates.state(e))) {
                throw missingTask(null, run, e);
            }
            throw e;
        }
    }

    private void removeMessages(Connection c, List<StoreOp> run) throws SQLException {
        int[] counts;
        try (PreparedStatement ps = c.prepareStatement(removeMessage)) {
            for (StoreOp op : run) {
                StoreOp.RemoveMessage r = (StoreOp.RemoveMessage) op;
                ps.setString(1, r.taskId());
                ps.setString(2, r.messageId());
                ps.addBatch();
            }
            counts = ps.executeBatch();
        }
        for (int k = 0; k < counts.length; k++) {
            if (counts[k] == 0) {
                String id = run.get(k).taskId();
                if (status(c, id) == null) {
                    throw new StoreConflictException(id, "no such task: " + id);
                }
            }
        }
    }

    /**
     * The conflict for a foreign-key violation: the first op whose task does not exist, looked up on {@code c}
     * (or, after the transaction was aborted, on a new connection; tasks inserted by the batch then count as
     * missing, which only affects which id the message names).
     */
    private StoreConflictException missingTask(Connection c, List<StoreOp> run, SQLException cause) {
        String[] ids = run.stream().map(StoreOp::taskId).distinct().toArray(String[]::new);
        Set<String> existing = Set.of();
        try (Connection fresh = dataSource.getConnection()) {
            existing = existing(fresh, ids);
        } catch (SQLException e) {
            cause.addSuppressed(e);
        }
        String id = ids[0];
        for (String candidate : ids) {
            if (!existing.contains(candidate)) {
                id = candidate;
                break;
            }
        }
        StoreConflictException conflict = new StoreConflictException(id, "no such task: " + id);
        conflict.initCause(cause);
        return conflict;
    }

    private Set<String> existing(Connection c, String[] ids) throws SQLException {
        Set<String> out = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(existingTasks)) {
            ps.setArray(1, c.createArrayOf("text", new LinkedHashSet<>(List.of(ids)).toArray(new String[0])));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private String status(Connection c, String taskId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(taskStatus)) {
            ps.setString(1, taskId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
