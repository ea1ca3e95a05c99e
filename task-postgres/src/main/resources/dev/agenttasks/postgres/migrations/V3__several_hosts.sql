-- agent-tasks PostgreSQL schema, version 3: several hosts on one database. Applied with search_path set to the
-- store's schema.
--
-- Wake-ups: statement-level triggers send one NOTIFY per statement on the channel agent_tasks:<schema> (see
-- NotifyListener.channel), payload '<kind>:<id>,<id>,...' with task ids only ('<kind>:*' when the ids would not
-- fit the 8,000-byte payload limit): 'e' events appended, 'p' tasks queued (PENDING), 'r' requests for a
-- task's owner. A NOTIFY is delivered at commit, so a listener never hears of rows it cannot read yet; the
-- listener reads the store for the truth and keeps polling behind it.

CREATE FUNCTION notify_channel() RETURNS text LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    SELECT CASE WHEN length(current_schema()) <= 51 THEN 'agent_tasks:' || current_schema()
                ELSE 'agent_tasks:' || md5(current_schema()) END
$$;

CREATE FUNCTION notify_ids(kind text, ids text) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF ids IS NOT NULL THEN
        PERFORM pg_notify(notify_channel(), kind || ':' || CASE WHEN octet_length(ids) > 7000 THEN '*' ELSE ids END);
    END IF;
END
$$;

CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM notify_ids('e', (SELECT string_agg(DISTINCT task_id, ',') FROM appended));
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify AFTER INSERT ON events REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE PROCEDURE events_notify();

CREATE FUNCTION tasks_notify() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM notify_ids('p', (SELECT string_agg(DISTINCT id, ',') FROM queued WHERE status = 'PENDING'));
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_insert_notify AFTER INSERT ON tasks REFERENCING NEW TABLE AS queued
    FOR EACH STATEMENT EXECUTE PROCEDURE tasks_notify();
CREATE TRIGGER tasks_update_notify AFTER UPDATE ON tasks REFERENCING NEW TABLE AS queued
    FOR EACH STATEMENT EXECUTE PROCEDURE tasks_notify();

-- hosts and their heartbeats (one row per host, one update per host per interval)
CREATE TABLE hosts (
    id           text COLLATE "C" NOT NULL PRIMARY KEY,
    started_at   bigint NOT NULL,
    heartbeat_at bigint NOT NULL
);

-- claiming: the queue of unowned PENDING tasks in creation order; partial, so it stays as small as the queue
CREATE INDEX tasks_claim_idx ON tasks (created_at, id) WHERE status = 'PENDING' AND owner IS NULL;

-- idempotent creates: one task per key, with the fingerprint of the request that created it
ALTER TABLE tasks ADD COLUMN idempotency_key text COLLATE "C";
ALTER TABLE tasks ADD COLUMN request_fingerprint text;
CREATE UNIQUE INDEX tasks_idempotency_idx ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- requests for the owner of a task (cancel, delete), written first, then the owner is woken
CREATE TABLE requests (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id    text COLLATE "C" NOT NULL,
    kind       text   NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX requests_task_idx ON requests (task_id, id);

CREATE FUNCTION requests_notify() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM notify_ids('r', (SELECT string_agg(DISTINCT task_id, ',') FROM added));
    RETURN NULL;
END
$$;

CREATE TRIGGER requests_notify AFTER INSERT ON requests REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE PROCEDURE requests_notify();
