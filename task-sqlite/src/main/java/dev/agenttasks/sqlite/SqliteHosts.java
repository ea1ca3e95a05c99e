package dev.agenttasks.sqlite;

import dev.agenttasks.spi.DuplicateKeyException;
import dev.agenttasks.spi.IdempotencyKey;
import dev.agenttasks.spi.RemoteRequest;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The multi-host part of {@link SqliteTaskStore} (schema version 3): heartbeats, orphans, claims,
 * takeovers, fences, requests and idempotency keys. Every write runs in the store's
 * {@code BEGIN IMMEDIATE} transaction, which serialises writers across processes, so a claim or a fence
 * needs no row lock: nothing can change the row between its read and the commit.
 */
final class SqliteHosts {
    static final String HEARTBEAT = "INSERT INTO hosts (id, heartbeat_at, started_at) VALUES (?, ?, ?) "
            + "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at";
    static final String REMOVE_HOST = "DELETE FROM hosts WHERE id = ?";
    static final String QUEUED = "SELECT id FROM tasks WHERE status = 'PENDING' AND owner IS NULL "
            + "ORDER BY created_at, id LIMIT ?";
    static final String SET_OWNER = "UPDATE tasks SET owner = ?, epoch = epoch + 1 WHERE id = ?";
    static final String CAS_OWNER = "UPDATE tasks SET owner = ?, epoch = epoch + 1 WHERE id = ? AND owner IS ? "
            + "AND epoch = ?";
    static final String FENCE = "SELECT owner, epoch FROM tasks WHERE id = ?";
    static final String FENCE_NO_MESSAGES = "SELECT t.owner, t.epoch, EXISTS (SELECT 1 FROM messages m "
            + "WHERE m.task_id = t.id) FROM tasks t WHERE t.id = ?";
    static final String ADD_REQUEST = "INSERT INTO requests (task_id, request_id, kind, created_at) VALUES (?, ?, ?, ?)";
    static final String REMOVE_REQUEST = "DELETE FROM requests WHERE task_id = ? AND request_id = ?";
    static final String REQUESTS = "SELECT r.request_id, r.task_id, r.kind, r.created_at FROM requests r "
            + "JOIN tasks t ON t.id = r.task_id WHERE t.owner = ? ORDER BY r.id LIMIT ?";
    static final String PUT_KEY = "INSERT INTO idempotency_keys (key, task_id, fingerprint, outcome, created_at) "
            + "VALUES (?, ?, ?, ?, ?)";
    static final String READ_TASK = SqliteTaskStore.SELECT_TASK_SQL + " WHERE t.id = ?";
    static final String KEY = "SELECT key, task_id, fingerprint, outcome, created_at FROM idempotency_keys WHERE key = ?";

    private final SqliteTaskStore store;
    /** Statements prepared once on the writer connection (used under the store's write lock only). */
    private final java.util.Map<String, PreparedStatement> prepared = new java.util.HashMap<>();

    SqliteHosts(SqliteTaskStore store) {
        this.store = store;
    }

    private PreparedStatement writerStatement(Connection c, String sql) throws SQLException {
        PreparedStatement ps = prepared.get(sql);
        if (ps == null || ps.isClosed() || ps.getConnection() != c) {
            ps = c.prepareStatement(sql);
            prepared.put(sql, ps);
        }
        return ps;
    }

    static boolean handles(StoreOp op) {
        return op instanceof StoreOp.Fence || op instanceof StoreOp.AddRequest || op instanceof StoreOp.RemoveRequest
                || op instanceof StoreOp.PutKey;
    }

    /** Applies a run of ops of one of the kinds {@link #handles} accepts, inside the write transaction. */
    void apply(Connection c, List<StoreOp> run) throws SQLException {
        for (StoreOp op : run) {
            if (op instanceof StoreOp.Fence) {
                fence(c, (StoreOp.Fence) op);
            } else if (op instanceof StoreOp.AddRequest) {
                RemoteRequest r = ((StoreOp.AddRequest) op).request();
                try {
                    PreparedStatement ps = writerStatement(c, ADD_REQUEST);
                    ps.setString(1, r.taskId());
                    ps.setString(2, r.requestId());
                    ps.setString(3, r.kind().name());
                    ps.setLong(4, Times.toNanos(r.createdAt(), "request createdAt"));
                    ps.executeUpdate();
                } catch (SQLException e) {
                    throw missingTask(e, r.taskId());
                }
            } else if (op instanceof StoreOp.RemoveRequest) {
                PreparedStatement ps = writerStatement(c, REMOVE_REQUEST);
                ps.setString(1, op.taskId());
                ps.setString(2, ((StoreOp.RemoveRequest) op).requestId());
                ps.executeUpdate();
            } else {
                IdempotencyKey k = ((StoreOp.PutKey) op).key();
                try {
                    PreparedStatement ps = writerStatement(c, PUT_KEY);
                    ps.setString(1, k.key());
                    ps.setString(2, k.taskId());
                    ps.setString(3, k.fingerprint());
                    ps.setString(4, k.outcome());
                    ps.setLong(5, Times.toNanos(k.createdAt(), "key createdAt"));
                    ps.executeUpdate();
                } catch (SQLException e) {
                    if (code(e) == SQLiteErrorCode.SQLITE_CONSTRAINT_PRIMARYKEY) {
                        throw new DuplicateKeyException(k.taskId(), k.key());
                    }
                    throw missingTask(e, k.taskId());
                }
            }
        }
    }

