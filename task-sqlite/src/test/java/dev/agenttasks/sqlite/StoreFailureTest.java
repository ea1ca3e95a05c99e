package dev.agenttasks.sqlite;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.StoreOp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agenttasks.sqlite.SqliteTaskStoreTest.T0;
import static dev.agenttasks.sqlite.SqliteTaskStoreTest.event;
import static dev.agenttasks.sqlite.SqliteTaskStoreTest.insert;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Writes that fail at the SQLite level (lock held beyond the busy timeout, full disk, read-only file
 * system) surface as {@link TaskStoreException} with the cause, apply nothing, and leave the store usable.
 * The file-system tests need root and {@code mount} (a small tmpfs); they are skipped otherwise.
 */
class StoreFailureTest {

    @TempDir
    Path dir;

    @Test
    void aLockHeldBeyondTheBusyTimeoutFailsTheWriteAsTransientWithTheCause() throws Exception {
        Path db = dir.resolve("busy.db");
        try (SqliteTaskStore store = SqliteTaskStore.builder(db).busyTimeout(Duration.ofMillis(100)).build()) {
            store.write(List.of(insert("a", T0), event("a", 1, Map.of())));
            try (Connection other = DriverManager.getConnection("jdbc:sqlite:" + db);
                 Statement s = other.createStatement()) {
                s.execute("BEGIN EXCLUSIVE");

                assertThatThrownBy(() -> store.write(List.of(event("a", 2, Map.of()))))
                        .isInstanceOf(dev.agenttasks.spi.TransientStoreException.class)
                        .hasRootCauseInstanceOf(SQLiteException.class)
                        .satisfies(e -> assertThat(resultCode(e)).isIn(SQLiteErrorCode.SQLITE_BUSY,
                                SQLiteErrorCode.SQLITE_BUSY_SNAPSHOT, SQLiteErrorCode.SQLITE_LOCKED));
                // readers are not blocked by a writer in WAL mode
                assertThat(store.task("a").orElseThrow().lastSeq()).isEqualTo(1);
                s.execute("ROLLBACK");
            }
            store.write(List.of(event("a", 2, Map.of())));
            assertThat(store.task("a").orElseThrow().lastSeq()).isEqualTo(2);
        }
    }

    @Test
    void aFullDiskFailsTheWriteAppliesNothingAndReadsGoOn() throws Exception {
        // 4 MB: the schema's empty tables and indexes take about 1.2 MB on 32 KB pages, twice while the
        // checkpoint thread has copied the log into the file and the log has not yet restarted
        Path mount = TmpfsMount.mountOrSkip(dir.resolve("small"), "4M");
        try {
            try (SqliteTaskStore store = SqliteTaskStore.open(mount.resolve("tasks.db"))) {
                store.write(List.of(insert("a", T0)));
                String payload = "x".repeat(4000);
                long seq = 0;
                TaskStoreException failure = null;
                while (failure == null && seq < 10_000) {
                    long next = seq + 1;
                    try {
                        store.write(List.of(event("a", next, Map.of("p", payload)), event("a", next + 1,
                                Map.of("p", payload))));
                        seq += 2;
                    } catch (TaskStoreException e) {
                        failure = e;
                    }
                }
                assertThat(failure).as("the 4 MiB file system filled up").isNotNull();
                assertThat(seq).as("events written before it did").isPositive();
                assertThat(failure).hasRootCauseInstanceOf(SQLiteException.class);
                assertThat(resultCode(failure)).isIn(SQLiteErrorCode.SQLITE_FULL, SQLiteErrorCode.SQLITE_IOERR_WRITE,
                        SQLiteErrorCode.SQLITE_IOERR);
                assertThat(store.task("a").orElseThrow().lastSeq()).as("the failed batch left nothing")
                        .isEqualTo(seq);
                List<TaskEvent> last = store.events("a", seq - 1, 10);
                assertThat(last).extracting(TaskEvent::seq).containsExactly(seq);
            }
        } finally {
            TmpfsMount.unmount(mount);
        }
    }

    /**
     * Linux refuses to remount a file system read-only while a file on it is open for writing ("mount
     * point is busy"), so the read-only case is a database on a file system that is read-only when the
     * store opens: the open fails with a {@link TaskStoreException} (not a refusal of the file itself).
     */
    @Test
    void aDatabaseOnAReadOnlyFileSystemFailsToOpenWithTheCause() throws Exception {
        Path mount = TmpfsMount.mountOrSkip(dir.resolve("ro"), "4M");
        try {
            Path db = mount.resolve("tasks.db");
            try (SqliteTaskStore store = SqliteTaskStore.open(db)) {
                store.write(List.of(insert("a", T0), event("a", 1, Map.of())));
            }
            byte[] before = Files.readAllBytes(db);
            TmpfsMount.remount(mount, "ro");
            try {
                assertThatThrownBy(() -> SqliteTaskStore.open(db))
                        .isInstanceOf(TaskStoreException.class)
                        .isNotInstanceOf(NotASqliteDatabaseException.class)
                        .isNotInstanceOf(SchemaVersionException.class)
                        .hasRootCauseInstanceOf(SQLiteException.class);
            } finally {
                TmpfsMount.remount(mount, "rw");
            }
            assertThat(Files.readAllBytes(db)).isEqualTo(before);
            try (SqliteTaskStore store = SqliteTaskStore.open(db)) {
                assertThat(store.task("a").orElseThrow().lastSeq()).isEqualTo(1);
            }
        } finally {
            TmpfsMount.unmount(mount);
        }
    }

    static SQLiteErrorCode resultCode(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLiteException) {
                return ((SQLiteException) t).getResultCode();
            }
        }
        return null;
    }
}
