-- agent-tasks SQLite schema, version 4: the store's own task inserts and status updates keep pk,
-- created_hw, the title index and the per-status counts themselves, in the write transaction, instead of
-- row triggers. A statement that fires a trigger runs with a statement journal, which copies every page
-- it writes (32 KB pages here; FTS5 also flushes its pending terms as a new segment at every savepoint
-- such a journal opens): about two thirds of the writer's CPU time per task in the task throughput
-- benchmark. The store now gives a new task pk = the highest pk + 1 (what SQLite chose) and created_hw
-- = max(created_at, created_hw of that previous task) (what tasks_hw_insert computed), inserts its title
-- into tasks_title, and adds the transaction's count changes to task_counts before it commits.
--
-- The delete triggers stay (deletes are rare; they also keep counts, events and the index right for a
-- row deleted by another connection), and so does tasks_title_update (the store never changes a title,
-- so it never fires for the store's statements). Only rows written through the store are counted and
-- indexed: a task row inserted or a status changed by hand with SQL is not.

DROP TRIGGER tasks_hw_insert;
DROP TRIGGER tasks_count_insert;
DROP TRIGGER tasks_count_update;
DROP TRIGGER tasks_title_insert;

-- start from exact counts (the triggers kept them; a recount makes sure)
DELETE FROM task_counts;
INSERT INTO task_counts (status, n) SELECT status, count(*) FROM tasks GROUP BY status;
