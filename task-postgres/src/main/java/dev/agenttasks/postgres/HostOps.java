package dev.agenttasks.postgres;

import dev.agenttasks.spi.DuplicateKeyException;
import dev.agenttasks.spi.IdempotencyKey;
import dev.agenttasks.spi.RemoteRequest;
import dev.agenttasks.spi.StoreConflictException;
import dev.agenttasks.spi.StoreOp;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The multi-host ops of a write batch, inside the batch's transaction: {@link StoreOp.Fence} (one statement per
 * run: the rows are locked {@code FOR UPDATE} in id order, so a concurrent claim or takeover waits for the commit
 * and two batches never deadlock on them), {@link StoreOp.AddRequest} and {@link StoreOp.RemoveRequest} (one
 * pipelined JDBC batch each), {@link StoreOp.PutKey} (one multi-row {@code INSERT … ON CONFLICT DO NOTHING}).
 */
final class HostOps {

    private final String fence;
    private final String withMessages;
    private final String addRequest;
    private final String removeRequest;
    private final String putKeys;

    HostOps(String schema) {
        String s = '"' + schema + '"';
        this.fence = "SELECT t.id, t.owner, t.epoch, EXISTS (SELECT 1 FROM " + s + ".messages m WHERE m.task_id = t.id) "
                + "FROM " + s + ".tasks t WHERE t.id = ANY (?::text[]) ORDER BY t.id FOR UPDATE OF t";
        this.withMessages = "SELECT DISTINCT task_id FROM " + s + ".messages WHERE task_id = ANY (?::text[])";
        this.addRequest = "INSERT INTO " + s + ".requests (request_id, task_id, kind, created_at) VALUES (?, ?, ?, ?)";
        this.removeRequest = "DELETE FROM " + s + ".requests WHERE task_id = ? AND request_id = ?";
        this.putKeys = "INSERT INTO " + s + ".idempotency_keys (key, task_id, fingerprint, outcome, created_at) "
                + "SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::int8[]) "
                + "ON CONFLICT (key) DO NOTHING RETURNING key";
    }

    /** Locks the fenced rows and checks owner, epoch and (where asked) no pending message. */
    void fences(Connection c, List<StoreOp> run) throws SQLException {
        Set<String> ids = new TreeSet<>();
        for (StoreOp op : run) {
            ids.add(op.taskId());
        }
        Map<String, Object[]> rows = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(fence)) {
            ps.setArray(1, c.createArrayOf("text", ids.toArray(new String[0])));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.put(rs.getString(1), new Object[] {rs.getString(2), rs.getLong(3), rs.getBoolean(4)});
                }
            }
        }
        Set<String> checked = new TreeSet<>();
        for (StoreOp op : run) {
            if (((StoreOp.Fence) op).noPendingMessages()) {
                checked.add(op.taskId());
            }
        }
        if (!checked.isEmpty()) {
            // read again in a statement of its own, after the rows are locked: under READ COMMITTED the locking
            // statement's snapshot may predate a message whose writer held the row lock (its fence) until it
            // committed; a new statement sees that message
            try (PreparedStatement ps = c.prepareStatement(withMessages)) {
                ps.setArray(1, c.createArrayOf("text", checked.toArray(new String[0])));
                Set<String> pending = new HashSet<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        pending.add(rs.getString(1));
                    }
                }
                for (String id : checked) {
                    Object[] row = rows.get(id);
                    if (row != null) {
                        row[2] = pending.contains(id);
                    }
                }
            }
        }
        for (StoreOp op : run) {
            StoreOp.Fence f = (StoreOp.Fence) op;
            Object[] row = rows.get(f.taskId());
            if (row == null) {
                throw new StoreConflictException(f.taskId(), "no such task: " + f.taskId());
            }
            if (!Objects.equals(row[0], f.owner()) || (Long) row[1] != f.epoch()) {
                throw new StoreConflictException(f.taskId(), "task " + f.taskId() + " is held by " + row[0]
                        + " at epoch " + row[1] + ", not by " + f.owner() + " at epoch " + f.epoch());
            }
            if (f.noPendingMessages() && (Boolean) row[2]) {
                throw new StoreConflictException(f.taskId(), "task " + f.taskId() + " has a pending message");
            }
        }
    }

    void addRequests(Connection c, List<StoreOp> run) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(addRequest)) {
            for (StoreOp op : run) {
                RemoteRequest r = ((StoreOp.AddRequest) op).request();
                ps.setString(1, r.requestId());
                ps.setString(2, r.taskId());
                ps.setString(3, r.kind().name());
                ps.setLong(4, Times.toNanos(r.createdAt(), "request createdAt"));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    void removeRequests(Connection c, List<StoreOp> run) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(removeRequest)) {
            for (StoreOp op : run) {
                StoreOp.RemoveRequest r = (StoreOp.RemoveRequest) op;
                ps.setString(1, r.taskId());
                ps.setString(2, r.requestId());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** @throws DuplicateKeyException if a key exists (or is twice in the run) */
    void putKeys(Connection c, List<StoreOp> run) throws SQLException {
        int n = run.size();
        String[] keys = new String[n];
        String[] tasks = new String[n];
        String[] fingerprints = new String[n];
        String[] outcomes = new String[n];
        Long[] created = new Long[n];
        for (int k = 0; k < n; k++) {
            IdempotencyKey key = ((StoreOp.PutKey) run.get(k)).key();
            keys[k] = key.key();
            tasks[k] = key.taskId();
            fingerprints[k] = key.fingerprint();
            outcomes[k] = key.outcome();
            created[k] = Times.toNanos(key.createdAt(), "key createdAt");
        }
        Set<String> inserted = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(putKeys)) {
            ps.setArray(1, c.createArrayOf("text", keys));
            ps.setArray(2, c.createArrayOf("text", tasks));
            ps.setArray(3, c.createArrayOf("text", fingerprints));
            ps.setArray(4, c.createArrayOf("text", outcomes));
            ps.setArray(5, c.createArrayOf("int8", created));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    inserted.add(rs.getString(1));
                }
            }
        }
        if (inserted.size() < n) {
            Set<String> seen = new HashSet<>();
            for (StoreOp op : run) {
                IdempotencyKey key = ((StoreOp.PutKey) op).key();
                if (!inserted.contains(key.key()) || !seen.add(key.key())) {
                    throw new DuplicateKeyException(key.taskId(), key.key());
                }
            }
        }
    }
}
