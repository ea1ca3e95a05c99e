-- agent-tasks SQLite schema, version 2: compact event rows, a maintained count per status and a
-- trigram index of the titles. The store runs this with foreign keys off (the tables are rebuilt)
-- and checks them before it commits.
--
-- 1. tasks get an integer key `pk` (a rowid alias, stable across VACUUM); `id` stays the public key.
-- 2. events become a rowid table whose integer key is the task's pk and the seq in one number,
--    id = pk * 2^32 + seq: a task's events are one key range, in seq order, with no second index
--    and no task id repeated in every row. Version 1 kept them in a WITHOUT ROWID table, whose rows
--    spill to an overflow page beyond ~1 KB on 4 KB pages, leaving most of that page empty (4.3x the
--    event data for 1 KB events); a rowid table keeps rows up to a page inline and fills overflow
--    pages whole. The store also writes new files with 32 KB pages (rows up to 10 KB share pages);
--    events of a deleted task go with it through the trigger tasks_events_delete.
-- 3. task_counts holds the number of tasks per status, kept by triggers: counting is O(statuses).
-- 4. tasks_title indexes title_lower with the trigram tokenizer (case-sensitive: the store lower-cases
--    titles and queries itself), so a title substring search of 3 or more characters is an index read.
--    created_hw, the highest created_at of this task and every task of a lower pk (kept by the trigger
--    tasks_hw_insert; it never decreases along pk), lets the store read the matches newest first
--    without sorting them all: no task below the first pk whose created_hw reaches a created_at can be
--    newer than it.

CREATE TABLE tasks_v2 (
    pk             INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
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
    lease_until    INTEGER,
    created_hw     INTEGER
);

-- in creation order, so each task's created_hw is its own created_at
INSERT INTO tasks_v2 (id, agent_id, session_id, status, title, title_lower, model, created_at, started_at,
                      completed_at, error, work_dir, metadata, options, timeout_millis, owner, lease_until,
                      created_hw)
SELECT id, agent_id, session_id, status, title, title_lower, model, created_at, started_at,
       completed_at, error, work_dir, metadata, options, timeout_millis, owner, lease_until, created_at
FROM tasks ORDER BY created_at, id;

CREATE TABLE events_v2 (
    id   INTEGER PRIMARY KEY,
    type TEXT    NOT NULL,
    data TEXT    NOT NULL,
    ts   INTEGER NOT NULL
);

INSERT INTO events_v2 (id, type, data, ts)
SELECT t.pk * 4294967296 + e.seq, e.type, e.data, e.ts FROM events e JOIN tasks_v2 t ON t.id = e.task_id
ORDER BY t.pk, e.seq;

DROP TABLE events;
DROP TABLE tasks;
ALTER TABLE tasks_v2 RENAME TO tasks;
ALTER TABLE events_v2 RENAME TO events;

CREATE INDEX idx_tasks_created ON tasks (created_at, id);
CREATE INDEX idx_tasks_status ON tasks (status, created_at, id);
CREATE INDEX idx_tasks_agent ON tasks (agent_id, created_at, id);
CREATE INDEX idx_tasks_completed ON tasks (completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX idx_tasks_hw ON tasks (created_hw);

CREATE TRIGGER tasks_hw_insert AFTER INSERT ON tasks
BEGIN
    UPDATE tasks SET created_hw = max(new.created_at, coalesce(
        (SELECT p.created_hw FROM tasks p WHERE p.pk < new.pk ORDER BY p.pk DESC LIMIT 1), new.created_at))
    WHERE pk = new.pk;
END;

CREATE TRIGGER tasks_events_delete AFTER DELETE ON tasks
BEGIN
    DELETE FROM events WHERE id BETWEEN old.pk * 4294967296 AND old.pk * 4294967296 + 4294967295;
END;

CREATE TABLE task_counts (
    status TEXT    NOT NULL PRIMARY KEY,
    n      INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO task_counts (status, n) SELECT status, count(*) FROM tasks GROUP BY status;

CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks
BEGIN
    INSERT INTO task_counts (status, n) VALUES (new.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER tasks_count_update AFTER UPDATE OF status ON tasks WHEN old.status IS NOT new.status
BEGIN
    UPDATE task_counts SET n = n - 1 WHERE status = old.status;
    INSERT INTO task_counts (status, n) VALUES (new.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks
BEGIN
    UPDATE task_counts SET n = n - 1 WHERE status = old.status;
END;

CREATE VIRTUAL TABLE tasks_title USING fts5 (
    title_lower,
    content = 'tasks',
    content_rowid = 'pk',
    tokenize = 'trigram case_sensitive 1'
);

INSERT INTO tasks_title (tasks_title) VALUES ('rebuild');

CREATE TRIGGER tasks_title_insert AFTER INSERT ON tasks
BEGIN
    INSERT INTO tasks_title (rowid, title_lower) VALUES (new.pk, new.title_lower);
END;

CREATE TRIGGER tasks_title_update AFTER UPDATE OF title_lower ON tasks
BEGIN
    INSERT INTO tasks_title (tasks_title, rowid, title_lower) VALUES ('delete', old.pk, old.title_lower);
    INSERT INTO tasks_title (rowid, title_lower) VALUES (new.pk, new.title_lower);
END;

CREATE TRIGGER tasks_title_delete AFTER DELETE ON tasks
BEGIN
    INSERT INTO tasks_title (tasks_title, rowid, title_lower) VALUES ('delete', old.pk, old.title_lower);
END;
