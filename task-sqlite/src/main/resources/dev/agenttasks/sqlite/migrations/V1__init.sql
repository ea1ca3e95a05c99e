-- agent-tasks SQLite schema, version 1.
-- Times are epoch nanoseconds (INTEGER), so an Instant round-trips exactly.
-- JSON columns hold text written by the store's Jackson mapper.

CREATE TABLE tasks (
    id             TEXT    NOT NULL PRIMARY KEY,
    agent_id       TEXT    NOT NULL,
    session_id     TEXT,
    status         TEXT    NOT NULL,
    title          TEXT    NOT NULL,
    title_lower    TEXT    NOT NULL,
    model          TEXT,
    created_at     INTEGER NOT NULL,
    started_at     INTEGER,
    completed_at   INTEGER,
    error          TEXT,
    work_dir       TEXT,
    metadata       TEXT    NOT NULL,
    options        TEXT    NOT NULL,
    timeout_millis INTEGER NOT NULL,
    owner          TEXT,
    lease_until    INTEGER
);

CREATE INDEX idx_tasks_created ON tasks (created_at, id);
CREATE INDEX idx_tasks_status ON tasks (status, created_at, id);
CREATE INDEX idx_tasks_agent ON tasks (agent_id, created_at, id);
CREATE INDEX idx_tasks_completed ON tasks (completed_at) WHERE completed_at IS NOT NULL;

CREATE TABLE events (
    task_id TEXT    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    type    TEXT    NOT NULL,
    data    TEXT    NOT NULL,
    ts      INTEGER NOT NULL,
    PRIMARY KEY (task_id, seq)
) WITHOUT ROWID;

CREATE TABLE messages (
    id         INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    task_id    TEXT    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    message_id TEXT    NOT NULL,
    message    TEXT,
    created_at INTEGER NOT NULL
);

CREATE INDEX idx_messages_task ON messages (task_id, message_id);
