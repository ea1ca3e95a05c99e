package dev.agenttasks.sqlite;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The write-ahead log is copied into the database file by the store's checkpoint thread, well before the
 * writer connection's own (fallback) threshold, and the thread ends with the store.
 */
class CheckpointerTest {

    static final Instant T0 = Instant.parse("2026-11-30T00:00:00Z");

    @TempDir
    Path dir;

    @Test
    void theLogReachesTheFileWithoutTheWriterCheckpointingAndTheThreadEndsAtClose() throws Exception {
        Path db = dir.resolve("ckpt.db");
        String threadName = Checkpointer.THREAD_NAME + db.getFileName();
        try (SqliteTaskStore store = SqliteTaskStore.open(db)) {
            assertThat(store.writerPragma("wal_autocheckpoint"))
                    .isEqualTo(String.valueOf(Checkpointer.WRITER_AUTOCHECKPOINT_PAGES));
            assertThat(liveThreads(threadName)).isEqualTo(1);
            long before = Files.size(db);
            Task t = new Task("t1", "agent", null, TaskStatus.PENDING, "Checkpoint", null, T0, null, null, null, null,
                    Map.of());
            store.write(List.of(new StoreOp.InsertTask(new TaskRecord(t, Map.of(), 0, null, null, 0))));
            // about 4 MB of events in 40 commits: far below the writer's own threshold (64 MB of log)
            String text = "x".repeat(1_000);
            long seq = 0;
            for (int commit = 0; commit < 40; commit++) {
                List<StoreOp> ops = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    seq++;
                    ops.add(new StoreOp.AppendEvent(new TaskEvent("t1", seq, "text", Map.of("text", text), T0)));
                }
                store.write(ops);
            }
            await().atMost(Duration.ofSeconds(60))
                    .untilAsserted(() -> assertThat(Files.size(db)).isGreaterThan(before + 3_000_000));
            assertThat(store.events("t1", 3_999, 10)).extracting(TaskEvent::seq).containsExactly(4_000L);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> liveThreads(threadName) == 0);
        assertThat(SchemaTest.query(db, "SELECT count(*) FROM events")).containsExactly("4000");
    }

    private static long liveThreads(String name) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name) && t.isAlive()).count();
    }
}
