package dev.agenttasks.benchmarks;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The db-scheduler baseline of the PostgreSQL task-throughput benchmark: no-op one-time tasks scheduled due now
 * (in batches of 500 through {@code scheduleBatch}) on a running scheduler that polls with lock-and-fetch
 * ({@code SELECT … FOR UPDATE SKIP LOCKED} marking the executions picked in one statement), timed from the first
 * schedule call until every task has run.
 */
final class DbSchedulerBaseline {

    /** The outcome of a round. */
    record Result(double tasksPerSecond, long executed, boolean complete) {
    }

    private DbSchedulerBaseline() {
    }

    /** The table db-scheduler expects on PostgreSQL (its documented layout for version 16). */
    static void createTable(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE scheduled_tasks (task_name text NOT NULL, task_instance text NOT NULL, "
                    + "task_data bytea, execution_time timestamptz NOT NULL, picked boolean NOT NULL, picked_by text, "
                    + "last_success timestamptz, last_failure timestamptz, consecutive_failures int, "
                    + "last_heartbeat timestamptz, version bigint NOT NULL, priority smallint, "
                    + "PRIMARY KEY (task_name, task_instance))");
            s.execute("CREATE INDEX execution_time_idx ON scheduled_tasks (execution_time)");
            s.execute("CREATE INDEX last_heartbeat_idx ON scheduled_tasks (last_heartbeat)");
            s.execute("CREATE INDEX priority_execution_time_idx ON scheduled_tasks (priority DESC, execution_time ASC)");
        }
    }

    static Result run(DataSource ds, int tasks, int threads, Duration limit) throws Exception {
        createTable(ds);
        CountDownLatch done = new CountDownLatch(tasks);
        OneTimeTask<Void> noop = Tasks.oneTime("noop").execute((instance, context) -> done.countDown());
        Scheduler scheduler = Scheduler.create(ds, noop)
                .threads(threads)
                .pollUsingLockAndFetch(0.5, 1.0)
                .pollingInterval(Duration.ofSeconds(1))
                .build();
        scheduler.start();
        try {
            long t0 = System.nanoTime();
            Instant now = Instant.now();
            for (int from = 0; from < tasks; from += 500) {
                List<TaskInstance<?>> batch = new ArrayList<>();
                for (int i = from; i < Math.min(tasks, from + 500); i++) {
                    batch.add(noop.instance("t" + i));
                }
                scheduler.scheduleBatch(batch, now);
            }
            boolean complete = done.await(limit.toMillis(), TimeUnit.MILLISECONDS);
            double seconds = (System.nanoTime() - t0) / 1e9;
            long executed = tasks - done.getCount();
            return new Result(executed / seconds, executed, complete);
        } finally {
            scheduler.stop();
        }
    }
}
