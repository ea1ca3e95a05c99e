package dev.agenttasks.sqlite;

import dev.agenttasks.RecoveryPolicy;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TaskRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two processes on one SQLite file (issue 9): a second host starting on the file leaves the first
 * one's running tasks alone, both serve, and when the first is killed (SIGKILL) mid-turn the second
 * takes its tasks over through the recovery policy within the dead-host timeout plus one interval.
 */
class TwoProcessesTest {
    private static final int TASKS = 3;

    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void aSecondProcessLeavesTheFirstsTasksAloneAndTakesThemOverWhenItIsKilled() throws Exception {
        Path db = dir.resolve("shared.db");
        Process child = start(db);
        try {
            List<String> ids = new ArrayList<>();
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            for (String line = out.readLine(); line != null && !line.equals("READY"); line = out.readLine()) {
                if (line.startsWith("task_")) {
                    ids.add(line.trim());
                }
            }
            assertThat(ids).hasSize(TASKS);
            try (TaskManager second = HostChild.host(db, "parent").build()) {
                for (String id : ids) {
                    await().atMost(Duration.ofSeconds(30)).until(() -> second.get(id).orElseThrow().status() == TaskStatus.RUNNING);
                }
                // the second process started without failing the first one's running tasks, and serves too
                String quick = second.create(TaskRequest.builder("quick").text("hi").build()).id();
                await().atMost(Duration.ofSeconds(30)).until(() -> second.get(quick).orElseThrow().status() == TaskStatus.COMPLETED);
                for (String id : ids) {
                    assertThat(second.get(id).orElseThrow().status()).isEqualTo(TaskStatus.RUNNING);
                }

                child.destroyForcibly(); // SIGKILL mid-turn
                child.waitFor();
                long killed = System.nanoTime();
                for (String id : ids) {
                    await().atMost(Duration.ofSeconds(60)).until(() -> second.get(id).orElseThrow().status() == TaskStatus.FAILED);
                    assertThat(second.get(id).orElseThrow().error()).isEqualTo(RecoveryPolicy.INTERRUPTED);
                }
                System.out.printf("takeover after SIGKILL: %d ms (dead-host timeout 2000 ms, heartbeat 200 ms)%n",
                        (System.nanoTime() - killed) / 1_000_000);
                try (SqliteTaskStore store = SqliteTaskStore.open(db)) {
                    for (String id : ids) {
                        List<TaskEvent> log = store.events(id, 0, 1000);
                        for (int i = 0; i < log.size(); i++) {
                            assertThat(log.get(i).seq()).isEqualTo(i + 1L);
                        }
                        assertThat(log.get(log.size() - 1).isTerminal()).isTrue();
                        TaskRecord r = store.task(id).orElseThrow();
                        assertThat(r.owner()).isNull();
                    }
                }
            }
        } finally {
            child.destroyForcibly();
        }
    }

    private Process start(Path db) throws Exception {
        String classPath = System.getProperty("java.class.path");
        String modulePath = System.getProperty("jdk.module.path");
        if (modulePath != null && !modulePath.isEmpty()) {
            classPath = classPath + File.pathSeparator + modulePath;
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classPath,
                HostChild.class.getName(), db.toString(), "child", String.valueOf(TASKS));
        return new ProcessBuilder(cmd).redirectError(dir.resolve("child.err").toFile()).start();
    }
}
