package dev.agenttasks.sqlite;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agenttasks.RecoveryPolicy;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TaskRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kills (SIGKILL) a child JVM that streams 100 tasks over a {@link SqliteTaskStore} at random points
 * mid-stream, then recovers the file in a new manager: every event the child's subscribers were shown
 * is stored with the same seq and payload, seqs are gapless, nothing is left running, and SQLite's
 * integrity check passes.
 */
class CrashTest {

    static final int TASKS = 100;
    static final int EVENTS_PER_TASK = 400;
    static final int ROUNDS = 3;

    @TempDir
    Path dir;

    @Test
    void killedMidStreamLosesNothingAnySubscriberSaw() throws Exception {
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        for (int round = 1; round <= ROUNDS; round++) {
            // kill after the subscribers were shown between 300 events and about a third of the stream
            int killAfter = 300 + random.nextInt(TASKS * EVENTS_PER_TASK / 3);
            runRound(round, killAfter, "seed " + seed + ", round " + round + ", kill after " + killAfter + " lines");
        }
    }

    private void runRound(int round, int killAfter, String what) throws Exception {
        Path db = dir.resolve("crash-" + round + ".db");
        Path shown = dir.resolve("shown-" + round + ".txt");
        Path log = dir.resolve("child-" + round + ".log");
        Process child = startChild(db, shown, log);
        try {
            await(what).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5))
                    .until(() -> !child.isAlive()
                            || Files.exists(Path.of(shown + ".created")) && lineCount(shown) >= killAfter);
            assertThat(child.isAlive()).as("%s: the child was still streaming when killed (log: %s)", what,
                    tail(log)).isTrue();
            child.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no close
            assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }

        List<String[]> lines = completeLines(shown);
        assertThat(lines.size()).as(what).isGreaterThanOrEqualTo(killAfter);
        assertThat(integrityCheck(db)).as(what).isEqualTo("ok");

        ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.USE_LONG_FOR_INTS);
        try (SqliteTaskStore store = SqliteTaskStore.open(db)) {
            List<TaskRecord> interrupted = store.findByStatus(EnumSet.of(TaskStatus.PENDING, TaskStatus.RUNNING));
            assertThat(interrupted).as("%s: the kill left tasks running", what).isNotEmpty();

            try (TaskManager manager = TaskManager.builder().store(store).runner(new CrashChild.Streamer(0))
                    .hostId(CrashChild.HOST_ID).build()) {
                // turns that were running are failed by the default policy; tasks still queued (PENDING) had no
                // turn running and are queued again, so they run to the end on this manager
                await(what).atMost(Duration.ofSeconds(30)).until(() ->
                        store.findByStatus(EnumSet.of(TaskStatus.PENDING, TaskStatus.RUNNING)).isEmpty());
                for (TaskRecord r : interrupted) {
                    TaskRecord now = store.task(r.id()).orElseThrow();
                    if (r.task().status() == TaskStatus.RUNNING) {
                        assertThat(now.task().status()).as("%s: %s", what, r.id()).isEqualTo(TaskStatus.FAILED);
                        assertThat(now.task().error()).isEqualTo(RecoveryPolicy.INTERRUPTED);
                    } else {
                        assertThat(now.task().status()).as("%s: queued %s", what, r.id()).isEqualTo(TaskStatus.COMPLETED);
                    }
                }
                assertThat(manager.list(TaskQuery.all().withLimit(TaskQuery.MAX_LIMIT)).tasks()).hasSize(TASKS);
            }
        }

        // the manager closed the store; read the log with a fresh one
        try (SqliteTaskStore store = SqliteTaskStore.open(db)) {
            Map<String, List<TaskEvent>> logs = new HashMap<>();
            for (TaskRecord r : store.list(TaskQuery.all().withLimit(TaskQuery.MAX_LIMIT), null, TaskQuery.MAX_LIMIT)) {
                List<TaskEvent> events = store.events(r.id(), 0, Integer.MAX_VALUE);
                logs.put(r.id(), events);
                for (int i = 0; i < events.size(); i++) {
                    assertThat(events.get(i).seq()).as("%s: seqs of %s are gapless", what, r.id()).isEqualTo(i + 1L);
                }
                assertThat(r.lastSeq()).isEqualTo(events.size());
                assertThat(events.get(events.size() - 1).isTerminal()).as("%s: %s ends terminal", what, r.id()).isTrue();
            }
            for (String[] line : lines) {
                String taskId = line[0];
                long seq = Long.parseLong(line[1]);
                List<TaskEvent> events = logs.get(taskId);
                assertThat(events).as("%s: task %s of a shown event is stored", what, taskId).isNotNull();
                assertThat(seq).as("%s: shown event %s/%d is stored", what, taskId, seq).isLessThanOrEqualTo(events.size());
                TaskEvent stored = events.get((int) (seq - 1));
                assertThat(stored.type()).isEqualTo(line[2]);
                @SuppressWarnings("unchecked")
                Map<String, Object> data = json.readValue(line[3], LinkedHashMap.class);
                assertThat(stored.data()).as("%s: payload of %s/%d", what, taskId, seq).isEqualTo(data);
            }
        }
        assertThat(integrityCheck(db)).as(what).isEqualTo("ok");
    }

    private Process startChild(Path db, Path shown, Path log) throws IOException {
        String classPath = System.getProperty("java.class.path");
        String modulePath = System.getProperty("jdk.module.path");
        if (modulePath != null && !modulePath.isEmpty()) {
            classPath = classPath + File.pathSeparator + modulePath; // the child runs everything from the class path
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", classPath, CrashChild.class.getName(), db.toString(), shown.toString(),
                String.valueOf(TASKS), String.valueOf(EVENTS_PER_TASK)));
        Files.createFile(shown);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static long lineCount(Path file) throws IOException {
        long n = 0;
        for (byte b : Files.readAllBytes(file)) {
            if (b == '\n') {
                n++;
            }
        }
        return n;
    }

    /** Lines that were written whole (the child may die in the middle of one). */
    private static List<String[]> completeLines(Path file) throws IOException {
        String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        int end = text.lastIndexOf('\n');
        List<String[]> out = new ArrayList<>();
        if (end < 0) {
            return out;
        }
        for (String line : text.substring(0, end).split("\n")) {
            out.add(line.split("\t", 4));
        }
        return out;
    }

    private static String integrityCheck(Path db) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String tail(Path log) {
        try {
            String s = Files.exists(log) ? Files.readString(log) : "";
            return s.length() > 3000 ? s.substring(s.length() - 3000) : s;
        } catch (IOException e) {
            return e.toString();
        }
    }
}
