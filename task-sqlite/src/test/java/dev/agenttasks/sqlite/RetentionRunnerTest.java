package dev.agenttasks.sqlite;

import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.agenttasks.sqlite.SqliteTaskStoreTest.T0;
import static dev.agenttasks.sqlite.SqliteTaskStoreTest.event;
import static dev.agenttasks.sqlite.SqliteTaskStoreTest.insert;
import static dev.agenttasks.sqlite.SqliteTaskStoreTest.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class RetentionRunnerTest {

    @TempDir
    Path dir;

    /** 25 tasks completed at T0 + i minutes, 3 events each, plus one still running. */
    private SqliteTaskStore storeWithFinishedTasks() {
        SqliteTaskStore store = SqliteTaskStore.open(dir.resolve("tasks.db"));
        List<StoreOp> ops = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            ops.add(insert("t" + i, T0));
            for (int s = 1; s <= 3; s++) {
                ops.add(event("t" + i, s, Map.of("s", s)));
            }
        }
        ops.add(insert("running", T0));
        store.write(ops);
        List<StoreOp> finish = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            finish.add(status(store.task("t" + i).orElseThrow(), TaskStatus.CANCELLED, T0.plus(Duration.ofMinutes(i))));
        }
        finish.add(status(store.task("running").orElseThrow(), TaskStatus.RUNNING, T0));
        store.write(finish);
        return store;
    }

    @Test
    void runOnceRemovesEveryOldTerminalTaskInBatches() {
        try (SqliteTaskStore store = storeWithFinishedTasks()) {
            Clock clock = Clock.fixed(T0.plus(Duration.ofMinutes(30)), ZoneOffset.UTC);
            RetentionRunner retention = store.retention(Duration.ofMinutes(20)).batchSize(4).clock(clock).build();

            // cut-off T0 + 10 min: t0..t9 go (10 tasks, in batches of 4, 4, 2)
            assertThat(retention.runOnce()).isEqualTo(10);
            assertThat(retention.runOnce()).isZero();
            List<String> left = new ArrayList<>();
            for (TaskRecord r : store.list(TaskQuery.all().withLimit(100), null, 100)) {
                left.add(r.id());
            }
            assertThat(left).hasSize(16).contains("running", "t10", "t24").doesNotContain("t0", "t9");
            assertThat(store.events("t0", 0, 10)).isEmpty();
            assertThat(store.events("t10", 0, 10)).hasSize(3);
        }
    }

    @Test
    void startRunsOnASchedule() {
        try (SqliteTaskStore store = storeWithFinishedTasks();
             RetentionRunner retention = store.retention(Duration.ofDays(1))
                     .clock(Clock.fixed(T0.plus(Duration.ofDays(2)), ZoneOffset.UTC)).build()
                     .start(Duration.ofMillis(50))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> store.countByStatus().get(TaskStatus.CANCELLED) == null);
            assertThat(store.countByStatus()).containsEntry(TaskStatus.RUNNING, 1L);
            assertThatThrownBy(() -> retention.start(Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void badSettingsAreRejected() {
        try (SqliteTaskStore store = SqliteTaskStore.open(dir.resolve("x.db"))) {
            assertThatThrownBy(() -> store.retention(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.retention(Duration.ofDays(1)).batchSize(0))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.retention(Duration.ofDays(1)).build().start(Duration.ZERO))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
