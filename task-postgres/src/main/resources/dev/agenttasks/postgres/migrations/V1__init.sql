-- agent-tasks PostgreSQL schema, version 1. Applied with search_path set to the store's schema.
-- Times are epoch nanoseconds (bigint), so an Instant round-trips exactly and orders correctly.
-- Ids compare in code-point order (COLLATE "C"), as in the other stores, whatever the database's locale.
-- JSON columns hold the text the store's Jackson mapper writes (see PostgresTaskStore for why text).

CREATE TABLE tasks (
    id             text COLLATE "C" NOT NULL PRIMARY KEY,
    agent_id       text    NOT NULL,
    session_id     text,
    status         text    NOT NULL,
    title          text    NOT NULL,
    title_lower    text    NOT NULL,
    model          text,
    created_at     bigint  NOT NULL,
    started_at     bigint,
    completed_at   bigint,
    error          text,
    work_dir       text,
    metadata       text    NOT NULL,
    options        text    NOT NULL,
    timeout_millis bigint  NOT NULL,
    -- several hosts on one database: the host running the task, until when its claim holds, and a fencing
    -- token the claiming host increments (a host whose epoch is stale may no longer write for the task)
    owner          text,
    lease_until    bigint,
    epoch          bigint  NOT NULL DEFAULT 0
);

-- newest-first listing and cursor paging
CREATE INDEX tasks_created_idx ON tasks (created_at, id);
-- claiming and recovery: tasks of a status in creation order (FOR UPDATE SKIP LOCKED scans this)
CREATE INDEX tasks_status_idx ON tasks (status, created_at, id);
CREATE INDEX tasks_agent_idx ON tasks (agent_id, created_at, id);
-- retention
CREATE INDEX tasks_completed_idx ON tasks (completed_at) WHERE completed_at IS NOT NULL;
-- a dead host's tasks
CREATE INDEX tasks_owner_idx ON tasks (owner, lease_until) WHERE owner IS NOT NULL;

CREATE TABLE events (
    task_id text COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq     bigint NOT NULL,
    type    text   NOT NULL,
    data    text   NOT NULL,
    ts      bigint NOT NULL,
    PRIMARY KEY (task_id, seq)
);

CREATE TABLE messages (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id    text COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    message_id text   NOT NULL,
    message    text,
    created_at bigint NOT NULL
);

CREATE INDEX messages_task_idx ON messages (task_id, message_id);
