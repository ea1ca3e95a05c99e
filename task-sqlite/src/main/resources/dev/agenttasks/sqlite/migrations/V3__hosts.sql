-- agent-tasks SQLite schema, version 3: several hosts (processes) on one file (docs/multi-host.md).
-- tasks.epoch is the fencing token, incremented by every claim and takeover; hosts holds each
-- manager's heartbeat; requests holds cancel/delete/message requests to a task's owner; idempotency_keys
-- holds the keys of creates and messages. Requests and keys go with their task.

ALTER TABLE tasks ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;

CREATE INDEX idx_tasks_owner ON tasks (owner) WHERE owner IS NOT NULL;

CREATE TABLE hosts (
    id           TEXT    NOT NULL PRIMARY KEY,
    heartbeat_at INTEGER NOT NULL,
    started_at   INTEGER NOT NULL
);

CREATE TABLE requests (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    task_id    TEXT    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    request_id TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX idx_requests_task ON requests (task_id);

CREATE TABLE idempotency_keys (
    key         TEXT    NOT NULL PRIMARY KEY,
    task_id     TEXT    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    fingerprint TEXT    NOT NULL,
    outcome     TEXT,
    created_at  INTEGER NOT NULL
);

CREATE INDEX idx_idempotency_keys_task ON idempotency_keys (task_id);