    private void fence(Connection c, StoreOp.Fence f) throws SQLException {
        PreparedStatement ps = writerStatement(c, f.noPendingMessages() ? FENCE_NO_MESSAGES : FENCE);
        ps.setString(1, f.taskId());
        {
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new StoreConflictException(f.taskId(), "no such task: " + f.taskId());
                }
                String owner = rs.getString(1);
                long epoch = rs.getLong(2);
                if (!Objects.equals(owner, f.owner()) || epoch != f.epoch()) {
                    throw new StoreConflictException(f.taskId(), "task " + f.taskId() + " is held by " + owner + " epoch "
                            + epoch + ", not by " + f.owner() + " epoch " + f.epoch());
                }
                if (f.noPendingMessages() && rs.getBoolean(3)) {
                    throw new StoreConflictException(f.taskId(), "task " + f.taskId() + " has pending messages");
                }
            }
        }
    }

    private static SQLiteErrorCode code(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLiteException) {
                return ((SQLiteException) t).getResultCode();
            }
        }
        return null;
    }

    private static SQLException missingTask(SQLException e, String taskId) {
        if (code(e) == SQLiteErrorCode.SQLITE_CONSTRAINT_FOREIGNKEY) {
            throw new StoreConflictException(taskId, "no such task: " + taskId);
        }
        return e;
    }

    void heartbeat(String hostId, Instant now) {
        Objects.requireNonNull(hostId, "hostId");
        long t = Times.toNanos(now, "heartbeat");
        store.writeTransaction("heartbeat of host " + hostId, c -> {
            try (PreparedStatement ps = c.prepareStatement(HEARTBEAT)) {
                ps.setString(1, hostId);
                ps.setLong(2, t);
                ps.setLong(3, t);
                return ps.executeUpdate();
            }
        });
    }

    void removeHost(String hostId) {
        store.writeTransaction("removal of host " + hostId, c -> {
            try (PreparedStatement ps = c.prepareStatement(REMOVE_HOST)) {
                ps.setString(1, hostId);
                return ps.executeUpdate();
            }
        });
    }

    List<TaskRecord> orphans(Instant heartbeatBefore, int limit) {
        long cutoff = Times.toNanos(heartbeatBefore, "heartbeatBefore");
        return store.read("orphan query", r -> {
            PreparedStatement ps = r.prepare(SqliteTaskStore.SELECT_TASK_SQL + " LEFT JOIN hosts h ON h.id = t.owner "
                    + "WHERE t.owner IS NOT NULL AND t.status IN ('PENDING', 'RUNNING') "
                    + "AND (h.id IS NULL OR h.heartbeat_at < ?) ORDER BY t.created_at, t.id LIMIT ?");
            ps.setLong(1, cutoff);
            ps.setInt(2, limit);
            return records(ps);
        });
    }

    List<TaskRecord> claim(String hostId, int max) {
        Objects.requireNonNull(hostId, "hostId");
        if (max < 1) {
            return List.of();
        }
        return store.writeTransaction("claim by host " + hostId, c -> {
            // statements prepared once: a claim runs under the write lock, for about every queued task
            List<String> ids = new ArrayList<>();
            PreparedStatement queued = writerStatement(c, QUEUED);
            queued.setInt(1, max);
            try (ResultSet rs = queued.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            List<TaskRecord> out = new ArrayList<>(ids.size());
            PreparedStatement setOwner = writerStatement(c, SET_OWNER);
            for (String id : ids) {
                setOwner.setString(1, hostId);
                setOwner.setString(2, id);
                setOwner.executeUpdate();
                readTask(c, id).ifPresent(out::add);
            }
            return out;
        });
    }

    Optional<TaskRecord> takeOver(String taskId, String expectedOwner, long expectedEpoch, String newOwner) {
        return store.writeTransaction("takeover of task " + taskId, c -> {
            try (PreparedStatement ps = c.prepareStatement(CAS_OWNER)) {
                ps.setString(1, newOwner);
                ps.setString(2, taskId);
                ps.setString(3, expectedOwner);
                ps.setLong(4, expectedEpoch);
                if (ps.executeUpdate() == 0) {
                    return Optional.<TaskRecord>empty();
                }
            }
            return readTask(c, taskId);
        });
    }

    List<RemoteRequest> requests(String hostId, int limit) {
        return store.read("request query", r -> {
            PreparedStatement ps = r.prepare(REQUESTS);
            ps.setString(1, hostId);
            ps.setInt(2, limit);
            List<RemoteRequest> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new RemoteRequest(rs.getString(1), rs.getString(2), RemoteRequest.Kind.valueOf(rs.getString(3)),
                            Times.fromNanos(rs.getLong(4))));
                }
            }
            return out;
        });
    }

    Optional<IdempotencyKey> key(String key) {
        return store.read("idempotency key query", r -> {
            PreparedStatement ps = r.prepare(KEY);
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new IdempotencyKey(rs.getString(1), rs.getString(2), rs.getString(3),
                        rs.getString(4), Times.fromNanos(rs.getLong(5)))) : Optional.empty();
            }
        });
    }

    private Optional<TaskRecord> readTask(Connection c, String id) throws SQLException {
        PreparedStatement ps = writerStatement(c, READ_TASK);
        ps.setString(1, id);
        List<TaskRecord> r = records(ps);
        return r.isEmpty() ? Optional.empty() : Optional.of(r.get(0));
    }

    private static List<TaskRecord> records(PreparedStatement ps) throws SQLException {
        List<TaskRecord> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(SqliteTaskStore.taskRecord(rs));
            }
        }
        return out;
    }
}
