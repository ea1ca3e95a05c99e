package dev.agenttasks.benchmarks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Runs the bench program's quick mode once (without the JobRunr baseline, whose 5 s poll interval
 * would dominate) so that a broken benchmark shows up in the build. Asserts what was measured, never
 * how fast.
 */
class BenchSmokeTest {

    @Test
    void quickModeMeasuresEveryFigureAgainstItsBaseline(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("table.md");
        Report report = BenchMain.run("quick", "skip=jobrunr", "dir=" + dir.resolve("db"), "out=" + out);

        List<Report.Row> rows = report.rows();
        assertThat(rows).extracting(Report.Row::metric).anySatisfy(m -> assertThat(m).startsWith("Event throughput"))
                .anySatisfy(m -> assertThat(m).startsWith("Task throughput vs raw per-task transactions"))
                .anySatisfy(m -> assertThat(m).startsWith("Task throughput vs the batched-write limit"))
                .anySatisfy(m -> assertThat(m).startsWith("Latency p99"))
                .anySatisfy(m -> assertThat(m).startsWith("Replay ("))
                .anySatisfy(m -> assertThat(m).startsWith("Fan-out"))
                .anySatisfy(m -> assertThat(m).startsWith("Heap per WAITING_FOR_INPUT"))
                .anySatisfy(m -> assertThat(m).startsWith("Threads held"))
                .anySatisfy(m -> assertThat(m).startsWith("Disk: file bytes per byte of event data"))
                .anySatisfy(m -> assertThat(m).startsWith("Running count"))
                .anySatisfy(m -> assertThat(m).startsWith("Title search"));
        for (Report.Row r : rows) {
            if (!r.ratio().equals("-")) {
                assertThat(Double.parseDouble(r.ratio().split(" ")[0])).as(r.metric()).isPositive();
            }
        }
        assertThat(rows).filteredOn(r -> r.metric().startsWith("Threads held"))
                .singleElement().satisfies(r -> assertThat(r.value()).startsWith("0 in a turn"));
        assertThat(rows).filteredOn(r -> r.metric().startsWith("Task throughput vs raw per-task"))
                .singleElement().satisfies(r -> {
                    assertThat(r.value()).containsPattern("\\(\\d+\\.\\d writes per task");
                    assertThat(r.baseline()).contains("3 writes per task");
                });
        assertThat(Files.readString(out)).contains("| metric |", "Event throughput", "Machine:", "Build: ");
        try (var files = Files.list(dir.resolve("db"))) {
            assertThat(files.filter(p -> p.toString().endsWith(".db"))).as("database files are removed").isEmpty();
        }
    }

    @Test
    void severalRunsGiveTheMedianOfEachRatio(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("runs.md");
        BenchMain.run("quick", "only=replay", "runs=2", "dir=" + dir.resolve("db"), "out=" + out);
        String text = Files.readString(out);
        assertThat(text).contains("Summary of 2 full runs", "| Replay (late subscriber", "### Run 1 of 2",
                "### Run 2 of 2");
        String summaryRow = text.lines().filter(l -> l.startsWith("| Replay (late subscriber")).findFirst().orElseThrow();
        String[] cells = summaryRow.split("\\|");
        String[] each = cells[2].trim().split(" / ");
        assertThat(each).hasSize(2);
        double median = (Double.parseDouble(each[0]) + Double.parseDouble(each[1])) / 2;
        assertThat(Double.parseDouble(cells[3].trim())).isCloseTo(median, org.assertj.core.data.Offset.offset(0.011));
    }

    @Test
    void idleRemoteSubscribersAreMeasuredAgainstThePerTaskPoll(@TempDir Path dir) throws Exception {
        Report report = BenchMain.run("quick", "only=remotesubs", "dir=" + dir.resolve("db"));
        assertThat(report.rows()).singleElement().satisfies(r -> {
            assertThat(r.metric()).startsWith("Store reads/s of a host with 100 idle remote subscribers");
            assertThat(r.baseline()).startsWith("per-task poll");
            assertThat(Double.parseDouble(r.ratio())).isPositive();
        });
    }

    @Test
    void targetsAreReadFromTheirText() {
        assertThat(Report.meets(0.95, ">= 0.9")).isTrue();
        assertThat(Report.meets(0.85, ">= 0.9")).isFalse();
        assertThat(Report.meets(1.2, "<= 1.3")).isTrue();
        assertThat(Report.meets(1.4, "<= 1.3")).isFalse();
        assertThat(Report.meets(11, "(>= 10)")).isTrue();
        assertThat(Report.meets(1, "none at all")).isNull();
    }

    @Test
    void unknownArgumentsAreRefused() {
        assertThatThrownBy(() -> BenchMain.run("only=nothing")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown benchmark 'nothing'");
        assertThatThrownBy(() -> BenchMain.run("fast")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown argument 'fast'");
    }
}
