package dev.agenttasks.postgres;

import dev.agenttasks.spi.IdempotencyKey;
import dev.agenttasks.spi.RemoteRequest;
import dev.agenttasks.spi.TaskRecord;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The PostgreSQL side of the multi-host protocol's reads and single-statement writes (docs/multi-host.md):
 * heartbeats, dead hosts' tasks, claims ({@code FOR UPDATE SKIP LOCKED}), takeovers (compare-and-set of owner
 * and epoch, waiting for a fenced batch that holds the row), requests and idempotency keys. Each call is one
 * statement in auto-commit mode on a connection of the store.
 */
final class Claims {

    private final PostgresTaskStore store;
    private final String heartbeat;
    private final String removeHost;
    private final String orphans;
    private final String claim;
    private final String takeOver;
    private final String release;
    private final String requests;
    private final String idempotencyKey;

    Claims(PostgresTaskStore store, String schema) {
        this.store = store;
        String s = '"' + schema + '"';
        this.heartbeat = "INSERT INTO " + s + ".hosts (id, heartbeat_at) VALUES (?, ?) ON CONFLICT (id) DO UPDATE "
                + "SET heartbeat_at = excluded.heartbeat_at";
        this.removeHost = "DELETE FROM " + s + ".hosts WHERE id = ?";
        this.orphans = TaskRows.selectTask(s) + " WHERE t.owner IS NOT NULL AND t.status IN ('PENDING', "
                + "'RUNNING') AND NOT EXISTS (SELECT 1 FROM " + s + ".hosts h WHERE h.id = t.owner AND "
                + "h.heartbeat_at >= ?) ORDER BY t.created_at, t.id LIMIT ?";
        // lock-and-fetch: the oldest unclaimed PENDING tasks no other claim holds, then owner and epoch in one
        // statement; a row another transaction locked is skipped, not waited for
        // (ARRAY(subquery) runs the locking subquery once, as an init plan; joined as a FROM item it may be
        // evaluated again and lock more than LIMIT rows)
        this.claim = "UPDATE " + s + ".tasks t SET owner = ?, epoch = t.epoch + 1 WHERE t.id = ANY (ARRAY(SELECT id "
                + "FROM " + s + ".tasks WHERE status = 'PENDING' AND owner IS NULL ORDER BY created_at, id LIMIT ? "
                + "FOR UPDATE SKIP LOCKED)) AND t.status = 'PENDING' AND t.owner IS NULL "
                + "RETURNING " + TaskRows.taskColumns(s);
        this.takeOver = "UPDATE " + s + ".tasks t SET owner = ?, epoch = t.epoch + 1 WHERE t.id = ? "
                + "AND t.owner IS NOT DISTINCT FROM ? AND t.epoch = ? RETURNING " + TaskRows.taskColumns(s);
        // a release (no new owner) is for queued tasks only: a task that started running since the caller read it
        // keeps its owner (an unowned RUNNING task would never be taken over), and the next sweep sees it running
        this.release = "UPDATE " + s + ".tasks t SET owner = ?, epoch = t.epoch + 1 WHERE t.id = ? "
                + "AND t.owner IS NOT DISTINCT FROM ? AND t.epoch = ? AND t.status = 'PENDING' RETURNING "
                + TaskRows.taskColumns(s);
        this.requests = "SELECT r.request_id, r.task_id, r.kind, r.created_at FROM " + s + ".requests r JOIN " + s
                + ".tasks t ON t.id = r.task_id WHERE t.owner = ? ORDER BY r.seq LIMIT ?";
        this.idempotencyKey = "SELECT key, task_id, fingerprint, outcome, created_at FROM " + s
                + ".idempotency_keys WHERE key = ?";
    }

    void heartbeat(String hostId, Instant now) {
        store.call("heartbeat of host " + hostId, true, c -> {
            try (PreparedStatement ps = c.prepareStatement(heartbeat)) {
                ps.setString(1, hostId);
                ps.setLong(2, Times.toNanos(now, "heartbeat"));
                return ps.executeUpdate();
            }
        });
    }

    void removeHost(String hostId) {
        store.call("removal of host " + hostId, true, c -> {
            try (PreparedStatement ps = c.prepareStatement(removeHost)) {
                ps.setString(1, hostId);
                return ps.executeUpdate();
            }
        });
    }

    List<TaskRecord> orphans(Instant heartbeatBefore, int limit) {
        if (limit < 1) {
            return List.of();
        }
        return store.call("search for tasks of dead hosts", true, c -> {
            try (PreparedStatement ps = c.prepareStatement(orphans)) {
                ps.setLong(1, Times.clampedNanos(heartbeatBefore));
                ps.setInt(2, limit);
                return records(ps);
            }
        });
    }

    List<TaskRecord> claim(String hostId, int max) {
        if (max < 1) {
            return List.of();
        }
        List<TaskRecord> claimed = store.call("claim of queued tasks by host " + hostId, true, c -> {
            try (PreparedStatement ps = c.prepareStatement(claim)) {
                ps.setString(1, hostId);
                ps.setInt(2, max);
                return records(ps);
            }
        });
        // RETURNING gives no order
        claimed.sort(Comparator.comparing((TaskRecord r) -> r.task().createdAt()).thenComparing(TaskRecord::id));
        return claimed;
    }

    Optional<TaskRecord> takeOver(String taskId, String expectedOwner, long expectedEpoch, String newOwner) {
        List<TaskRecord> out = store.call("takeover of task " + taskId, true, c -> {
            try (PreparedStatement ps = c.prepareStatement(newOwner == null ? release : takeOver)) {
                if (newOwner == null) {
                    ps.setNull(1, Types.VARCHAR);
                } else {
                    ps.setString(1, newOwner);
                }
                ps.setString(2, taskId);
                if (expectedOwner == null) {
                    ps.setNull(3, Types.VARCHAR);
                } else {
                    ps.setString(3, expectedOwner);
                }
                ps.setLong(4, expectedEpoch);
                return records(ps);
            }
        });
        return out.isEmpty() ? Optional.empty() : Optional.of(out.get(0));
    }

    List<RemoteRequest> requests(String hostId, int limit) {
        if (limit < 1) {
            return List.of();
        }
        return store.call("read of the requests for host " + hostId, true, c -> {
            try (PreparedStatement ps = c.prepareStatement(requests)) {
                ps.setString(1, hostId);
                ps.setInt(2, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    List<RemoteRequest> out = new ArrayList<>();
                    while (rs.next()) {
                        out.add(new RemoteRequest(rs.getString(1), rs.getString(2),
                                RemoteRequest.Kind.valueOf(rs.getString(3)), Times.fromNanos(rs.getLong(4))));
                    }
                    return List.copyOf(out);
                }
            }
        });
    }

    Optional<IdempotencyKey> idempotencyKey(String key) {
        return store.call("read of an idempotency key", true, c -> {
            try (PreparedStatement ps = c.prepareStatement(idempotencyKey)) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    return Optional.of(new IdempotencyKey(rs.getString(1), rs.getString(2), rs.getString(3),
                            rs.getString(4), Times.fromNanos(rs.getLong(5))));
                }
            }
        });
    }

    private static List<TaskRecord> records(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            List<TaskRecord> out = new ArrayList<>();
            while (rs.next()) {
                out.add(TaskRows.taskRecord(rs));
            }
            return out;
        }
    }
}
