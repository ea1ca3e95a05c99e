-- agent-tasks PostgreSQL schema, version 2. Applied with search_path set to the store's schema.
--
-- Counts of tasks per status, kept in the same transaction as the writes, so countByStatus() (and the running
-- count built on it) reads a handful of rows instead of every task ever kept. Writers only ever INSERT delta
-- rows (never update a shared counter row), so concurrent writers on several hosts take no row lock on it and
-- cannot deadlock on it; the store folds the deltas into one row per status now and then (a DELETE ... RETURNING
-- feeding an INSERT, in one statement, so each delta is moved exactly once even with concurrent folders).
-- Statement-level triggers with transition tables add one delta row per status touched by a statement (a
-- batch of 100 inserts adds one row). TRUNCATE of tasks is not counted; the store never truncates.
--
-- The title index (pg_trgm GIN on title_lower) is created by the store after this file, because it needs the
-- pg_trgm extension, which may be missing or not creatable by the store's role; then the search stays a scan.

CREATE TABLE task_counts (
    status text   NOT NULL,
    n      bigint NOT NULL
);

CREATE FUNCTION task_counts_on_insert() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO task_counts (status, n) SELECT status, count(*) FROM counted_new GROUP BY status;
    RETURN NULL;
END
$$;

CREATE FUNCTION task_counts_on_update() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO task_counts (status, n)
        SELECT status, sum(d) FROM (SELECT status, 1 AS d FROM counted_new
                                    UNION ALL SELECT status, -1 FROM counted_old) AS x
        GROUP BY status HAVING sum(d) <> 0;
    RETURN NULL;
END
$$;

CREATE FUNCTION task_counts_on_delete() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO task_counts (status, n) SELECT status, -count(*) FROM counted_old GROUP BY status;
    RETURN NULL;
END
$$;

-- writers of a store of version 1 still running wait here until the triggers exist, so none is missed
LOCK TABLE tasks IN SHARE MODE;

CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS counted_new
    FOR EACH STATEMENT EXECUTE PROCEDURE task_counts_on_insert();
CREATE TRIGGER task_counts_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS counted_old NEW TABLE AS counted_new
    FOR EACH STATEMENT EXECUTE PROCEDURE task_counts_on_update();
CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS counted_old
    FOR EACH STATEMENT EXECUTE PROCEDURE task_counts_on_delete();

INSERT INTO task_counts (status, n) SELECT status, count(*) FROM tasks GROUP BY status;
