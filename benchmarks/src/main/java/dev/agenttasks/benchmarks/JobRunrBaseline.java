package dev.agenttasks.benchmarks;

import org.jobrunr.configuration.JobRunr;
import org.jobrunr.jobs.states.StateName;
import org.jobrunr.scheduling.JobScheduler;
import org.jobrunr.server.BackgroundJobServerConfiguration;
import org.jobrunr.storage.StorageProvider;
import org.jobrunr.storage.sql.sqlite.SqLiteStorageProvider;
import org.jobrunr.utils.mapper.jackson.JacksonJsonMapper;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * JobRunr with its SQLite storage provider in its best configuration found: WAL journal,
 * synchronous=NORMAL, a busy timeout, and a data source whose transactions begin IMMEDIATE (the default
 * DEFERRED transactions fail with SQLITE_BUSY under load). No-op jobs are enqueued with JobRunr's batch
 * API ({@code enqueue(Stream, lambda)}; or one call per job, see {@link #feed()}) and the clock stops when
 * the SUCCEEDED count reaches the job count.
 */
final class JobRunrBaseline {
    private JobRunrBaseline() {
    }

    /** Result: jobs per second and whether all jobs finished before the time limit. */
    record Result(double jobsPerSecond, long succeeded, boolean complete, double enqueueSeconds,
                  double firstSuccessSeconds, double seconds) {
    }

    static SQLiteDataSource dataSource(Path file) {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        config.setBusyTimeout(10_000);
        config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        SQLiteDataSource ds = new SQLiteDataSource(config);
        ds.setUrl("jdbc:sqlite:" + file);
        return ds;
    }

    /**
     * How the jobs are handed to JobRunr: {@code batch} (default) with one {@code enqueue(Stream, lambda)}
     * call, which JobRunr saves in batches (its API for enqueueing many jobs); {@code calls} with one
     * {@code enqueue(lambda)} per job from {@code creators} threads (each saved on its own).
     */
    static String feed() {
        String f = System.getProperty("bench.jobrunr.feed", "batch");
        if (!f.equals("batch") && !f.equals("calls")) {
            throw new IllegalArgumentException("bench.jobrunr.feed must be batch or calls: " + f);
        }
        return f;
    }

    static Result run(Path file, int jobs, int creators, int workers, Duration pollInterval, Duration limit)
            throws Exception {
        return run(new SqLiteStorageProvider(dataSource(file)), jobs, creators, workers, pollInterval, limit, false);
    }

    /**
     * The same on PostgreSQL ({@code PostgresStorageProvider}, JobRunr's {@code DefaultSqlStorageProvider} for
     * PostgreSQL), with batch enqueue: each enqueue thread hands its jobs over as one stream.
     */
    static Result runPostgres(javax.sql.DataSource ds, int jobs, int creators, int workers, Duration pollInterval,
                              Duration limit) throws Exception {
        return run(new org.jobrunr.storage.sql.postgres.PostgresStorageProvider(ds), jobs, creators, workers,
                pollInterval, limit, true);
    }

    private static Result run(StorageProvider storage, int jobs, int creators, int workers, Duration pollInterval,
                              Duration limit, boolean batchEnqueue) throws Exception {
        JobScheduler scheduler = JobRunr.configure()
                .useJsonMapper(new JacksonJsonMapper())
                .useStorageProvider(storage)
                .useBackgroundJobServer(BackgroundJobServerConfiguration.usingStandardBackgroundJobServerConfiguration()
                        .andWorkerCount(workers)
                        .andPollInterval(pollInterval))
                .initialize()
                .getJobScheduler();
        try {
            boolean batch = batchEnqueue || feed().equals("batch");
            int feeders = batch ? 1 : creators;
            long start = System.nanoTime();
            Thread[] threads = new Thread[feeders];
            Throwable[] failure = new Throwable[1];
            for (int t = 0; t < feeders; t++) {
                int from = jobs * t / feeders;
                int to = jobs * (t + 1) / feeders;
                threads[t] = new Thread(() -> {
                    try {
                        if (batch) {
                            scheduler.enqueue(IntStream.range(from, to).boxed(), i -> NoopJob.run(i));
                        } else {
                            for (int i = from; i < to; i++) {
                                scheduler.enqueue(() -> NoopJob.run());
                            }
                        }
                    } catch (Throwable e) {
                        failure[0] = e;
                    }
                }, "jobrunr-enqueue-" + t);
                threads[t].start();
            }
            long deadline = start + limit.toNanos();
            long succeeded = 0;
            long firstSuccess = 0;
            long enqueued = 0;
            while (System.nanoTime() < deadline) {
                if (enqueued == 0 && Arrays.stream(threads).noneMatch(Thread::isAlive)) {
                    enqueued = System.nanoTime();
                }
                succeeded = storage.countJobs(StateName.SUCCEEDED);
                if (succeeded > 0 && firstSuccess == 0) {
                    firstSuccess = System.nanoTime();
                }
                if (succeeded >= jobs) {
                    break;
                }
                Thread.sleep(50);
            }
            long end = System.nanoTime();
            for (Thread t : threads) {
                t.join();
            }
            if (failure[0] != null) {
                throw new IllegalStateException("JobRunr enqueue failed", failure[0]);
            }
            double seconds = (end - start) / 1e9;
            return new Result(succeeded / seconds, succeeded, succeeded >= jobs,
                    enqueued == 0 ? Double.NaN : (enqueued - start) / 1e9,
                    firstSuccess == 0 ? Double.NaN : (firstSuccess - start) / 1e9, seconds);
        } finally {
            JobRunr.destroy();
        }
    }
}
