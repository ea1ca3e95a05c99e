-- agent-tasks PostgreSQL schema, version 3: several hosts on one database (docs/multi-host.md). Applied with
-- search_path set to the store's schema.
--
-- tasks.owner and tasks.epoch (the fencing token) exist since version 1: a claim or takeover increments epoch;
-- every batch of a turn is fenced on (owner, epoch) with the row locked until it commits.
--
-- Wake-ups: statement-level triggers send NOTIFY on the channel agent_tasks:<schema> (see
-- NotifyListener.channel) with task ids only, '<kind>:<id>,<id>,...', at most 100 ids per notification
-- ('<kind>:*' if those would not fit the 8,000-byte payload limit): 'e' events appended, 'p' tasks queued
-- unclaimed (PENDING, no owner), 'r' requests for a task's owner. NOTIFY is delivered at commit, so a listener
-- never hears of rows it cannot read yet; listeners read the store for the facts and keep polling behind it.

CREATE FUNCTION notify_ids(kind text, ids text[]) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    channel text := CASE WHEN length(current_schema()) <= 51 THEN 'agent_tasks:' || current_schema()
                         ELSE 'agent_tasks:' || md5(current_schema()) END;
    chunk text;
    i int := 1;
BEGIN
    WHILE ids IS NOT NULL AND i <= cardinality(ids) LOOP
        chunk := array_to_string(ids[i:i + 99], ',');
        PERFORM pg_notify(channel, kind || ':' || CASE WHEN octet_length(chunk) > 7900 THEN '*' ELSE chunk END);
        i := i + 100;
    END LOOP;
END
$$;

CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM notify_ids('e', (SELECT array_agg(DISTINCT task_id) FROM appended));
    RETURN NULL;
END
$$;

CREATE TRIGGER events_notify AFTER INSERT ON events REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE PROCEDURE events_notify();

CREATE FUNCTION tasks_notify() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM notify_ids('p', (SELECT array_agg(id) FROM queued WHERE status = 'PENDING' AND owner IS NULL));
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_insert_notify AFTER INSERT ON tasks REFERENCING NEW TABLE AS queued
    FOR EACH STATEMENT EXECUTE PROCEDURE tasks_notify();
CREATE TRIGGER tasks_update_notify AFTER UPDATE ON tasks REFERENCING NEW TABLE AS queued
    FOR EACH STATEMENT EXECUTE PROCEDURE tasks_notify();

-- claiming: the queue of unclaimed PENDING tasks in creation order; partial, so it stays as small as the queue
CREATE INDEX tasks_claim_idx ON tasks (created_at, id) WHERE status = 'PENDING' AND owner IS NULL;

-- hosts and their heartbeats (one row per live host, one update per host per interval; the host's clock)
CREATE TABLE hosts (
    id           text COLLATE "C" NOT NULL PRIMARY KEY,
    heartbeat_at bigint NOT NULL
);

-- requests for the owner of a task (cancel, delete, message): written first, then the owner is woken
CREATE TABLE requests (
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id text COLLATE "C" NOT NULL UNIQUE,
    task_id    text COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    kind       text   NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX requests_task_idx ON requests (task_id);

CREATE FUNCTION requests_notify() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM notify_ids('r', (SELECT array_agg(DISTINCT task_id) FROM added));
    RETURN NULL;
END
$$;

CREATE TRIGGER requests_notify AFTER INSERT ON requests REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE PROCEDURE requests_notify();

-- idempotency keys: unique; the first request's fingerprint and outcome; deleted with their task
CREATE TABLE idempotency_keys (
    key         text COLLATE "C" NOT NULL PRIMARY KEY,
    task_id     text COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    fingerprint text   NOT NULL,
    outcome     text,
    created_at  bigint NOT NULL
);
CREATE INDEX idempotency_keys_task_idx ON idempotency_keys (task_id);
