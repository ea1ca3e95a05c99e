package dev.agenttasks.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Runs the end-to-end benchmarks and prints a Markdown table in which every figure is set against a
 * baseline measured in the same run.
 *
 * <p>Arguments (any order): {@code quick} (small sizes, for a smoke test), {@code diag}
 * (also run diagnostic variants of the baselines), {@code only=a,b} or
 * {@code skip=a,b} with the names {@value #ALL} (and {@value #OPTIONAL}, run only when named by {@code only=}), {@code out=FILE} to also write the table to a file, {@code runs=N} to
 * repeat the whole selection N times in this JVM and print a summary with the median of each ratio over
 * the runs (then each run's table),
 * {@code dir=DIR} for the database files (default: a new directory under java.io.tmpdir, deleted at the
 * end). JobRunr options as system properties: {@code bench.jobrunr.jobs}, {@code bench.jobrunr.workers} (a
 * comma-separated list of worker counts, each run in every round; the best is the baseline),
 * {@code bench.jobrunr.feed} ({@code batch}: one {@code enqueue(Stream)} call, the default; {@code calls}: one
 * {@code enqueue} per job from the creator threads), {@code bench.jobrunr.pollSeconds};
 * {@code bench.creators} (threads that create tasks, default 16); {@code bench.build} (the build id printed,
 * default: the git commit).
 */
public final class BenchMain {
    /** The benchmark names, in the order they run. */
    public static final String ALL = "events,tasks,jobrunr,latency,replay,fanout,footprint,disk,queries";
    /**
     * Benchmarks that run only when named with {@code only=}: {@code postgres}, {@code pgqueries} and
     * {@code pghosts} (need a PostgreSQL, see PostgresBench, PgQueryBench and PgHostsBench), and
     * {@code remotesubs} (the store reads of idle remote subscribers on SQLite, see RemoteSubscribersBench).
     */
    public static final String OPTIONAL = "postgres,pgqueries,pghosts,remotesubs";

    private BenchMain() {
    }

    /**
     * Entry point.
     *
     * @param args see the class comment
     * @throws Exception if a benchmark fails
     */
    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        String[] a = args;
        boolean several = Arrays.stream(args).anyMatch(x -> x.matches("(?s).*\\bruns=([2-9]|\\d\\d+).*"));
        Report report = run(a);
        if (!several) {
            System.out.println();
            System.out.println(report.markdown());
        }
    }

    /**
     * Runs the benchmarks the arguments select.
     *
     * @param args see the class comment
     * @return the report
     * @throws Exception if a benchmark fails
     */
    static Report run(String... args) throws Exception {
        List<String> list = Arrays.stream(args).flatMap(a -> Arrays.stream(a.trim().split("\\s+")))
                .filter(a -> !a.isBlank()).map(a -> a.replaceFirst("^--", "")).toList();
        boolean quick = false;
        boolean diag = false;
        int runs = 1;
        Set<String> selected = new LinkedHashSet<>(List.of(ALL.split(",")));
        Path out = null;
        Path dir = null;
        for (String a : list) {
            if (a.equals("quick")) {
                quick = true;
            } else if (a.equals("diag")) {
                diag = true;
            } else if (a.startsWith("runs=")) {
                runs = Integer.parseInt(a.substring(5));
                if (runs < 1) {
                    throw new IllegalArgumentException("runs must be at least 1: " + a);
                }
            } else if (a.startsWith("only=")) {
                selected = names(a.substring(5));
            } else if (a.startsWith("skip=")) {
                selected.removeAll(names(a.substring(5)));
            } else if (a.startsWith("out=")) {
                out = Path.of(a.substring(4));
            } else if (a.startsWith("dir=")) {
                dir = Path.of(a.substring(4));
            } else {
                throw new IllegalArgumentException("unknown argument '" + a + "'; use quick, diag, runs=, only=, skip=, "
                        + "out=, dir= (" + ALL + ")");
            }
        }
        boolean ownDir = dir == null;
        if (ownDir) {
            dir = Files.createTempDirectory("agent-tasks-bench-");
        } else {
            Files.createDirectories(dir);
        }
        List<Report> reports = new java.util.ArrayList<>();
        try {
            for (int run = 1; run <= runs; run++) {
                if (runs > 1) {
                    Env.log("######## full run %d of %d", run, runs);
                }
                Report report = new Report(quick ? "quick" : "full", String.join(" ", list));
                Env env = new Env(quick, dir, report);
                env.diag = diag;
                long start = System.nanoTime();
                Env.log("agent-tasks benchmarks (%s): %s; build %s; database files in %s", quick ? "quick" : "full",
                        selected, Report.build(), dir);
                runOnce(env, selected);
                report.note(String.format(java.util.Locale.ROOT, "Total benchmark time %.0f s",
                        (System.nanoTime() - start) / 1e9));
                reports.add(report);
            }
        } finally {
            if (ownDir) {
                new Env(quick, dir, null).deleteDir();
            }
        }
        String text = runs == 1 ? reports.get(0).markdown() : Report.summary(reports);
        if (runs > 1) {
            System.out.println();
            System.out.println(text);
        }
        if (out != null) {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(out, text, java.nio.charset.StandardCharsets.UTF_8);
            Env.log("table written to %s", out.toAbsolutePath());
        }
        return reports.get(reports.size() - 1);
    }

    private static void runOnce(Env env, Set<String> selected) throws Exception {
        if (selected.contains("events")) {
            new EventThroughputBench(env).run();
        }
        if (selected.contains("tasks") || selected.contains("jobrunr")) {
            new TaskThroughputBench(env, selected.contains("jobrunr")).run();
        }
        if (selected.contains("latency")) {
            new LatencyBench(env).run();
        }
        if (selected.contains("replay")) {
            new ReplayBench(env).run();
        }
        if (selected.contains("fanout")) {
            new EventThroughputBench(env).runFanOut();
        }
        if (selected.contains("footprint")) {
            new FootprintBench(env).run();
        }
        if (selected.contains("disk")) {
            new StorageBench(env).runDisk();
        }
        if (selected.contains("queries")) {
            new StorageBench(env).runQueries();
        }
        if (selected.contains("postgres")) {
            new PostgresBench(env).run();
        }
        if (selected.contains("pgqueries")) {
            new PgQueryBench(env).run();
        }
        if (selected.contains("pghosts")) {
            new PgHostsBench(env).run();
        }
        if (selected.contains("remotesubs")) {
            new RemoteSubscribersBench(env).run();
        }
    }

    private static Set<String> names(String csv) {
        Set<String> known = new java.util.HashSet<>(List.of(ALL.split(",")));
        known.addAll(List.of(OPTIONAL.split(",")));
        Set<String> s = new LinkedHashSet<>();
        for (String n : csv.split(",")) {
            if (!known.contains(n)) {
                throw new IllegalArgumentException("unknown benchmark '" + n + "'; known: " + ALL);
            }
            s.add(n);
        }
        return s;
    }
}
