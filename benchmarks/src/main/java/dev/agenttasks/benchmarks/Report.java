package dev.agenttasks.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Collects the table rows and the per-round notes, and prints them as Markdown. */
final class Report {

    /** One line of the table. {@code met} is null when the row has no target. */
    record Row(String metric, String value, String baseline, String ratio, String target, Boolean met) {
    }

    private final List<Row> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final String mode;
    private final String args;
    private final double loadBefore;

    Report(String mode, String args) {
        this.mode = mode;
        this.args = args;
        this.loadBefore = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    void row(String metric, String value, String baseline, String ratio, String target, Boolean met) {
        rows.add(new Row(metric, value, baseline, ratio, target, met));
        System.out.printf(Locale.ROOT, "  => %s: %s | baseline %s | ratio %s%n", metric, value, baseline, ratio);
    }

    void note(String note) {
        notes.add(note);
        System.out.println("  note: " + note);
    }

    List<Row> rows() {
        return rows;
    }

    static String fmt(double v, String unit) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%,.0f %s", v, unit).trim();
        }
        return String.format(Locale.ROOT, "%,.2f %s", v, unit).trim();
    }

    static String ratio(double r) {
        return Double.isNaN(r) ? "n/a" : String.format(Locale.ROOT, "%.2f", r);
    }

    static String pct(double r) {
        return Double.isNaN(r) ? "n/a" : String.format(Locale.ROOT, "%.0f%%", r * 100);
    }

    String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("| metric | value (median) | baseline (median, same run) | ratio | target | met? |\n");
        b.append("|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            b.append("| ").append(r.metric()).append(" | ").append(r.value()).append(" | ").append(r.baseline())
                    .append(" | ").append(r.ratio()).append(" | ").append(r.target() == null ? "-" : r.target())
                    .append(" | ").append(r.met() == null ? "-" : r.met() ? "yes" : "**no**").append(" |\n");
        }
        b.append('\n');
        b.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs, Java ")
                .append(System.getProperty("java.runtime.version")).append(" (")
                .append(System.getProperty("java.vm.name")).append("), ")
                .append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch"))
                .append(", max heap ").append(Runtime.getRuntime().maxMemory() >> 20).append(" MiB, JVM args ")
                .append(ManagementFactory.getRuntimeMXBean().getInputArguments()).append('\n');
        b.append(String.format(Locale.ROOT, "Mode: %s (args: %s); finished %s; load average %.2f before, %.2f after%n",
                mode, args.isBlank() ? "none" : args, Instant.now(), loadBefore,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));
        b.append("Build: ").append(build()).append('\n');
        b.append("Engine settings overridden: ").append(Env.overrides()).append('\n');
        b.append('\n');
        b.append("Rounds and notes:\n\n");
        for (String n : notes) {
            b.append("- ").append(n).append('\n');
        }
        return b.toString();
    }

    void write(Path out) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(out, markdown(), StandardCharsets.UTF_8);
    }

    /**
     * The build measured: {@code -Dbench.build} if given, otherwise the git commit of the working tree
     * the bench runs in, marked {@code +uncommitted changes} if task-core, task-sqlite or benchmarks differ
     * from it. Found once, at the first call (the start of the run), so a commit made while the bench
     * runs does not change it.
     */
    static synchronized String build() {
        if (build == null) {
            build = findBuild();
        }
        return build;
    }

    private static String build;

    private static String findBuild() {
        String given = System.getProperty("bench.build");
        if (given != null && !given.isBlank()) {
            return given;
        }
        try {
            String commit = git("rev-parse", "--short=12", "HEAD");
            String dirty = git("status", "--porcelain", "--", "../task-core/src", "../task-sqlite/src", "src",
                    "task-core/src", "task-sqlite/src", "benchmarks/src");
            return "git " + commit + (dirty.isBlank() ? "" : " +uncommitted changes");
        } catch (Exception e) {
            return "unknown (" + e.getMessage() + "; pass -Dbench.build=...)";
        }
    }

    private static String git(String... args) throws IOException, InterruptedException {
        java.util.List<String> cmd = new java.util.ArrayList<>();
        cmd.add("git");
        cmd.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.waitFor() != 0) {
            throw new IOException("git " + args[0] + " failed: " + out);
        }
        return out;
    }

    /**
     * The summary of several full runs: per row, the ratio of each run and their median, checked against
     * the row's target; then every run's own table and notes.
     */
    static String summary(List<Report> runs) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "Summary of %d full runs (build %s): the ratio of each run (engine and "
                + "baseline measured in the same run), and their median%n%n", runs.size(), build()));
        b.append("| metric | ratio in each run | median ratio | target | met (median)? |\n");
        b.append("|---|---|---|---|---|\n");
        for (Row first : runs.get(0).rows) {
            Samples ratios = new Samples();
            List<String> each = new ArrayList<>();
            for (Report r : runs) {
                for (Row row : r.rows) {
                    if (row.metric().equals(first.metric())) {
                        each.add(row.ratio().split(" ")[0]);
                        try {
                            ratios.add(Double.parseDouble(row.ratio().split(" ")[0]));
                        } catch (NumberFormatException e) {
                            // a row without a ratio ("-")
                        }
                    }
                }
            }
            String median = ratios.isEmpty() ? "-" : ratio(ratios.median());
            String suffix = first.ratio().contains(" ") ? first.ratio().substring(first.ratio().indexOf(' ')) : "";
            Boolean met = ratios.isEmpty() || first.target() == null ? null : meets(ratios.median(), first.target());
            b.append("| ").append(first.metric()).append(" | ").append(String.join(" / ", each)).append(" | ")
                    .append(median).append(suffix).append(" | ").append(first.target() == null ? "-" : first.target())
                    .append(" | ").append(met == null ? "-" : met ? "yes" : "**no**").append(" |\n");
        }
        for (int i = 0; i < runs.size(); i++) {
            b.append(String.format(Locale.ROOT, "%n### Run %d of %d%n%n", i + 1, runs.size()));
            b.append(runs.get(i).markdown());
        }
        return b.toString();
    }

    /** Checks a ratio against a target written as {@code ">= 0.9"}, {@code "<= 1.3"} or {@code "(>= 10)"}. */
    static Boolean meets(double ratio, String target) {
        String t = target.replace("(", "").replace(")", "").trim();
        try {
            if (t.startsWith(">=")) {
                return ratio >= Double.parseDouble(t.substring(2).trim());
            }
            if (t.startsWith("<=")) {
                return ratio <= Double.parseDouble(t.substring(2).trim());
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return null;
    }
}
