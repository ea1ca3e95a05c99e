package dev.agenttasks.benchmarks;

/** The job JobRunr runs in the task-throughput baseline: it does nothing. */
public final class NoopJob {
    private NoopJob() {
    }

    /** Does nothing. */
    public static void run() {
        // a no-op job: the cost measured is JobRunr's bookkeeping around it
    }

    /**
     * Does nothing with the item of a batch-enqueued job.
     *
     * @param item the stream item the job was made from
     */
    public static void run(Integer item) {
        // a no-op job, like run()
    }
}
