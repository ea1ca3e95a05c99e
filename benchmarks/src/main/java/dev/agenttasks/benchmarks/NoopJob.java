package dev.agenttasks.benchmarks;

/** The job JobRunr runs in the task-throughput baseline: it does nothing. */
public final class NoopJob {
    private NoopJob() {
    }

    /** Does nothing. */
    public static void run() {
        // a no-op job: the cost measured is JobRunr's bookkeeping around it
    }
}
